import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from portal.actors import Actor
from portal.models import ApiToken, Membership, Role, Team
from portal.teams import services
from tests.factories import MembershipFactory, UserFactory, make_token

pytestmark = pytest.mark.django_db


def _last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("id")


def test_a_portal_admin_creates_a_team_and_it_is_audited(portal_admin):
    team = services.team_create(actor=Actor(user=portal_admin), slug="team-search", name="Search")

    assert Team.objects.get(slug="team-search").name == "Search"
    event = _last_event("team.create")
    assert event.actor_user_id == portal_admin.pk
    assert event.target_id == str(team.pk)
    assert event.before is None
    assert event.after == {"slug": "team-search", "name": "Search", "description": ""}


@pytest.mark.parametrize("who", ["viewer", "maintainer", "team_admin", "outsider"])
def test_only_portal_admins_create_teams(people, who):
    with pytest.raises(PermissionDenied):
        services.team_create(actor=Actor(user=people[who]), slug="team-search", name="Search")
    assert not Team.objects.filter(slug="team-search").exists()
    assert not AuditEvent.objects.filter(action="team.create").exists()


def test_team_created_is_sent_inside_the_creating_transaction(portal_admin):
    from portal.teams.signals import team_created

    received = []

    def receiver(sender, *, team, actor, **kwargs):
        received.append((sender, team.slug, actor.label))
        if team.slug == "team-broken":
            raise RuntimeError("refused by a receiver")

    team_created.connect(receiver, dispatch_uid="test.team-created")
    try:
        services.team_create(actor=Actor(user=portal_admin), slug="team-search", name="Search")
        with pytest.raises(RuntimeError):
            services.team_create(actor=Actor(user=portal_admin), slug="team-broken", name="Broken")
    finally:
        team_created.disconnect(dispatch_uid="test.team-created")

    assert received == [(Team, "team-search", "root"), (Team, "team-broken", "root")]
    # The broken team's row and audit event rolled back with the receiver's error: it ran inside the transaction.
    assert not Team.objects.filter(slug="team-broken").exists()
    assert not AuditEvent.objects.filter(action="team.create", target_repr__icontains="broken").exists()


def test_a_duplicate_slug_is_a_validation_error_whatever_its_case(portal_admin, orders):
    with pytest.raises(ValidationError):
        services.team_create(actor=Actor(user=portal_admin), slug="TEAM-ORDERS", name="Orders again")


def test_a_team_admin_renames_their_team_with_before_and_after(team_admin, orders):
    services.team_update(actor=Actor(user=team_admin), team=orders, name="Order Management")

    orders.refresh_from_db()
    assert orders.name == "Order Management"
    event = _last_event("team.update")
    assert event.before["name"] == "Orders"
    assert event.after["name"] == "Order Management"


@pytest.mark.parametrize("who", ["viewer", "maintainer", "outsider"])
def test_others_may_not_update_the_team(people, orders, who):
    with pytest.raises(PermissionDenied):
        services.team_update(actor=Actor(user=people[who]), team=orders, name="Hijacked")
    orders.refresh_from_db()
    assert orders.name == "Orders"


def test_an_update_that_changes_nothing_writes_no_event(team_admin, orders):
    services.team_update(actor=Actor(user=team_admin), team=orders, name="Orders")
    assert not AuditEvent.objects.filter(action="team.update").exists()


def test_membership_add_is_audited_and_refuses_a_second_membership(team_admin, orders):
    newcomer = UserFactory(username="nina")
    membership = services.membership_add(actor=Actor(user=team_admin), team=orders, user=newcomer, role=Role.MAINTAINER)

    assert membership.role == Role.MAINTAINER
    event = _last_event("membership.add")
    assert event.before is None
    assert event.after == {"team": "team-orders", "user": "nina", "role": "maintainer"}
    with pytest.raises(ValidationError, match="already a member"):
        services.membership_add(actor=Actor(user=team_admin), team=orders, user=newcomer)


def test_an_admin_of_another_team_may_not_add_members_here(outsider, orders):
    with pytest.raises(PermissionDenied):
        services.membership_add(actor=Actor(user=outsider), team=orders, user=outsider)
    assert not Membership.objects.filter(team=orders, user=outsider).exists()


def test_changing_a_role_records_before_and_after(team_admin, viewer, orders):
    membership = Membership.objects.get(team=orders, user=viewer)
    services.membership_change_role(actor=Actor(user=team_admin), membership=membership, role=Role.MAINTAINER)

    assert Membership.objects.get(pk=membership.pk).role == Role.MAINTAINER
    event = _last_event("membership.change_role")
    assert event.before["role"] == "viewer"
    assert event.after["role"] == "maintainer"


def test_an_unknown_role_is_refused(team_admin, viewer, orders):
    membership = Membership.objects.get(team=orders, user=viewer)
    with pytest.raises(ValidationError, match="not a role"):
        services.membership_change_role(actor=Actor(user=team_admin), membership=membership, role="owner")


def test_removing_a_member_records_what_was_removed(team_admin, viewer, orders):
    membership = Membership.objects.get(team=orders, user=viewer)
    services.membership_remove(actor=Actor(user=team_admin), membership=membership)

    assert not Membership.objects.filter(team=orders, user=viewer).exists()
    event = _last_event("membership.remove")
    assert event.target_id == str(membership.pk)
    assert event.before == {"team": "team-orders", "user": "vera", "role": "viewer"}
    assert event.after is None


def test_the_last_admin_cannot_be_demoted_or_removed(team_admin, orders):
    membership = Membership.objects.get(team=orders, user=team_admin)
    actor = Actor(user=team_admin)

    with pytest.raises(services.LastAdminError, match="last admin of Orders"):
        services.membership_change_role(actor=actor, membership=membership, role=Role.MAINTAINER)
    with pytest.raises(services.LastAdminError, match="make another member admin first"):
        services.membership_remove(actor=actor, membership=membership)
    assert Membership.objects.get(pk=membership.pk).role == Role.ADMIN
    assert not AuditEvent.objects.filter(action__startswith="membership.").exists()


def test_with_a_second_admin_the_first_may_step_down(team_admin, orders):
    MembershipFactory(team=orders, user=UserFactory(username="bea"), role=Role.ADMIN)
    membership = Membership.objects.get(team=orders, user=team_admin)

    services.membership_change_role(actor=Actor(user=team_admin), membership=membership, role=Role.VIEWER)

    assert Membership.objects.get(pk=membership.pk).role == Role.VIEWER


def test_a_team_without_admins_can_still_lose_viewers(portal_admin, orders, viewer):
    # The guard protects the last admin; a team that never had one is managed by portal admins.
    membership = Membership.objects.get(team=orders, user=viewer)
    services.membership_remove(actor=Actor(user=portal_admin), membership=membership)
    assert not Membership.objects.filter(team=orders).exists()


def test_a_token_without_the_write_scope_may_not_manage(team_admin, orders):
    make_token(team_admin, scopes=["read"])
    token = ApiToken.objects.get(user=team_admin)
    with pytest.raises(PermissionDenied):
        services.membership_add(
            actor=Actor(user=team_admin, token=token), team=orders, user=UserFactory(username="nina")
        )


def test_a_system_actor_acts_without_a_user_and_is_labelled_in_the_audit(orders):
    newcomer = UserFactory(username="nina")
    services.membership_add(actor=Actor.for_system("test"), team=orders, user=newcomer)

    event = _last_event("membership.add")
    assert event.actor_kind == "system"
    assert event.actor_label == "system:test"
