"""The sealer: a seal over the events committed since the last one (docs/audit.md, "Seals").

Writers only insert events with their content hash; the sealer, once a minute (portal/schedules.py), reads
the events that have no seal yet, in id order, and writes one signed seal over them. Membership is explicit
(AuditEvent.seal_id, set from NULL by the sealer alone), so an event whose transaction commits after a seal
over higher ids was not skipped: it is still unsealed, and the next seal takes it.

Two sealers at once cannot both win: a seal's number is unique (the previous one's plus one), and the
events a sealer read must all still be unsealed when it marks them, or its transaction rolls back.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit import hashing
from audit.models import AuditEvent, AuditSeal
from audit.seals.keys import signing_key


class SealRaceError(Exception):
    """Another sealer sealed some of the same events first; this run's seal was rolled back."""


def id_runs(ids: list[int]) -> list[list[int]]:
    """[1, 2, 3, 7, 8] -> [[1, 3], [7, 8]]: the ids as consecutive runs (ids given ascending)."""
    runs: list[list[int]] = []
    for event_id in ids:
        if runs and event_id == runs[-1][1] + 1:
            runs[-1][1] = event_id
        else:
            runs.append([event_id, event_id])
    return runs


def ids_of_runs(runs) -> "iter[int]":
    for first, last in runs:
        yield from range(int(first), int(last) + 1)


@transaction.atomic
def seal_create(*, max_events: int | None = None) -> AuditSeal | None:
    """Seal up to `max_events` unsealed events (AUDIT_SEAL_MAX_EVENTS), lowest ids first; None if none waits.

    Queries: the previous seal, the unsealed events (from a partial index), the seal's INSERT, and one UPDATE
    per run of consecutive ids (one, unless transactions committed out of order).
    """
    limit = max_events or settings.AUDIT_SEAL_MAX_EVENTS
    previous = AuditSeal.objects.order_by("-number").values("number", "hash").first()
    rows = list(
        AuditEvent.objects.filter(seal__isnull=True)
        .order_by("id")
        .values_list("id", "content_hash", "occurred_at")[:limit]
    )
    if not rows:
        return None
    runs = id_runs([row[0] for row in rows])
    occurred = [row[2] for row in rows]
    key = signing_key()
    seal = AuditSeal(
        number=(previous["number"] + 1) if previous else 1,
        created_at=timezone.now(),
        first_id=rows[0][0],
        last_id=rows[-1][0],
        count=len(rows),
        ranges=runs,
        first_occurred_at=min(occurred),
        last_occurred_at=max(occurred),
        events_digest=hashing.events_digest((row[0], row[1]) for row in rows),
        previous_hash=previous["hash"] if previous else hashing.GENESIS_HASH,
        key_id=hashing.key_id(key),
    )
    seal.hash = hashing.seal_hash(seal.__dict__)
    seal.signature = hashing.sign(key, seal.hash)
    try:
        with transaction.atomic():
            seal.save()
    except IntegrityError as error:
        raise SealRaceError(f"seal #{seal.number} was written by another sealer") from error
    marked = 0
    for first, last in runs:
        marked += AuditEvent.objects.filter(seal__isnull=True, id__gte=first, id__lte=last)._seal(seal.pk)
    if marked != len(rows):
        raise SealRaceError(f"{len(rows) - marked} of the events read were sealed by another sealer")
    return seal


@dataclass
class SealRun:
    seals: int = 0
    events: int = 0


def seals_create(*, max_seals: int = 20) -> SealRun:
    """Seal everything that waits, a seal of at most AUDIT_SEAL_MAX_EVENTS at a time, each in its own
    transaction (so a backlog after an outage is caught up in bounded steps)."""
    run = SealRun()
    for _ in range(max_seals):
        seal = seal_create()
        if seal is None:
            break
        run.seals += 1
        run.events += seal.count
    return run
