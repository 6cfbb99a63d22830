"""/api/v1/audit-events/: read-only, filtered like the page, each caller seeing what the page shows them;
the streamed exports; invalid filters are 400s naming them."""

import json

import pytest
from django.db import transaction

from audit.models import AuditEvent
from audit.services import audit_record
from portal.actors import Actor
from portal.models import Role
from tests.factories import MembershipFactory, UserFactory, bearer, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokens(orders, payments):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    alice = UserFactory(username="alice")
    MembershipFactory(user=alice, team=orders, role=Role.VIEWER)
    with transaction.atomic():
        audit_record(actor=Actor.for_system("tests"), action="team.update", target=orders, after={"name": "Orders"})
        audit_record(actor=Actor.for_system("tests"), action="team.update", target=payments, after={"name": "P"})
    return {name: make_token(user)[1] for name, user in (("admin", admin), ("alice", alice))}


def _actions(body) -> list[str]:
    return [event["action"] for event in body["results"] if event["action"] != "token.create"]


def test_admins_see_every_event_and_others_their_teams(client, tokens):
    everything = client.get("/api/v1/audit-events/?action=team.update", **bearer(tokens["admin"])).json()
    assert [e["target_repr"] for e in everything["results"]] == ["Payments", "Orders"]
    alices = client.get("/api/v1/audit-events/?action=team.update", **bearer(tokens["alice"])).json()
    assert [e["target_repr"] for e in alices["results"]] == ["Orders"]
    payments_event = AuditEvent.objects.get(target_repr="Payments")
    assert client.get(f"/api/v1/audit-events/{payments_event.pk}/", **bearer(tokens["alice"])).status_code == 404


def test_an_event_has_its_diff_and_seal(client, tokens):
    event = AuditEvent.objects.get(target_repr="Orders")
    body = client.get(f"/api/v1/audit-events/{event.pk}/", **bearer(tokens["alice"])).json()
    assert body["changes"] == [{"path": "name", "kind": "added", "before": None, "after": "Orders"}]
    assert body["seal_number"] is None and len(body["content_hash"]) == 64


@pytest.mark.parametrize(("query", "name"), [("team=nope", "team"), ("since=soon", "since"), ("colour=red", "colour")])
def test_an_invalid_filter_is_a_400_naming_it(client, tokens, query, name):
    for path in ("/api/v1/audit-events/", "/api/v1/audit-events/export/?as=csv&"):
        sep = "&" if "?" in path else "?"
        response = client.get(f"{path.rstrip('&')}{sep}{query}", **bearer(tokens["admin"]))
        assert response.status_code == 400, path
        assert name in response.json()["errors"], path


def test_export_streams_csv_or_jsonl(client, tokens):
    response = client.get("/api/v1/audit-events/export/?as=jsonl&team=team-orders", **bearer(tokens["admin"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/jsonl")
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert [line["target_repr"] for line in lines] == ["Orders"]
    csv = client.get("/api/v1/audit-events/export/?as=csv", HTTP_ACCEPT="text/csv", **bearer(tokens["alice"]))
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert b"".join(csv.streaming_content).decode().count("team.update") == 1
    bad = client.get("/api/v1/audit-events/export/?as=xml", HTTP_ACCEPT="text/csv", **bearer(tokens["admin"]))
    assert bad.status_code == 400 and bad.json()["errors"]["as"] == ["Must be csv or jsonl."]


def test_the_list_runs_the_same_queries_whatever_the_page_size(client, tokens, django_assert_num_queries):
    # The page of events (seals joined): the token, with its user, is cached (API_TOKEN_CACHE_SECONDS) from the
    # second request on (the first one's last_used_at write drops the entry it had just cached).
    headers = bearer(tokens["admin"])
    client.get("/api/v1/audit-events/", **headers)
    client.get("/api/v1/audit-events/", **headers)
    with django_assert_num_queries(1) as few:
        client.get("/api/v1/audit-events/?limit=2", **headers)
    with transaction.atomic():
        for n in range(30):
            audit_record(actor=Actor.for_system("tests"), action=f"thing.{n}")
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/audit-events/?limit=30", **headers).json()["results"]) == 30
