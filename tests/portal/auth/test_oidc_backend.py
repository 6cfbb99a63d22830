"""The SSO backend's claim mapping, called directly: no provider, no network."""

import pytest

from audit.models import AuditEvent
from portal.models import Membership, Role
from portal.oidc import MeridianOIDCBackend
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def backend(settings):
    settings.OIDC_RP_CLIENT_ID = "meridian"
    settings.OIDC_RP_CLIENT_SECRET = "s3cret"
    settings.OIDC_OP_TOKEN_ENDPOINT = "https://idp.example/token"
    settings.OIDC_OP_USER_ENDPOINT = "https://idp.example/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://idp.example/jwks"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_TEAMS_CLAIM = "groups"
    return MeridianOIDCBackend()


@pytest.fixture
def teams(db):
    return TeamFactory(slug="team-orders", name="Orders"), TeamFactory(slug="team-payments", name="Payments")


def test_claims_without_an_email_or_with_an_unverified_one_are_refused(backend):
    assert backend.verify_claims({"email": "maria@example.com"}) is True
    assert backend.verify_claims({"email": "maria@example.com", "email_verified": True}) is True
    assert backend.verify_claims({"email": "maria@example.com", "email_verified": False}) is False
    assert backend.verify_claims({"preferred_username": "maria"}) is False


def test_an_existing_user_is_found_by_email_whatever_its_case(backend):
    maria = UserFactory(username="maria", email="Maria@Example.com")
    UserFactory(username="other", email="other@example.com")

    assert list(backend.filter_users_by_claims({"email": "maria@example.COM"})) == [maria]


def test_a_matching_username_alone_never_links_to_an_account(backend):
    UserFactory(username="admin", email="admin@meridian.example", is_superuser=True)
    claims = {"email": "someone@idp.example", "preferred_username": "admin"}

    assert not backend.filter_users_by_claims(claims).exists()
    user = backend.create_user(claims)
    assert user.username == "admin-2"
    assert not user.is_superuser


def test_a_new_user_takes_preferred_username_and_names_and_has_no_local_password(backend, teams):
    claims = {
        "email": "maria@example.com",
        "preferred_username": "maria.rossi",
        "given_name": "Maria",
        "family_name": "Rossi",
    }
    user = backend.create_user(claims)

    assert (user.username, user.email, user.get_full_name()) == ("maria.rossi", "maria@example.com", "Maria Rossi")
    assert not user.has_usable_password()


def test_a_new_user_is_audited_like_every_user_creation(backend, teams):
    user = backend.create_user({"email": "maria@example.com", "preferred_username": "maria", "groups": ["team-orders"]})

    event = AuditEvent.objects.get(action="user.create")
    assert (event.actor_kind, event.actor_label) == ("system", "system:oidc:sign_in")
    assert (event.target_type, event.target_id) == ("portal.user", str(user.pk))
    assert event.before is None
    assert event.after == {"username": "maria", "email": "maria@example.com", "portal_admin": False}
    # Signing in again changes the user's name, not its existence: no second event.
    backend.update_user(user, {"email": "maria@example.com", "given_name": "Maria"})
    assert AuditEvent.objects.filter(action="user.create").count() == 1


def test_without_a_usable_preferred_username_the_email_names_the_user(backend):
    user = backend.create_user({"email": "jo@example.com", "preferred_username": "jo rossi!"})
    assert user.username == "jo@example.com"


def test_the_teams_claim_makes_the_user_a_viewer_of_known_teams(backend, teams):
    user = backend.create_user({"email": "maria@example.com", "groups": ["/team-orders", "TEAM-PAYMENTS", "staff"]})

    roles = dict(Membership.objects.filter(user=user).values_list("team__slug", "role"))
    assert roles == {"team-orders": Role.VIEWER, "team-payments": Role.VIEWER}
    events = AuditEvent.objects.filter(action="membership.add")
    assert {e.actor_label for e in events} == {"system:oidc:teams_claim"}


def test_signing_in_again_adds_new_teams_but_never_demotes_or_removes(backend, teams):
    orders, _payments = teams
    maria = UserFactory(username="maria", email="maria@example.com", first_name="M")
    MembershipFactory(user=maria, team=orders, role=Role.ADMIN)
    other = TeamFactory(slug="team-platform", name="Platform")
    MembershipFactory(user=maria, team=other, role=Role.MAINTAINER)

    backend.update_user(
        maria, {"email": "maria@example.com", "given_name": "Maria", "groups": ["team-orders", "team-payments"]}
    )

    roles = dict(Membership.objects.filter(user=maria).values_list("team__slug", "role"))
    assert roles == {"team-orders": Role.ADMIN, "team-payments": Role.VIEWER, "team-platform": Role.MAINTAINER}
    maria.refresh_from_db()
    assert maria.first_name == "Maria"


def test_without_a_teams_claim_setting_groups_are_ignored(backend, teams, settings):
    settings.OIDC_TEAMS_CLAIM = ""
    user = backend.create_user({"email": "maria@example.com", "groups": ["team-orders"]})
    assert not Membership.objects.filter(user=user).exists()
