"""Verifying the audit log against its seals (`manage.py audit_verify`, docs/audit.md "Verification").

Every event against its own content hash and its seal; every seal against its fields, its signature and the
previous seal. The same checks run over the database and over an archive file, which gives the seals and
events as JSON lines. Both are read as streams (one seal and its events at a time), so a year of events never
sits in memory.

What each finding means:
- altered: an event's fields no longer give its content hash;
- removed: an id the seal covers has no event (or is no longer the seal's);
- inserted: an event claims a seal that does not cover its id, names a seal that does not exist, takes an id
  a seal covers while being unsealed, or was sealed long after it says it happened (AUDIT_SEAL_LATE_LIMIT_SECONDS
  after the previous seal: a backdated row);
- seal broken: its fields no longer give its hash, its signature is wrong or by an unknown key, its events'
  hashes no longer give its digest (an event rewritten together with its content hash), it does not name the
  previous seal's hash, or a seal number is missing.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from audit import hashing
from audit.models import AuditEvent, AuditSeal, AuditVerification
from audit.seals.keys import verification_keys
from audit.seals.services import ids_of_runs

EVENT_FIELDS = ("id", "seal_id", "content_hash", *hashing.HASHED_FIELDS)
SEAL_VALUES = (
    "id",
    "archive_id",
    "hash",
    "key_id",
    "signature",
    *hashing.SEAL_FIELDS,
)
MAX_PROBLEMS = 100  # a wholesale rewrite would otherwise list every row


@dataclass(frozen=True)
class Problem:
    kind: str  # altered, removed, inserted, seal
    message: str
    event_id: int | None = None
    seal_number: int | None = None

    def __str__(self):
        return self.message


@dataclass
class Verification:
    events_checked: int = 0
    seals_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


class _Peekable:
    def __init__(self, iterable: Iterable):
        self._it = iter(iterable)
        self._head = next(self._it, None)

    def peek(self):
        return self._head

    def pop(self):
        head, self._head = self._head, next(self._it, None)
        return head


def _late_limit() -> timedelta:
    return timedelta(seconds=settings.AUDIT_SEAL_LATE_LIMIT_SECONDS)


class _Checker:
    def __init__(self, result: Verification):
        self.result = result
        self.keys = verification_keys()

    def event_content(self, event: dict) -> None:
        self.result.events_checked += 1
        if hashing.content_hash(event) != event["content_hash"]:
            self.result.add(
                Problem(
                    "altered",
                    f"event {event['id']} was altered: its fields no longer match its content hash "
                    f"({event['action']!r} by {event['actor_label']!r} at {hashing.timestamp(event['occurred_at'])})",
                    event_id=event["id"],
                )
            )

    def seal(self, seal: dict, previous: dict | None) -> None:
        self.result.seals_checked += 1
        number = seal["number"]
        if hashing.seal_hash(seal) != seal["hash"]:
            self.result.add(
                Problem("seal", f"seal #{number} was altered: its fields no longer match its hash", seal_number=number)
            )
        key = self.keys.get(seal["key_id"])
        if key is None:
            self.result.add(
                Problem(
                    "seal",
                    f"seal #{number} is signed by key {seal['key_id']}, which is neither AUDIT_SEAL_KEY nor in "
                    "AUDIT_SEAL_PREVIOUS_KEYS",
                    seal_number=number,
                )
            )
        elif not hashing.signature_valid(key, seal["hash"], seal["signature"]):
            self.result.add(Problem("seal", f"seal #{number} has a wrong signature", seal_number=number))
        if previous is None:
            return
        if number != previous["number"] + 1:
            missing = previous["number"] + 1
            self.result.add(
                Problem(
                    "seal",
                    f"seal #{missing} is missing: seal #{number} follows seal #{previous['number']}",
                    seal_number=missing,
                )
            )
        if seal["previous_hash"] != previous["hash"]:
            self.result.add(
                Problem(
                    "seal",
                    f"seal #{number} does not follow seal #{previous['number']}: it names another previous hash",
                    seal_number=number,
                )
            )

    def seal_events(self, seal: dict, previous: dict | None, events: Iterable[dict]) -> None:
        """Check the events that name `seal` (in id order) against the ids it covers and its digest."""
        number = seal["number"]
        before = self.result.problem_count
        expected = ids_of_runs(seal["ranges"])
        want = next(expected, None)
        late_after = _as_datetime(previous["created_at"]) - _late_limit() if previous is not None else None
        for event in events:
            self.event_content(event)
            while want is not None and want < event["id"]:
                self._removed(want, number)
                want = next(expected, None)
            if want == event["id"]:
                want = next(expected, None)
                self._digest_update(event)
                if late_after is not None and _as_datetime(event["occurred_at"]) < late_after:
                    self.result.add(
                        Problem(
                            "inserted",
                            f"event {event['id']} was inserted late: it says it happened at "
                            f"{hashing.timestamp(event['occurred_at'])}, long before seal #{previous['number']} "
                            f"(more than AUDIT_SEAL_LATE_LIMIT_SECONDS), yet no seal took it until #{number}",
                            event_id=event["id"],
                            seal_number=number,
                        )
                    )
            else:
                self.result.add(
                    Problem(
                        "inserted",
                        f"event {event['id']} was inserted: it names seal #{number}, which does not cover its id",
                        event_id=event["id"],
                        seal_number=number,
                    )
                )
        while want is not None:
            self._removed(want, number)
            want = next(expected, None)
        digest = self._digest_finish()
        if self.result.problem_count == before and digest != seal["events_digest"]:
            # Every id is there and every event matches its own hash: so an event and its hash were both
            # rewritten. The digest cannot say which one.
            self.result.add(
                Problem(
                    "seal",
                    f"seal #{number} is broken: its events' hashes no longer give its digest (an event of ids "
                    f"{seal['first_id']}-{seal['last_id']} was rewritten together with its content hash)",
                    seal_number=number,
                )
            )

    _digest = None

    def _digest_update(self, event: dict) -> None:
        if self._digest is None:
            self._digest = hashlib.sha256()
        self._digest.update(f"{event['id']}:{event['content_hash']}\n".encode())

    def _digest_finish(self) -> str:
        digest, self._digest = (self._digest or hashlib.sha256()), None
        return digest.hexdigest()

    def _removed(self, event_id: int, number: int) -> None:
        self.result.add(
            Problem(
                "removed",
                f"event {event_id} was removed: seal #{number} covers it and it is not there",
                event_id=event_id,
                seal_number=number,
            )
        )


def _as_datetime(value) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def verify_database(*, since: datetime | None = None, chunk_size: int = 2000) -> Verification:
    """Check the seals (from the last one before `since`, or the first) and the events they cover, then the
    unsealed events. Queries: the seals and the sealed events as two streams in chunks, the unsealed events,
    and one query per unsealed event whose id falls inside a seal's first..last."""
    result = Verification()
    checker = _Checker(result)
    seals = AuditSeal.objects.order_by("number")
    if since is not None:
        start = (
            AuditSeal.objects.filter(created_at__lt=since).order_by("-number").values_list("number", flat=True).first()
        )
        # From the last seal before `since`, so that the first seal after it is checked against its predecessor.
        if start is not None:
            seals = seals.filter(number__gte=start)
    seal_stream = _Peekable(seals.values(*SEAL_VALUES).iterator(chunk_size=chunk_size))
    first = seal_stream.peek()
    sealed = AuditEvent.objects.filter(seal__isnull=False).order_by("seal_id", "id")
    if first is not None:
        sealed = sealed.filter(seal_id__gte=first["id"])
    events = _Peekable(sealed.values(*EVENT_FIELDS).iterator(chunk_size=chunk_size))
    previous = None
    while seal_stream.peek() is not None:
        seal = seal_stream.pop()
        checker.seal(seal, previous)
        _orphans(checker, events, below=seal["id"])
        own = _taking(events, seal["id"])
        if seal["archive_id"] is None:
            checker.seal_events(seal, previous, own)
        else:
            for event in own:  # archived: its events were removed with the trigger's leave; any left are checked
                checker.event_content(event)
        previous = seal
    _orphans(checker, events, below=None)
    _unsealed(checker)
    return result


