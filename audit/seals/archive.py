"""Retention: events older than AUDIT_RETENTION_DAYS are written to a file with their seals, then removed
(docs/audit.md, "Retention").

Whole seals only, oldest first, so the events left in the database start at a seal whose predecessor is in an
archive. The seals themselves stay (marked with their archive): the chain in the database is still whole,
the file can be checked against it, or on its own (`audit_verify --archive FILE`). The removal is the one
DELETE the PostgreSQL trigger allows (events of an archived seal) and is itself an audit event.

The file is JSON Lines: a header {"type": "archive", ...}, then each seal {"type": "seal", ...} followed by
its events {"type": "event", "seal_number": n, ...} in id order. It is written and flushed to disk before
the transaction that removes the events commits; if that transaction fails, the file is left over and the
next run writes it again.
"""

import hashlib
import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from audit import hashing
from audit.models import AuditArchive, AuditEvent, AuditSeal
from audit.services import audit_record
from portal.actors import Actor

EVENT_FIELDS = ("id", "content_hash", *hashing.HASHED_FIELDS)
SEAL_FIELDS = ("number", *[name for name in hashing.SEAL_FIELDS if name != "number"], "hash", "key_id", "signature")
MAX_SEALS = 10000  # per run: a first run over years of events is done in steps


def _line(record: dict) -> bytes:
    return json.dumps(record, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def _event_record(event: dict, seal_number: int) -> dict:
    # occurred_at in the hash's own form, so the hash computed from the file is the one computed at insert.
    return {
        "type": "event",
        "seal_number": seal_number,
        **event,
        "occurred_at": hashing.timestamp(event["occurred_at"]),
    }


def _seal_record(seal: dict) -> dict:
    record = {"type": "seal", **{name: seal[name] for name in SEAL_FIELDS}}
    for name in ("created_at", "first_occurred_at", "last_occurred_at"):
        record[name] = hashing.timestamp(record[name])
    return record


def expired_seals(*, now: datetime | None = None) -> list[dict]:
    """The oldest unarchived seals whose every event is older than the retention, in order (none when the
    retention is 0)."""
    days = settings.AUDIT_RETENTION_DAYS
    if not days:
        return []
    cutoff = (now or timezone.now()) - timedelta(days=days)
    seals = []
    values = (
        AuditSeal.objects.filter(archive__isnull=True).order_by("number").values("id", "number", "last_occurred_at")
    )
    for seal in values[:MAX_SEALS].iterator(chunk_size=1000):
        if seal["last_occurred_at"] >= cutoff:
            break
        seals.append(seal)
    return seals


def archive_expired(*, actor: Actor, now: datetime | None = None) -> AuditArchive | None:
    """Archive and remove the expired events (whole seals); None when nothing has expired."""
    now = now or timezone.now()
    with transaction.atomic():
        candidates = expired_seals(now=now)
        if not candidates:
            return None
        # Locked, so a second run at the same time waits and then finds them archived.
        ids = [seal["id"] for seal in candidates]
        locked = list(
            AuditSeal.objects.select_for_update()
            .filter(pk__in=ids, archive__isnull=True)
            .order_by("number")
            .values("id", *SEAL_FIELDS)
        )
        if len(locked) != len(ids):
            return None
        first, last = locked[0], locked[-1]
        previous = AuditSeal.objects.filter(number=first["number"] - 1).values_list("hash", flat=True).first()
        folder = Path(settings.AUDIT_ARCHIVE_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"audit-seals-{first['number']:010d}-{last['number']:010d}.jsonl"
        count, digest = _write(path, locked, previous or hashing.GENESIS_HASH, now)
        archive = AuditArchive.objects.create(
            created_at=now,
            path=str(path),
            sha256=digest,
            first_seal_number=first["number"],
            last_seal_number=last["number"],
            event_count=count,
            first_occurred_at=min(seal["first_occurred_at"] for seal in locked),
            last_occurred_at=max(seal["last_occurred_at"] for seal in locked),
        )
        AuditSeal.objects.filter(pk__in=ids)._archive(archive.pk)
        removed = AuditEvent.objects.filter(seal_id__in=ids)._delete_archived()
        audit_record(
            actor=actor,
            action="audit.archive",
            target=archive,
            after={
                "path": str(path),
                "sha256": digest,
                "seals": [first["number"], last["number"]],
                "events_archived": count,
                "events_removed": removed,
                "retention_days": settings.AUDIT_RETENTION_DAYS,
            },
        )
    return archive


def _write(path: Path, seals: list[dict], previous_hash: str, now: datetime) -> tuple[int, str]:
    """Write the archive to `path` (through a temporary file, renamed when complete and on disk)."""
    digest = hashlib.sha256()
    count = 0
    partial = path.with_suffix(".jsonl.partial")
    with partial.open("wb") as out:

        def put(record: dict) -> None:
            data = _line(record)
            digest.update(data)
            out.write(data)

        put(
            {
                "type": "archive",
                "version": 1,
                "created_at": hashing.timestamp(now),
                "first_seal_number": seals[0]["number"],
                "last_seal_number": seals[-1]["number"],
                "previous_hash": previous_hash,
            }
        )
        for seal in seals:
            put(_seal_record(seal))
            events = AuditEvent.objects.filter(seal_id=seal["id"]).order_by("id").values(*EVENT_FIELDS)
            for event in events.iterator(chunk_size=2000):
                put(_event_record(event, seal["number"]))
                count += 1
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)
    return count, digest.hexdigest()
