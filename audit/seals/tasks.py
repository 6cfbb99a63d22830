"""The audit log's periodic tasks (portal/schedules.py): the sealer, retention, and a daily verification.
Each is safe to run twice at once: sealers race on a unique seal number and the loser rolls back, retention
locks the seals it archives, and a verification only reads (and records its outcome)."""

import logging

from celery import shared_task
from django.utils import timezone

from audit.seals.archive import archive_expired
from audit.seals.services import SealRaceError, seals_create
from audit.seals.verify import verification_record, verify_database
from portal.actors import Actor

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.audit_seal")
def audit_seal() -> int:
    """Seal the events committed since the last seal; the number of events sealed."""
    try:
        run = seals_create()
    except SealRaceError as error:
        # Another sealer won this round; what is left is sealed by the next run.
        logger.info("audit sealer lost a race: %s", error)
        return 0
    if run.seals:
        logger.info("audit sealer: %s events under %s seal(s)", run.events, run.seals)
    return run.events


@shared_task(name="audit.tasks.audit_retention")
def audit_retention() -> int:
    """Archive and remove the events older than AUDIT_RETENTION_DAYS, a batch of seals at a time."""
    archive = archive_expired(actor=Actor.for_system("audit-retention"))
    return archive.event_count if archive else 0


@shared_task(name="audit.tasks.audit_verify")
def audit_verify() -> bool:
    """Verify the whole log (what `manage.py audit_verify` does), so the audit page shows a recent check."""
    started = timezone.now()
    result = verify_database()
    verification_record(result=result, started_at=started)
    if not result.ok:
        logger.error("audit log verification failed: %s", result.first_problem)
    return result.ok