def _taking(events: _Peekable, seal_id: int) -> Iterator[dict]:
    while events.peek() is not None and events.peek()["seal_id"] == seal_id:
        yield events.pop()


def _orphans(checker: _Checker, events: _Peekable, *, below: int | None) -> None:
    """Events naming a seal that is not in the table (ids between two seals' ids, or after the last)."""
    while events.peek() is not None and (below is None or events.peek()["seal_id"] < below):
        event = events.pop()
        checker.event_content(event)
        checker.result.add(
            Problem(
                "inserted",
                f"event {event['id']} was inserted: it names seal id {event['seal_id']}, which does not exist",
                event_id=event["id"],
            )
        )


def _unsealed(checker: _Checker) -> None:
    last = AuditSeal.objects.order_by("-number").values("last_id", "created_at").first()
    stale_before = timezone.now() - _late_limit()
    stale = 0
    for event in AuditEvent.objects.filter(seal__isnull=True).order_by("id").values(*EVENT_FIELDS).iterator(2000):
        checker.event_content(event)
        if event["occurred_at"] < stale_before:
            stale += 1
        if last is None or event["id"] > last["last_id"]:
            continue
        covering = AuditSeal.objects.filter(first_id__lte=event["id"], last_id__gte=event["id"]).values(
            "number", "ranges"
        )
        for seal in covering:
            if any(int(a) <= event["id"] <= int(b) for a, b in seal["ranges"]):
                checker.result.add(
                    Problem(
                        "inserted",
                        f"event {event['id']} was inserted: seal #{seal['number']} covers its id, yet it is unsealed "
                        "(the sealed event was removed or unsealed, and this row put in its place)",
                        event_id=event["id"],
                        seal_number=seal["number"],
                    )
                )
    if stale:
        checker.result.notes.append(
            f"{stale} events are unsealed and older than AUDIT_SEAL_LATE_LIMIT_SECONDS: is the sealer "
            "(portal/schedules.py, 'audit: seal events') running?"
        )


