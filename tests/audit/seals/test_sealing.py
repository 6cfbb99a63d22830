"""Content hashes at insert, seals over what committed, and the chain they make (audit.seals.services)."""

import threading

import pytest
from django.db import connection, connections, transaction

from audit import hashing
from audit.hashing import HASHED_FIELDS, content_hash
from audit.models import AuditEvent, AuditSeal, SealedRecordError
from audit.seals.services import id_runs, seal_create, seals_create
from audit.seals.verify import verify_database
from audit.services import audit_record, audit_record_many, snapshot
from portal.actors import Actor
from portal.models import Team
from tests.audit.conftest import record

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigger and concurrency")


def _stored_hash(event_id: int) -> tuple[str, str]:
    row = AuditEvent.objects.values("content_hash", *HASHED_FIELDS).get(pk=event_id)
    return row["content_hash"], content_hash(row)


def test_audit_record_stores_the_content_hash_of_the_row_as_read_back(django_assert_num_queries):
    team = Team.objects.create(slug="team-orders", name="Orders")
    after = snapshot(team)
    with transaction.atomic(), django_assert_num_queries(1):  # the INSERT alone: the hash costs no query
        event = audit_record(actor=Actor.for_system("tests"), action="team.create", target=team, after=after)
    stored, recomputed = _stored_hash(event.pk)
    assert len(stored) == 64 and stored == recomputed
    assert (event.team_id, event.source) == (team.pk, "system")


def test_audit_record_many_hashes_every_row_in_the_one_bulk_insert(django_assert_num_queries):
    teams = [Team.objects.create(slug=f"team-{n}", name=f"Team {n}") for n in range(3)]
    after = {"float": 1e20, "small": 0.1, "nested": {"b": [1, 2.0], "a": "é"}}
    with transaction.atomic(), django_assert_num_queries(1):  # COPY on PostgreSQL, one INSERT on SQLite
        audit_record_many(actor=Actor.for_system("tests"), events=[("team.create", t, None, after) for t in teams])
    for event in AuditEvent.objects.filter(action="team.create"):
        stored, recomputed = _stored_hash(event.pk)
        assert stored == recomputed
    assert set(AuditEvent.objects.filter(action="team.create").values_list("team_id", flat=True)) == {
        t.pk for t in teams
    }


def test_a_seal_covers_every_unsealed_event_and_the_next_finds_none():
    events = record(5)
    seal = seal_create()
    assert (seal.number, seal.count, seal.first_id, seal.last_id) == (1, 5, events[0].pk, events[-1].pk)
    assert seal.ranges == [[events[0].pk, events[-1].pk]]
    assert seal.previous_hash == hashing.GENESIS_HASH
    assert set(AuditEvent.objects.values_list("seal_id", flat=True)) == {seal.pk}
    assert seal_create() is None
    assert verify_database().ok


def test_seals_chain_each_naming_the_previous_ones_hash(settings):
    settings.AUDIT_SEAL_MAX_EVENTS = 2
    record(5)
    run = seals_create()
    assert (run.seals, run.events) == (3, 5)
    seals = list(AuditSeal.objects.order_by("number"))
    assert [s.count for s in seals] == [2, 2, 1]
    assert [s.previous_hash for s in seals[1:]] == [s.hash for s in seals[:-1]]
    assert all(hashing.signature_valid(settings.AUDIT_SEAL_KEY, s.hash, s.signature) for s in seals)
    result = verify_database()
    assert result.ok and (result.events_checked, result.seals_checked) == (5, 3)


def test_a_late_commit_below_sealed_ids_is_taken_by_the_next_seal():
    # What PostgreSQL does when transactions commit out of order: ids 10 and 12 are committed and sealed
    # while the transaction holding id 11 is still open; 11 commits later. (Ids given here, so that the test
    # runs the same on SQLite, which never commits out of order.)
    base = {"actor_kind": "system", "actor_label": "system:tests", "action": "thing.do", "source": "system"}
    from django.utils import timezone

    def insert(event_id):
        row = {**base, "occurred_at": timezone.now(), "after": {"id": event_id}}
        AuditEvent.objects.create(id=event_id, content_hash=content_hash(row), **row)

    insert(10)
    insert(12)
    first = seal_create()
    assert first.ranges == [[10, 10], [12, 12]]
    insert(11)
    second = seal_create()
    assert (second.ranges, second.count) == ([[11, 11]], 1)
    assert verify_database().ok


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_an_event_committed_after_a_seal_over_higher_ids_is_sealed_next():
    holding, release = threading.Event(), threading.Event()
    late = {}

    def slow_writer():
        try:
            with transaction.atomic():
                late["event"] = audit_record(actor=Actor.for_system("slow"), action="slow.write")
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert holding.wait(timeout=30)
    quick = record(2, action="quick.write")
    first = seal_create()
    assert first.count == 2 and first.first_id == quick[0].pk
    assert late["event"].pk < quick[0].pk  # a lower id, not yet committed
    release.set()
    writer.join()
    second = seal_create()
    assert (second.count, second.first_id) == (1, late["event"].pk)
    assert verify_database().ok


def test_seals_cannot_be_changed_or_deleted_through_the_orm():
    record(1)
    seal = seal_create()
    with pytest.raises(SealedRecordError):
        seal.save()
    with pytest.raises(SealedRecordError):
        AuditSeal.objects.update(count=0)
    with pytest.raises(SealedRecordError):
        AuditSeal.objects.all().delete()


@postgres_only
def test_postgresql_lets_the_sealer_set_a_seal_and_nothing_else():
    from django.db.utils import DatabaseError

    [event] = record(1)
    seal = seal_create()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET seal_id = NULL WHERE id = %s", [event.pk])
    [other] = record(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET seal_id = %s, action = 'x' WHERE id = %s", [seal.pk, other.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditseal SET count = 0 WHERE id = %s", [seal.pk])


def test_id_runs():
    assert id_runs([1, 2, 3, 7, 8, 10]) == [[1, 3], [7, 8], [10, 10]]
    assert id_runs([]) == []
