"""The audit pages: events with filters and the chain's state, one event with its diff, the exports, and the
links from entity and team pages. As people see them: admins everything, others their teams' and their own."""

import csv
import io
import json

import pytest
from django.db import transaction
from django.http import StreamingHttpResponse

from audit.models import AuditEvent
from audit.seals.services import seal_create
from audit.services import audit_record
from catalog.models import Entity
from catalog.services import entity_create, entity_update
from portal.actors import Actor
from portal.models import Role
from portal.request_context import request_id_var, source_var
from tests.catalog.conftest import document
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(orders, payments):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    alice = UserFactory(username="alice")
    MembershipFactory(user=alice, team=orders, role=Role.MAINTAINER)
    bob = UserFactory(username="bob")
    MembershipFactory(user=bob, team=payments, role=Role.VIEWER)
    return {"admin": admin, "alice": alice, "bob": bob, "nobody": None}


@pytest.fixture
def estate(people, orders, payments):
    """Orders' component created by alice through the API, then edited by her on a page; payments' component,
    created by the system."""
    for team in (orders, payments):
        entity_create(actor=Actor.for_system("tests"), document=document("Group", team.slug))
    entity_create(
        actor=Actor.for_system("tests"),
        document=document("Component", "payments-api", type="service", lifecycle="production", owner="team-payments"),
    )
    rid = request_id_var.set("req-create")
    src = source_var.set("api")
    try:
        component = entity_create(
            actor=Actor(user=people["alice"]),
            document=document("Component", "orders-api", type="service", lifecycle="production", owner="team-orders"),
        )
    finally:
        request_id_var.reset(rid)
        source_var.reset(src)
    changed = document("Component", "orders-api", type="service", lifecycle="deprecated", owner="team-orders")
    src = source_var.set("ui")
    try:
        entity_update(actor=Actor(user=people["alice"]), entity=component, document=changed)
    finally:
        source_var.reset(src)
    return Entity.objects.get(pk=component.pk)


def _actions(response) -> list[str]:
    # Signing in is an event too (the test client's force_login): left out of what these tests compare.
    return [event.action for event in response.context["events"] if event.action != "user.sign_in"]


def test_the_navigation_links_the_audit_page(client_as, people):
    response = client_as("admin").get("/")
    audit = next(item for item in response.context["navigation"] if item["label"] == "Audit")
    assert audit["url"] == "/audit/"


def test_the_page_lists_events_newest_first_with_the_chains_state(client_as, estate):
    client = client_as("admin")
    seal_create()
    with transaction.atomic():
        audit_record(actor=Actor.for_system("tests"), action="late.thing")
    response = client.get("/audit/")
    assert response.status_code == 200
    assert _actions(response)[:3] == ["late.thing", "entity.update", "entity.create"]
    html = response.content.decode()
    assert "Last seal" in html and "#1" in html
    assert response.context["chain"].unsealed == 1
    assert "Never run. Run <code>manage.py audit_verify</code>" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=alice", ["entity.update", "entity.create"]),
        ("actor=system:tests", ["entity.create"] * 3),
        ("team=team-payments", ["entity.create"] * 2),  # payments-api and the team's own Group
        ("action=entity.up*", ["entity.update"]),
        ("source=api", ["entity.create"]),
        ("request_id=req-create", ["entity.create"]),
        ("since=2000-01-01&until=2000-01-02", []),
    ],
)
def test_filters(client_as, estate, query, expected):
    response = client_as("admin").get(f"/audit/?{query}")
    assert response.status_code == 200
    assert _actions(response) == expected


def test_filter_by_entity_and_its_tab_links_there(client_as, estate):
    response = client_as("alice").get("/catalog/default/component/orders-api/audit/")
    assert response.status_code == 200
    html = response.content.decode()
    link = f"/audit/?target_type=catalog.entity&amp;target_id={estate.pk}"
    assert link in html
    page = client_as("alice").get(link.replace("&amp;", "&"))
    assert _actions(page) == ["entity.update", "entity.create"]


def test_the_team_page_links_the_teams_events(client_as, estate):
    html = client_as("alice").get("/teams/team-orders/").content.decode()
    assert 'data-testid="team-audit"' in html and "/audit/?team=team-orders" in html
    assert "entity.update" in html


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("team=nope", "team"),
        ("actor=nobody-here", "actor"),
        ("since=yesterday", "since"),
        ("source=email", "source"),
        ("target_id=4", "target_id"),
        ("since=2026-02-01&until=2026-01-01", "until"),
        ("before=x", "before"),
    ],
)
def test_an_invalid_filter_is_a_400_naming_it(client_as, estate, query, names):
    response = client_as("admin").get(f"/audit/?{query}")
    assert response.status_code == 400
    assert list(response.context["errors"]) == [names]
    assert f"<strong>{names}</strong>" in response.content.decode()


