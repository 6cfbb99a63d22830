import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from portal.models import Membership, Role
from tests.factories import MembershipFactory, TeamFactory, UserFactory, make_token

pytestmark = pytest.mark.django_db

SIGNED_IN = ["viewer", "maintainer", "team_admin", "portal_admin", "outsider"]
MAY_MANAGE_ORDERS = {"team_admin", "portal_admin"}
MEMBERS = "/api/v1/teams/team-orders/members/"


@pytest.fixture
def api_as(people):
    """An API client authenticated with a read+write token of one of `people` (none for "anonymous")."""

    def make(who: str, scopes=("read", "write")) -> APIClient:
        client = APIClient()
        if people[who] is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(people[who], scopes=scopes)[1]}")
        return client

    return make


# --- reads --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", SIGNED_IN)
def test_every_signed_in_role_lists_teams_with_brief_members(api_as, people, who):
    response = api_as(who).get("/api/v1/teams/")

    assert response.status_code == 200
    orders, payments = response.json()["results"]
    assert orders["slug"] == "team-orders"
    assert orders["member_count"] == 3
    assert orders["members"] == [
        {"username": "ada", "role": "admin"},
        {"username": "max", "role": "maintainer"},
        {"username": "vera", "role": "viewer"},
    ]
    assert orders["url"] == "http://testserver/api/v1/teams/team-orders/"
    assert payments["members"] == [{"username": "otto", "role": "admin"}]


def test_my_role_is_the_callers_own(api_as, people):
    teams = {t["slug"]: t["my_role"] for t in api_as("outsider").get("/api/v1/teams/").json()["results"]}
    assert teams == {"team-orders": None, "team-payments": "admin"}


def test_anonymous_callers_get_401(api_as, people):
    response = api_as("anonymous").get("/api/v1/teams/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_retrieve_one_team_and_404_for_an_unknown_one(api_as, people):
    client = api_as("viewer")
    body = client.get("/api/v1/teams/team-orders/").json()
    assert body["name"] == "Orders"
    assert body["my_role"] == "viewer"
    assert client.get("/api/v1/teams/team-nope/").status_code == 404


def test_the_list_pages_with_a_cursor(api_as, people):
    client = api_as("viewer")
    first = client.get("/api/v1/teams/?limit=1").json()
    assert [t["slug"] for t in first["results"]] == ["team-orders"]
    second = client.get(first["next"]).json()
    assert [t["slug"] for t in second["results"]] == ["team-payments"]


def test_the_list_costs_the_same_queries_for_many_teams_and_members(django_assert_num_queries):
    me = UserFactory(username="me")
    client = APIClient()
    client.force_authenticate(me)

    def listed():
        # 1 the page of teams with member count and my role as subqueries, 2 their memberships with users.
        # (Authentication is forced here, so no session or token lookup.)
        with django_assert_num_queries(2):
            return client.get("/api/v1/teams/").json()["results"]

    TeamFactory(slug="team-a", name="A")
    assert len(listed()) == 1
    for n in range(20):
        team = TeamFactory(slug=f"team-x{n:02}", name=f"X{n}")
        for m in range(3):
            MembershipFactory(team=team, user=UserFactory(username=f"u{n}-{m}"))
    teams = listed()
    assert len(teams) == 21
    assert all(len(t["members"]) == 3 for t in teams[1:])


def test_with_a_token_the_list_adds_only_the_token_lookup(api_as, people, django_assert_num_queries):
    client = api_as("viewer", scopes=["read"])
    client.get("/api/v1/teams/")  # stamps last_used_at, which is written at most once a minute
    # 1 token with its user, 2 the page of teams, 3 their memberships with users.
    with django_assert_num_queries(3):
        assert client.get("/api/v1/teams/").status_code == 200


# --- writes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", SIGNED_IN)
def test_adding_a_member(api_as, people, orders, who):
    UserFactory(username="nina")
    response = api_as(who).post(MEMBERS, {"username": "nina", "role": "maintainer"}, format="json")

    added = Membership.objects.filter(team=orders, user__username="nina").first()
    if who in MAY_MANAGE_ORDERS:
        assert response.status_code == 201
        assert response.json() == {"username": "nina", "role": "maintainer"}
        assert added.role == Role.MAINTAINER
        event = AuditEvent.objects.get(action="membership.add")
        assert event.actor_kind == "token"
        assert event.after == {"team": "team-orders", "user": "nina", "role": "maintainer"}
    else:
        assert response.status_code == 403
        assert added is None


@pytest.mark.parametrize("who", SIGNED_IN)
def test_changing_a_role(api_as, people, orders, who):
    response = api_as(who).patch(f"{MEMBERS}vera/", {"role": "maintainer"}, format="json")

    role = Membership.objects.get(team=orders, user__username="vera").role
    if who in MAY_MANAGE_ORDERS:
        assert response.status_code == 200
        assert response.json() == {"username": "vera", "role": "maintainer"}
        event = AuditEvent.objects.get(action="membership.change_role")
        assert (event.before["role"], event.after["role"]) == ("viewer", "maintainer")
    else:
        assert response.status_code == 403
        assert role == Role.VIEWER


@pytest.mark.parametrize("who", SIGNED_IN)
def test_removing_a_member(api_as, people, orders, who):
    response = api_as(who).delete(f"{MEMBERS}max/")

    still_there = Membership.objects.filter(team=orders, user__username="max").exists()
    if who in MAY_MANAGE_ORDERS:
        assert response.status_code == 204
        assert not still_there
        assert AuditEvent.objects.get(action="membership.remove").before["user"] == "max"
    else:
        assert response.status_code == 403
        assert still_there


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", MEMBERS, {"username": "vera"}),
        ("patch", f"{MEMBERS}vera/", {"role": "admin"}),
        ("delete", f"{MEMBERS}vera/", None),
    ],
)
def test_anonymous_writes_get_401(api_as, people, method, path, body):
    response = getattr(api_as("anonymous"), method)(path, body, format="json")
    assert response.status_code == 401
    assert Membership.objects.get(user__username="vera").role == Role.VIEWER


