"""The shared API base: restricted querysets, object permissions through can(), writes in one transaction,
integrity errors as 409, cursor pagination that refuses unordered querysets, sparse fieldsets and the query
parameters each action takes."""

import logging

import pytest

from portal.api.pagination import UnorderedQuerysetError
from portal.models import Membership, Role, Team
from tests.factories import bearer, make_token

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.portal.api.urls_base")]

TEAMS = "/api/test/teams/"


@pytest.fixture
def orders(db):
    return Team.objects.create(slug="team-orders", name="Orders")


def _member(user, team, role):
    Membership.objects.create(user=user, team=team, role=role)


def test_portal_admin_creates(client, root):
    client.force_login(root)
    response = client.post(TEAMS, {"slug": "team-new", "name": "New"}, content_type="application/json")
    assert response.status_code == 201
    assert Team.objects.filter(slug="team-new").exists()


def test_create_is_checked_on_the_result_and_rolled_back_when_refused(alice_client):
    response = alice_client.post(TEAMS, {"slug": "team-new", "name": "New"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "object_permission"
    assert not Team.objects.filter(slug="team-new").exists(), "the row written before the check is rolled back"


def test_integrity_error_is_409_and_nothing_is_written(client, root, orders):
    client.force_login(root)
    # Passes the serializer's exact-match unique check, fails the database's case-insensitive one.
    response = client.post(TEAMS, {"slug": "TEAM-ORDERS", "name": "Dup"}, content_type="application/json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert "team_slug_ci_unique" not in body["detail"], "database internals stay in the log"
    assert body["request_id"]
    assert list(Team.objects.values_list("slug", flat=True)) == ["team-orders"]


@pytest.mark.parametrize(("role", "status"), [(Role.MAINTAINER, 200), (Role.VIEWER, 403), (None, 403)])
def test_change_follows_the_team_role(alice_client, alice, orders, role, status):
    if role:
        _member(alice, orders, role)
    response = alice_client.patch(f"{TEAMS}{orders.pk}/", {"name": "Renamed"}, content_type="application/json")
    assert response.status_code == status
    orders.refresh_from_db()
    assert (orders.name == "Renamed") is (status == 200)
    if status == 403:
        assert response.json()["detail"] == "You may not change this team."


def test_token_scope_limits_object_permission(client, alice, orders):
    _member(alice, orders, Role.MAINTAINER)
    _, read_only = make_token(alice, scopes=["read"])
    _, writer = make_token(alice, scopes=["read", "write"])
    url = f"{TEAMS}{orders.pk}/"
    assert client.patch(url, {"name": "X"}, content_type="application/json", **bearer(read_only)).status_code == 403
    assert client.patch(url, {"name": "Y"}, content_type="application/json", **bearer(writer)).status_code == 200


def test_non_member_cannot_delete(alice_client, orders):
    assert alice_client.delete(f"{TEAMS}{orders.pk}/").status_code == 403
    assert Team.objects.filter(pk=orders.pk).exists()


def test_restricted_queryset_hides_other_rows(alice_client, alice, orders):
    mine = Team.objects.create(slug="team-mine", name="Mine")
    _member(alice, mine, Role.VIEWER)
    assert [t["slug"] for t in alice_client.get("/api/test/my-teams/").json()["results"]] == ["team-mine"]
    assert alice_client.get(f"/api/test/my-teams/{orders.pk}/").status_code == 404


def test_cursor_pages_follow_the_querysets_order(alice_client):
    Team.objects.bulk_create([Team(slug=f"team-{n:02}", name=str(n)) for n in range(55)])
    first = alice_client.get(TEAMS).json()
    assert len(first["results"]) == 50, "default page size"
    assert first["previous"] is None

    seen, url = [], f"{TEAMS}?limit=20"
    while url:
        page = alice_client.get(url).json()
        seen += [t["slug"] for t in page["results"]]
        url = page["next"]
    assert seen == [f"team-{n:02}" for n in range(55)]

    # Refused, as the entities list refuses it and the schema's maximum says: a silent cap reads as "that is all".
    too_many = alice_client.get(f"{TEAMS}?limit=5000")
    assert too_many.status_code == 400
    assert too_many.json()["errors"]["limit"] == ["Must be a whole number from 1 to 1000."]


def test_unordered_queryset_is_refused_outside_production(alice_client, orders):
    with pytest.raises(UnorderedQuerysetError, match="UnorderedTeamViewSet paginates an unordered queryset"):
        alice_client.get("/api/test/unordered-teams/")


def test_unordered_queryset_in_production_is_logged_and_ordered_by_pk(alice_client, settings, caplog):
    settings.PRODUCTION = True
    Team.objects.bulk_create([Team(slug="team-b", name="B"), Team(slug="team-a", name="A")])
    with caplog.at_level(logging.ERROR, logger="portal.api.pagination"):
        body = alice_client.get("/api/test/unordered-teams/").json()
    assert [t["slug"] for t in body["results"]] == ["team-b", "team-a"]
    assert "unordered queryset" in caplog.text


def test_ordering_through_a_relation_is_refused(alice_client):
    with pytest.raises(UnorderedQuerysetError, match="plain field names"):
        alice_client.get("/api/test/memberships/")


def test_fields_returns_only_the_named_top_level_fields(alice_client, orders):
    body = alice_client.get(f"{TEAMS}?fields=slug,name").json()
    assert body["results"] == [{"slug": "team-orders", "name": "Orders"}]
    assert alice_client.get(f"{TEAMS}{orders.pk}/?fields=id").json() == {"id": orders.pk}


@pytest.mark.parametrize("fields", ["slug,size", ""])
def test_an_unknown_field_is_a_400_naming_the_choices_before_any_query(
    alice_client, orders, fields, django_assert_num_queries
):
    # 1 session, 2 user: nothing of the teams.
    with django_assert_num_queries(2):
        response = alice_client.get(f"{TEAMS}?fields={fields}")
    assert response.status_code == 400
    assert response.json()["errors"]["fields"] == [
        f"Unknown field(s) {'size' if fields else '(none given)'}; choose from id, slug, name."
    ]
    assert alice_client.get(f"{TEAMS}{orders.pk}/?fields=size").status_code == 400


def test_fields_applies_only_to_the_actions_that_offer_it(client, root):
    client.force_login(root)
    response = client.post(
        f"{TEAMS}?fields=bogus", {"slug": "team-new", "name": "New"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert set(response.json()) == {"id", "slug", "name"}
    assert client.get(f"/api/test/strict-teams/{Team.objects.get().pk}/?fields=bogus").status_code == 200


def test_an_action_refuses_parameters_it_does_not_take_before_any_query(alice_client, django_assert_num_queries):
    with django_assert_num_queries(2):  # session, user
        response = alice_client.get("/api/test/strict-teams/?limt=5&fields=slug")
    assert response.status_code == 400
    assert response.json()["errors"] == {"limt": ["Unknown parameter; this endpoint takes cursor, fields, limit."]}
    assert alice_client.get("/api/test/strict-teams/?limit=5&fields=slug").status_code == 200
    assert alice_client.get(f"{TEAMS}?limt=5").status_code == 200, "an action without action_params takes any"