# --- Archive files -------------------------------------------------------------------------------------------


def verify_archive(lines: Iterable[str]) -> Verification:
    """Check an archive file (audit.seals.archive) on its own: its seals chain from the first one's previous
    hash and are signed, and its events match their seals."""
    result = Verification()
    checker = _Checker(result)
    records = _Peekable(_archive_records(lines, result))
    header = records.peek()
    if header is None or header.get("type") != "archive":
        result.add(Problem("seal", "not an audit archive: the first line is not its header"))
        return result
    records.pop()
    previous = None
    while records.peek() is not None:
        record = records.pop()
        if record.get("type") != "seal":
            checker.event_content(record)
            result.add(
                Problem(
                    "inserted",
                    f"event {record.get('id')} comes before any seal in the archive",
                    event_id=record.get("id"),
                )
            )
            continue
        seal = record
        if previous is None and seal["previous_hash"] != header.get("previous_hash"):
            result.add(
                Problem(
                    "seal", f"seal #{seal['number']} does not follow the archive's header", seal_number=seal["number"]
                )
            )
        checker.seal(seal, previous)

        def own(seal_number=seal["number"]):
            while records.peek() is not None and records.peek().get("type") == "event":
                event = records.pop()
                if event.get("seal_number") != seal_number:
                    result.add(
                        Problem(
                            "inserted",
                            f"event {event['id']} names another seal than the one it follows",
                            event_id=event["id"],
                        )
                    )
                yield event

        checker.seal_events(seal, previous, own())
        previous = seal
    if previous is None:
        result.add(Problem("seal", "the archive holds no seal"))
    elif previous["number"] != header.get("last_seal_number") or result.seals_checked != (
        header.get("last_seal_number", 0) - header.get("first_seal_number", 0) + 1
    ):
        result.add(
            Problem(
                "seal",
                f"the archive ends at seal #{previous['number']}, its header says #{header.get('last_seal_number')}",
            )
        )
    return result


def _archive_records(lines: Iterable[str], result: Verification) -> Iterator[dict]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError:
            result.add(Problem("seal", f"line {number} of the archive is not JSON"))


# --- Recording a run -----------------------------------------------------------------------------------------


def verification_record(
    *, result: Verification, started_at: datetime, since=None, scope="database"
) -> AuditVerification:
    first = result.first_problem
    return AuditVerification.objects.create(
        started_at=started_at,
        finished_at=timezone.now(),
        scope=scope,
        since=since,
        ok=result.ok,
        events_checked=result.events_checked,
        seals_checked=result.seals_checked,
        problem_count=result.problem_count,
        first_problem=str(first) if first else "",
        first_problem_event_id=first.event_id if first else None,
        first_problem_seal_number=first.seal_number if first else None,
    )
