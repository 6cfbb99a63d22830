"""audit_verify catches rows edited, deleted and inserted behind the portal's back (raw SQL, triggers off), and
broken seals, and names the first culprit."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit import hashing
from audit.hashing import HASHED_FIELDS, content_hash
from audit.models import AuditEvent, AuditSeal, AuditVerification
from audit.seals.services import seal_create, seals_create
from audit.seals.verify import verify_database
from tests.audit.conftest import record

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed(settings):
    """Nine events under three seals of three."""
    settings.AUDIT_SEAL_MAX_EVENTS = 3
    events = record(9)
    assert seals_create().seals == 3
    return events


def _forge(cursor, *, occurred_at, event_id=None, seal_id=None) -> int:
    """Insert an event as the portal would have written it, content hash included, by raw SQL."""
    row = {"occurred_at": occurred_at, "actor_kind": "system", "actor_label": "x", "action": "thing.do"}
    row.update({name: "" for name in ("target_type", "target_id", "target_repr", "request_id")}, source="system")
    row.update(content_hash=content_hash(row), seal_id=seal_id)
    if event_id is not None:
        row["id"] = event_id
    columns = ", ".join(row)
    placeholders = ", ".join(["%s"] * len(row))
    # The column names are this function's own; the values go as parameters.
    cursor.execute(f"INSERT INTO audit_auditevent ({columns}) VALUES ({placeholders})", list(row.values()))  # noqa: S608
    return event_id


def _verify(capsys, *args) -> tuple[int, str]:
    try:
        call_command("audit_verify", *args)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, capsys.readouterr().out


def test_an_untouched_log_verifies_and_the_run_is_recorded(sealed, capsys):
    code, out = _verify(capsys)
    assert code == 0
    assert "OK: 9 events and 3 seals checked" in out
    run = AuditVerification.objects.get()
    assert (run.ok, run.events_checked, run.seals_checked) == (True, 9, 3)


def test_an_edited_event_is_named(sealed, tamper, capsys):
    target = sealed[4]
    with tamper() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'thing.undo' WHERE id = %s", [target.pk])
    code, out = _verify(capsys)
    assert code == 1
    assert f"First: event {target.pk} was altered" in out
    assert AuditVerification.objects.get().first_problem_event_id == target.pk


def test_an_event_edited_with_its_hash_recomputed_breaks_its_seal(sealed, tamper):
    target = sealed[4]
    row = AuditEvent.objects.values(*HASHED_FIELDS).get(pk=target.pk)
    forged = content_hash({**row, "action": "thing.undo"})
    with tamper() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET action = 'thing.undo', content_hash = %s WHERE id = %s", [forged, target.pk]
        )
    result = verify_database()
    assert str(result.first_problem).startswith("seal #2 is broken: its events' hashes no longer give its digest")
    assert result.first_problem.seal_number == 2


def test_a_deleted_event_is_named(sealed, tamper):
    target = sealed[7]
    with tamper() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [target.pk])
    result = verify_database()
    assert result.problem_count == 1
    assert str(result.first_problem) == f"event {target.pk} was removed: seal #3 covers it and it is not there"


def test_an_event_inserted_into_a_seal_is_named(sealed, tamper):
    seal = AuditSeal.objects.get(number=2)
    new_id = sealed[-1].pk + 100
    with tamper() as cursor:
        _forge(cursor, occurred_at=sealed[3].occurred_at, event_id=new_id, seal_id=seal.pk)
    result = verify_database()
    assert str(result.first_problem) == f"event {new_id} was inserted: it names seal #2, which does not cover its id"


def test_an_event_inserted_unsealed_with_a_sealed_id_is_named(sealed, tamper):
    # The original event removed and a forged one put under its id, with no seal: the next seal would take it.
    target = sealed[1]
    with tamper() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [target.pk])
        _forge(cursor, occurred_at=target.occurred_at, event_id=target.pk)
    messages = [str(problem) for problem in verify_database().problems]
    assert messages == [
        f"event {target.pk} was removed: seal #1 covers it and it is not there",
        f"event {target.pk} was inserted: seal #1 covers its id, yet it is unsealed (the sealed event was removed "
        "or unsealed, and this row put in its place)",
    ]


def test_a_backdated_event_inserted_later_is_named_once_sealed(sealed, tamper, settings):
    settings.AUDIT_SEAL_LATE_LIMIT_SECONDS = 60
    long_ago = timezone.now() - timezone.timedelta(days=30)
    with tamper() as cursor:
        _forge(cursor, occurred_at=long_ago)
    # The late limit counts from the previous seal's time (seal #3, just now), which it predates by 30 days.
    seal_create()
    result = verify_database()
    assert result.first_problem.kind == "inserted"
    assert "was inserted late" in str(result.first_problem)
    assert result.first_problem.seal_number == 4


def test_an_edited_seal_is_named(sealed, tamper):
    with tamper() as cursor:
        cursor.execute("UPDATE audit_auditseal SET count = 2 WHERE number = 2")
    assert str(verify_database().first_problem) == "seal #2 was altered: its fields no longer match its hash"


def test_a_seal_rewritten_without_the_key_has_a_wrong_signature(sealed, tamper):
    seal = AuditSeal.objects.values().get(number=2)
    forged = hashing.seal_hash({**seal, "count": 2})
    with tamper() as cursor:
        cursor.execute("UPDATE audit_auditseal SET count = 2, hash = %s WHERE number = 2", [forged])
    problems = [str(problem) for problem in verify_database().problems]
    assert problems[0] == "seal #2 has a wrong signature"
    assert "seal #3 does not follow seal #2: it names another previous hash" in problems


def test_a_deleted_seal_is_named(sealed, tamper):
    with tamper() as cursor:
        cursor.execute("DELETE FROM audit_auditseal WHERE number = 2")
    result = verify_database()
    assert str(result.first_problem) == "seal #2 is missing: seal #3 follows seal #1"


def test_seals_signed_with_another_key_fail_unless_it_is_a_previous_key(sealed, settings):
    old = settings.AUDIT_SEAL_KEY
    settings.AUDIT_SEAL_KEY = "a-new-key"
    problem = verify_database().first_problem
    assert str(problem).startswith(f"seal #1 is signed by key {hashing.key_id(old)}, which is neither")
    settings.AUDIT_SEAL_PREVIOUS_KEYS = [old]
    assert verify_database().ok


def test_since_starts_at_the_last_seal_before_it(sealed):
    second = AuditSeal.objects.get(number=2)
    result = verify_database(since=second.created_at + timezone.timedelta(microseconds=1))
    assert (result.seals_checked, result.events_checked) == (2, 6)


def test_the_command_refuses_a_since_that_is_not_a_date(capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--since 'yesterday' is not a date"):
        call_command("audit_verify", "--since", "yesterday")


def test_verification_reads_the_log_in_chunks_not_whole(sealed, django_assert_max_num_queries):
    # Two streams (seals, sealed events) of chunks of 2, the unsealed events, and the last seal: not a query
    # per event or per seal. On SQLite each chunk is a query; on PostgreSQL a server-side cursor's fetches.
    with django_assert_max_num_queries(12):
        result = verify_database(chunk_size=2)
    assert result.ok and result.events_checked == 9
