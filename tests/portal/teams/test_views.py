import pytest
from django.urls import reverse

from audit.models import AuditEvent
from portal.models import Membership, Role
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

SIGNED_IN = ["viewer", "maintainer", "team_admin", "portal_admin", "outsider"]
MAY_MANAGE_ORDERS = {"team_admin", "portal_admin"}


def _login_redirect(response, path):
    return response.status_code == 302 and response["Location"] == f"{reverse('login')}?next={path}"


# --- list ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", SIGNED_IN)
def test_every_signed_in_role_sees_the_team_list(client_as, orders, payments, who):
    response = client_as(who).get(reverse("teams:list"))

    assert response.status_code == 200
    assert [team.slug for team in response.context["teams"]] == ["team-orders", "team-payments"]


def test_the_list_shows_member_counts_and_the_viewers_own_role(client_as, people):
    response = client_as("maintainer").get(reverse("teams:list"))

    rows = {team.slug: (team.member_count, team.my_role) for team in response.context["teams"]}
    assert rows == {"team-orders": (3, "maintainer"), "team-payments": (1, None)}
    assert b'href="/teams/team-orders/"' in response.content


def test_anonymous_visitors_are_sent_to_sign_in(client_as):
    response = client_as("anonymous").get(reverse("teams:list"))
    assert _login_redirect(response, "/teams/")


def test_the_list_page_costs_the_same_queries_for_many_teams_and_members(client, django_assert_num_queries):
    me = UserFactory(username="me")
    MembershipFactory(user=me, team=TeamFactory(slug="team-a", name="A"))
    client.force_login(me)

    def page_queries():
        # 1 session, 2 user, 3 the user's memberships joined with their teams (base layout's user menu),
        # 4 teams with their member count and my role as subqueries.
        with django_assert_num_queries(4):
            response = client.get(reverse("teams:list"))
        return response

    assert len(page_queries().context["teams"]) == 1
    for n in range(20):
        team = TeamFactory(slug=f"team-x{n}", name=f"X{n}")
        for m in range(3):
            MembershipFactory(team=team, user=UserFactory(username=f"u{n}-{m}"))
    assert len(page_queries().context["teams"]) == 21


# --- detail -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", SIGNED_IN)
def test_every_signed_in_role_sees_a_team_and_only_managers_get_the_forms(client_as, people, who):
    response = client_as(who).get(reverse("teams:detail", args=["team-orders"]))

    assert response.status_code == 200
    members = [(m.user.username, m.role) for m in response.context["team"].members_brief]
    assert members == [("ada", "admin"), ("max", "maintainer"), ("vera", "viewer")]
    assert response.context["may_manage"] is (who in MAY_MANAGE_ORDERS)
    assert (b'data-testid="member-add-form"' in response.content) is (who in MAY_MANAGE_ORDERS)


def test_an_unknown_team_is_a_404(client_as, people):
    assert client_as("viewer").get(reverse("teams:detail", args=["team-nope"])).status_code == 404


def test_the_team_page_costs_the_same_queries_for_many_members(client, orders, django_assert_num_queries):
    admin = MembershipFactory(team=orders, user=UserFactory(username="boss"), role=Role.ADMIN).user
    client.force_login(admin)

    def page():
        # 1 session, 2 user, 3 team with counts, 4 its memberships with users; then the panels' contexts, in
        # page order (portal.teams.panels): 5 the team's scorecard rollups, 6 its services' AWS resources
        # (observability's alarm card; their alarms are not read when there are none), 7 its open saga alerts
        # (counted only when there are more than are listed), 8 can(): the viewer's role (members), 9 the
        # catalog entities it owns (the first page; counted only when there are more); 10 its newest audit
        # events (the audit panel); 11 the user menu's memberships joined with their teams.
        with django_assert_num_queries(11):
            return client.get(reverse("teams:detail", args=["team-orders"]))

    assert len(page().context["team"].members_brief) == 1
    for n in range(15):
        MembershipFactory(team=orders, user=UserFactory(username=f"m{n}"))
    assert len(page().context["team"].members_brief) == 16


# --- writes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [*SIGNED_IN, "anonymous"])
def test_adding_a_member_is_for_team_admins_and_portal_admins(client_as, people, orders, who):
    UserFactory(username="nina")
    path = reverse("teams:member_add", args=["team-orders"])
    response = client_as(who).post(path, {"username": "nina", "role": "maintainer"})

    added = Membership.objects.filter(team=orders, user__username="nina").first()
    if who in MAY_MANAGE_ORDERS:
        assert response.status_code == 302
        assert response["Location"] == reverse("teams:detail", args=["team-orders"])
        assert added.role == Role.MAINTAINER
    elif who == "anonymous":
        assert _login_redirect(response, path)
        assert added is None
    else:
        assert response.status_code == 403
        assert b"403" in response.content and b"not allow this" in response.content
        assert added is None


