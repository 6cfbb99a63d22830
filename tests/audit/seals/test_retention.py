"""Retention: expired events go to a file with their seals, then leave the database; the file verifies on its
own, the chain in the database stays whole, and the removal is an audit event."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from audit.models import AuditArchive, AuditEvent, AuditSeal
from audit.seals import tasks
from audit.seals.archive import archive_expired
from audit.seals.services import seal_create, seals_create
from audit.seals.verify import verify_archive, verify_database
from portal.actors import Actor
from tests.audit.conftest import record

pytestmark = pytest.mark.django_db


def test_nothing_expires_when_retention_is_off(settings):
    settings.AUDIT_RETENTION_DAYS = 0
    record(2)
    seal_create()
    assert archive_expired(actor=Actor.for_system("tests"), now=timezone.now() + timezone.timedelta(days=9999)) is None


def test_expired_seals_are_archived_to_a_file_then_removed(settings, tmp_path):
    settings.AUDIT_SEAL_MAX_EVENTS = 2
    settings.AUDIT_RETENTION_DAYS = 30
    settings.AUDIT_ARCHIVE_DIR = tmp_path
    old = record(4, action="old.thing")
    seals_create()
    later = timezone.now() + timezone.timedelta(days=31)
    # Events written after `old` but in the month before `later` are kept.
    archive = archive_expired(actor=Actor.for_system("tests"), now=later)
    assert archive is not None
    assert (archive.first_seal_number, archive.last_seal_number, archive.event_count) == (1, 2, 4)
    assert not AuditEvent.objects.filter(action="old.thing").exists()
    # The seals stay, marked; the chain in the database still verifies (nothing else was sealed yet).
    assert list(AuditSeal.objects.order_by("number").values_list("archive_id", flat=True)) == [archive.pk] * 2
    removal = AuditEvent.objects.get(action="audit.archive")
    assert removal.after["events_removed"] == 4 and removal.target_id == str(archive.pk)
    seal_create()  # seals the removal event itself
    assert verify_database().ok
    # The file holds the header, the two seals and their four events, and verifies alone.
    lines = Path(archive.path).read_text(encoding="utf-8").splitlines()
    kinds = [json.loads(line)["type"] for line in lines]
    assert kinds == ["archive", "seal", "event", "event", "seal", "event", "event"]
    assert [json.loads(line)["id"] for line in lines if json.loads(line)["type"] == "event"] == [e.pk for e in old]
    result = verify_archive(lines)
    assert result.ok and (result.seals_checked, result.events_checked) == (2, 4)
    # A second run today finds nothing more to archive.
    assert archive_expired(actor=Actor.for_system("tests")) is None


def test_an_archive_edited_afterwards_fails_verification(settings, tmp_path, capsys):
    settings.AUDIT_RETENTION_DAYS = 30
    settings.AUDIT_ARCHIVE_DIR = tmp_path
    events = record(3)
    seal_create()
    archive = archive_expired(actor=Actor.for_system("tests"), now=timezone.now() + timezone.timedelta(days=31))
    lines = Path(archive.path).read_text(encoding="utf-8").splitlines()
    edited = [json.loads(line) for line in lines]
    edited[3]["action"] = "thing.undone"
    del edited[4]
    bad = tmp_path / "edited.jsonl"
    bad.write_text("\n".join(json.dumps(record) for record in edited))
    with pytest.raises(SystemExit) as exit:
        call_command("audit_verify", "--archive", str(bad))
    assert exit.value.code == 1
    out = capsys.readouterr().out
    assert f"First: event {events[1].pk} was altered" in out
    assert f"event {events[2].pk} was removed: seal #1 covers it" in out
    call_command("audit_verify", "--archive", archive.path)
    assert "OK: 3 events and 1 seals checked in archive" in capsys.readouterr().out


def test_the_retention_task_archives_with_the_settings_clock(settings, tmp_path):
    settings.AUDIT_RETENTION_DAYS = 1
    settings.AUDIT_ARCHIVE_DIR = tmp_path
    record(2)
    seal_create()
    assert tasks.audit_retention() == 0  # not a day old yet
    assert AuditArchive.objects.count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger is PostgreSQL's")
def test_postgresql_deletes_only_events_of_archived_seals(settings, tmp_path):
    settings.AUDIT_RETENTION_DAYS = 30
    settings.AUDIT_ARCHIVE_DIR = tmp_path
    [kept] = record(1)
    seal_create()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [kept.pk])
    archive_expired(actor=Actor.for_system("tests"), now=timezone.now() + timezone.timedelta(days=31))
    assert not AuditEvent.objects.filter(pk=kept.pk).exists()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditarchive")


def test_the_sealer_task_seals_and_is_safe_to_run_again():
    record(3)
    assert tasks.audit_seal() == 3
    assert tasks.audit_seal() == 0
    assert tasks.audit_verify() is True