def test_a_read_only_token_may_not_write_even_for_a_team_admin(api_as, people, orders):
    response = api_as("team_admin", scopes=["read"]).delete(f"{MEMBERS}max/")
    assert response.status_code == 403
    assert response.json()["code"] == "scope_missing"
    assert Membership.objects.filter(team=orders, user__username="max").exists()


def test_a_member_of_another_team_is_a_404_through_this_teams_url(api_as, people, payments):
    # ada admins team-orders; otto is in team-payments, so he is not reachable under team-orders.
    response = api_as("team_admin").delete(f"{MEMBERS}otto/")
    assert response.status_code == 404
    assert Membership.objects.filter(team=payments, user__username="otto").exists()


def test_the_last_admin_is_a_409_with_the_reason(api_as, people, orders):
    client = api_as("team_admin")

    demoted = client.patch(f"{MEMBERS}ada/", {"role": "viewer"}, format="json")
    removed = client.delete(f"{MEMBERS}ada/")

    for response in (demoted, removed):
        assert response.status_code == 409
        assert response.json()["code"] == "last_admin"
        assert "ada is the last admin of Orders" in response.json()["detail"]
    assert Membership.objects.get(team=orders, user__username="ada").role == Role.ADMIN


def test_bad_input_is_a_400(api_as, people):
    client = api_as("team_admin")
    assert client.post(MEMBERS, {"username": "ghost"}, format="json").status_code == 400
    assert client.post(MEMBERS, {"username": "vera"}, format="json").json()["errors"] == {
        "non_field_errors": ["vera is already a member of Orders."]
    }
    assert client.patch(f"{MEMBERS}vera/", {"role": "owner"}, format="json").status_code == 400