@pytest.mark.parametrize("who", [*SIGNED_IN, "anonymous"])
def test_changing_a_role_is_for_team_admins_and_portal_admins(client_as, people, orders, who):
    path = reverse("teams:member_role", args=["team-orders", "vera"])
    response = client_as(who).post(path, {"role": "admin"})

    role = Membership.objects.get(team=orders, user__username="vera").role
    if who in MAY_MANAGE_ORDERS:
        assert response.status_code == 302
        assert role == Role.ADMIN
        assert AuditEvent.objects.get(action="membership.change_role").after["role"] == "admin"
    else:
        assert response.status_code == (302 if who == "anonymous" else 403)
        assert role == Role.VIEWER


@pytest.mark.parametrize("who", [*SIGNED_IN, "anonymous"])
def test_removing_a_member_is_for_team_admins_and_portal_admins(client_as, people, orders, who):
    path = reverse("teams:member_remove", args=["team-orders", "max"])
    response = client_as(who).post(path)

    still_there = Membership.objects.filter(team=orders, user__username="max").exists()
    if who in MAY_MANAGE_ORDERS:
        assert response.status_code == 302
        assert not still_there
    else:
        assert response.status_code == (302 if who == "anonymous" else 403)
        assert still_there


def test_an_admin_of_another_team_cannot_touch_this_teams_members(client_as, people, orders):
    # otto admins team-payments; team-orders is not his.
    client = client_as("outsider")
    assert client.post(reverse("teams:member_role", args=["team-orders", "ada"]), {"role": "viewer"}).status_code == 403
    assert client.post(reverse("teams:member_remove", args=["team-orders", "ada"])).status_code == 403
    assert Membership.objects.get(team=orders, user__username="ada").role == Role.ADMIN


def test_a_member_of_another_team_is_not_reachable_through_this_team(client_as, people, payments):
    response = client_as("team_admin").post(reverse("teams:member_remove", args=["team-orders", "otto"]))
    assert response.status_code == 404
    assert Membership.objects.filter(team=payments, user__username="otto").exists()


def test_demoting_the_last_admin_is_refused_with_a_clear_message(client_as, people, orders):
    response = client_as("team_admin").post(
        reverse("teams:member_role", args=["team-orders", "ada"]), {"role": "viewer"}, follow=True
    )

    assert "ada is the last admin of Orders" in response.content.decode()
    assert Membership.objects.get(team=orders, user__username="ada").role == Role.ADMIN


def test_an_unknown_username_is_reported(client_as, people):
    response = client_as("team_admin").post(
        reverse("teams:member_add", args=["team-orders"]), {"username": "ghost", "role": "viewer"}, follow=True
    )
    assert "Username: There is no active user named &#x27;ghost&#x27;." in response.content.decode()


def test_htmx_gets_the_members_table_alone(client_as, people, orders):
    UserFactory(username="nina")
    response = client_as("team_admin").post(
        reverse("teams:member_add", args=["team-orders"]), {"username": "nina"}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="members"')
    assert "Added nina as viewer." in html
    assert 'data-member="nina"' in html


def test_htmx_shows_a_refusal_in_the_members_table(client_as, people):
    response = client_as("team_admin").post(
        reverse("teams:member_remove", args=["team-orders", "ada"]), HTTP_HX_REQUEST="true"
    )
    assert "last admin of Orders" in response.content.decode()


def test_get_on_a_write_url_is_not_allowed(client_as, people):
    assert client_as("team_admin").get(reverse("teams:member_add", args=["team-orders"])).status_code == 405


# --- home and menu ------------------------------------------------------------------------------------------


def test_home_shows_the_users_teams_as_cards_and_the_menu_links_to_teams(client_as, people, payments):
    MembershipFactory(team=payments, user=people["maintainer"], role=Role.VIEWER)
    html = client_as("maintainer").get(reverse("home")).content.decode()

    assert 'href="/teams/team-orders/"' in html
    assert 'href="/teams/team-payments/"' in html
    assert 'data-testid="menu-teams"' in html


def test_home_invites_someone_without_a_team_to_browse(client_as, people):
    html = client_as("portal_admin").get(reverse("home")).content.decode()
    assert "You are not in a team yet." in html