def test_people_see_their_teams_events_and_their_own(client_as, estate, people):
    assert set(_actions(client_as("alice").get("/audit/"))) == {"entity.create", "entity.update"}
    bob_sees = client_as("bob").get("/audit/")
    assert [e.target_repr for e in bob_sees.context["events"] if e.action != "user.sign_in"] == [
        "component:default/payments-api",
        "group:default/team-payments",  # a team's own Group is the team's
    ]
    alices = AuditEvent.objects.filter(actor_label="alice").first()
    assert client_as("bob").get(f"/audit/events/{alices.pk}/").status_code == 404
    assert client_as("nobody").get("/audit/").status_code == 302  # to sign in


def test_an_event_shows_a_readable_diff(client_as, estate):
    update = AuditEvent.objects.get(action="entity.update")
    response = client_as("alice").get(f"/audit/events/{update.pk}/")
    assert response.status_code == 200
    changes = {change.path: change for change in response.context["changes"]}
    lifecycle = next(change for path, change in changes.items() if path.endswith("spec.lifecycle"))
    assert (lifecycle.kind, lifecycle.before, lifecycle.after) == ("changed", "production", "deprecated")
    assert response.context["hash_matches"] is True
    assert "content matches its hash" in response.content.decode()


def test_the_page_runs_the_same_queries_whatever_the_number_of_events(client_as, estate, django_assert_num_queries):
    client = client_as("admin")
    client.get("/audit/")  # the session and the user, loaded once like any page's
    # Session, user, the page of events, the chain's state (last seal, unsealed count, oldest unsealed, last
    # verification), the navigation's memberships.
    with django_assert_num_queries(8) as few:
        client.get("/audit/")
    with transaction.atomic():
        for n in range(60):
            audit_record(actor=Actor.for_system("tests"), action=f"thing.{n}")
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get("/audit/")
    assert len(response.context["events"]) == 50 and response.context["next_query"]


def test_older_pages_follow_by_id(client_as, people):
    client = client_as("admin")
    with transaction.atomic():
        for n in range(55):
            audit_record(actor=Actor.for_system("tests"), action=f"thing.{n}")
    first = client.get("/audit/")
    second = client.get(f"/audit/?{first.context['next_query']}")
    assert _actions(second) == [f"thing.{n}" for n in range(4, -1, -1)]
    assert second.context["next_query"] is None


# --- Exports ----------------------------------------------------------------------------------------------


def _body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def test_csv_export_streams_the_filtered_events(client_as, estate):
    response = client_as("admin").get("/audit/export/?as=csv&actor=alice")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert [row["action"] for row in rows] == ["entity.create", "entity.update"]  # oldest first
    assert json.loads(rows[1]["after"])["spec"]["lifecycle"] == "deprecated"


def test_jsonl_export_is_one_event_a_line(client_as, estate):
    response = client_as("alice").get("/audit/export/?as=jsonl")
    lines = [json.loads(line) for line in _body(response).splitlines()]
    actions = [line["action"] for line in lines if line["action"] != "user.sign_in"]
    assert actions == ["entity.create", "entity.create", "entity.update"]  # team-orders' Group, orders-api twice
    assert lines[0]["occurred_at"].endswith("Z") and len(lines[0]["content_hash"]) == 64


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("as=csv&team=nope", "team: No team has the slug 'nope'."),
        ("as=xml", "as: must be csv or jsonl"),
        ("as=csv&colour=red", "colour: unknown parameter"),
    ],
)
def test_an_export_with_an_invalid_filter_is_a_400_naming_it(client_as, estate, query, named):
    response = client_as("admin").get(f"/audit/export/?{query}")
    assert response.status_code == 400
    assert named in response.content.decode()


def test_an_export_reads_the_log_a_chunk_at_a_time(people, django_assert_num_queries):
    from audit.log.export import export_response

    with transaction.atomic():
        for n in range(25):
            audit_record(actor=Actor.for_system("tests"), action=f"thing.{n}")
    response = export_response(AuditEvent.objects.all(), "jsonl", chunk_size=10)
    # Nothing is read until the body is: then chunks of 10 by id (10, 10, 5), never the whole log at once.
    with django_assert_num_queries(3):
        lines = _body(response).splitlines()
    assert len(lines) == 25
