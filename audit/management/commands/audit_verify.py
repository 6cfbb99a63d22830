"""`manage.py audit_verify [--since DATE] [--archive FILE]`: check the audit log against its seals
(audit.seals.verify), and say which event or seal is the first that is wrong. Exits 1 when anything is."""

from datetime import UTC, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audit.seals.verify import verification_record, verify_archive, verify_database

SHOWN = 20


def _since(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since {value!r} is not a date (2026-01-31) or a time (2026-01-31T12:00Z)")
        moment = datetime.combine(day, time.min)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


class Command(BaseCommand):
    help = (
        "Check every audit event against its content hash and its seal, and every seal against its signature and "
        "the previous seal; name the first event altered, removed or inserted, or the first broken seal."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", help="start at the last seal before this date or time (UTC unless given)")
        parser.add_argument("--archive", help="verify this archive file (JSON Lines) on its own instead")

    def handle(self, *args, since=None, archive=None, **options):
        started = timezone.now()
        if archive and since:
            raise CommandError("Give --since or --archive, not both.")
        if archive:
            try:
                with open(archive, encoding="utf-8") as lines:
                    result = verify_archive(lines)
            except OSError as error:
                raise CommandError(f"cannot read {archive}: {error.strerror}") from error
            scope, what = "archive", f"archive {archive}"
        else:
            since_at = _since(since) if since else None
            result = verify_database(since=since_at)
            scope, what = "database", "the audit log" + (f" since {since_at:%Y-%m-%d %H:%M}" if since_at else "")
        verification_record(
            result=result, started_at=started, since=None if archive else (since and _since(since)), scope=scope
        )
        summary = f"{result.events_checked} events and {result.seals_checked} seals checked in {what}"
        for note in result.notes:
            self.stderr.write(f"Note: {note}")
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"OK: {summary}; nothing altered, removed or inserted."))
            return
        self.stdout.write(self.style.ERROR(f"FAILED: {summary}; {result.problem_count} problem(s)."))
        self.stdout.write(f"First: {result.first_problem}")
        for problem in result.problems[1:SHOWN]:
            self.stdout.write(f"  then: {problem}")
        if result.problem_count > SHOWN:
            self.stdout.write(f"  ... and {result.problem_count - SHOWN} more")
        raise SystemExit(1)
