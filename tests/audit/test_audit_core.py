"""The audit log is append-only and every event names who, what, which request and from where."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from audit.models import AppendOnlyError, AuditEvent
from audit.services import audit_record, audit_record_many, snapshot
from portal.actors import Actor
from portal.models import Team, User
from portal.request_context import request_id_var, source_ip_var

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return User.objects.create_user(username="alice", password="x")


@pytest.fixture
def event(alice):
    team = Team.objects.create(slug="team-orders", name="Orders")
    with transaction.atomic():
        return audit_record(
            actor=Actor(user=alice), action="team.create", target=team, before=None, after=snapshot(team)
        )


def test_records_actor_target_and_data(event, alice):
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_kind == "user"
    assert stored.actor_user == alice
    assert stored.actor_label == "alice"
    assert stored.action == "team.create"
    assert stored.target_type == "portal.team"
    assert stored.target_repr == "Orders"
    assert stored.after["slug"] == "team-orders"
    assert stored.before is None


def test_records_request_id_and_source_ip(alice):
    rid = request_id_var.set("req-123")
    ip = source_ip_var.set("192.0.2.7")
    try:
        with transaction.atomic():
            event = audit_record(actor=Actor(user=alice), action="thing.do")
    finally:
        request_id_var.reset(rid)
        source_ip_var.reset(ip)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.request_id, stored.source_ip) == ("req-123", "192.0.2.7")


def test_system_actor():
    with transaction.atomic():
        event = audit_record(actor=Actor.for_system("task:sync"), action="sync.run")
    assert (event.actor_kind, event.actor_label, event.actor_user_id) == ("system", "system:task:sync", None)


@pytest.mark.django_db(transaction=True)
def test_refuses_to_record_outside_a_transaction(alice):
    # Outside a transaction the change and its audit event could be committed apart.
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=Actor(user=alice), action="thing.do")


def test_rolled_back_change_leaves_no_event(alice):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit_record(actor=Actor(user=alice), action="thing.do")
        1 / 0  # noqa: B018 - the change fails after its audit event was written
    assert not AuditEvent.objects.filter(action="thing.do").exists()


def test_an_event_cannot_be_changed_through_the_orm(event):
    event.action = "team.delete"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="team.delete")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["action"])
    assert AuditEvent.objects.get(pk=event.pk).action == "team.create"


def test_an_event_cannot_be_deleted_through_the_orm(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "sql", ["UPDATE audit_auditevent SET action = 'x' WHERE id = %s", "DELETE FROM audit_auditevent WHERE id = %s"]
)
def test_postgresql_refuses_raw_updates_and_deletes(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "team.create"


def test_deleting_the_user_keeps_the_history(event, alice):
    alice_id = alice.pk
    alice.delete()
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_label, stored.actor_user_id) == ("alice", alice_id)


def test_many_events_are_recorded_in_one_insert_with_the_same_context(alice, django_assert_num_queries):
    teams = [Team.objects.create(slug=f"team-{n}", name=f"Team {n}") for n in range(3)]
    events = [("team.create", t, None, snapshot(t)) for t in teams]
    token = request_id_var.set("req-bulk")
    try:
        with transaction.atomic(), django_assert_num_queries(1):
            count = audit_record_many(actor=Actor(user=alice), events=events)
    finally:
        request_id_var.reset(token)
    assert count == 3
    stored = AuditEvent.objects.filter(action="team.create").order_by("id")
    assert [e.target_repr for e in stored] == ["Team 0", "Team 1", "Team 2"]
    assert {(e.actor_label, e.request_id) for e in stored} == {("alice", "req-bulk")}


@pytest.mark.django_db(transaction=True)
def test_many_events_also_refuse_to_be_recorded_outside_a_transaction(alice):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record_many(actor=Actor(user=alice), events=[("thing.do", None, None, None)])
