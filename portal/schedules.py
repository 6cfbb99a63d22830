"""Every periodic schedule of the project, in one place, each with an expiry.

Celery beat reads schedules from the database (django-celery-beat), so that
an admin can change an interval or disable a task in the admin.
`schedules_sync()` puts the ones below there: it creates what is missing and
never touches a row that exists, so an admin's change survives every deploy.
To change a default for existing installations, rename the entry (the old
row then has to be removed in the admin) or change it in the admin.

When it runs: after every `migrate` (a post_migrate handler, connected in
portal.aws.apps). Why not a separate `schedules_sync` command: every
environment already runs `migrate` on deploy and on `make run`, so no
deploy script can forget the step, and create-if-missing is safe to run
each time (Django creates its permissions and content types the same way).

`expires`: a run that waited in the queue longer than this is dropped, since
the next run is already on its way; it is kept below the interval so runs
never pile up behind a stalled worker.
"""

import json
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask


@dataclass(frozen=True)
class Schedule:
    name: str  # PeriodicTask.name, the key: unique, shown in the admin
    task: str
    every: timedelta
    expires: timedelta
    kwargs: dict = field(default_factory=dict)
    description: str = ""


SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        name="aws: verify accounts",
        task="portal.aws.tasks.aws_accounts_verify_all",
        every=timedelta(minutes=15),
        expires=timedelta(minutes=10),
        description="Checks that the portal still gets into every enabled AWS account.",
    ),
    Schedule(
        name="catalog: discover AWS resources",
        task="catalog.tasks.catalog_discover_all",
        every=timedelta(minutes=15),
        expires=timedelta(minutes=10),
        description="Reads the tagging API of every enabled account and region into Resource entities.",
    ),
    Schedule(
        name="catalog: resolve relations",
        task="catalog.tasks.relations_resolve",
        every=timedelta(minutes=10),
        expires=timedelta(minutes=9),
        description="Resolves relations whose target exists but which an import could not resolve after commit.",
    ),
    Schedule(
        name="catalog: scorecards",
        task="catalog.tasks.scorecards_compute",
        every=timedelta(hours=1),
        expires=timedelta(minutes=50),
        description="Scores every entity and writes today's rollups per team and system (their trend).",
    ),
    Schedule(
        name="catalog: scorecards of changed entities",
        task="catalog.tasks.scorecards_compute_changed",
        every=timedelta(minutes=2),
        expires=timedelta(minutes=1),
        description="Scores new and edited entities, and those related to them, between the hourly runs.",
    ),
    Schedule(
        name="observability: sync CloudWatch alarms",
        task="observability.tasks.cloudwatch_sync_all",
        every=timedelta(minutes=5),
        expires=timedelta(minutes=4),
        description="Reads every enabled account and region's CloudWatch alarms (and target groups' load "
        "balancers, REST APIs' names) into the database, where pages read alarm states.",
    ),
    Schedule(
        name="observability: sync sagas",
        task="observability.saga_tasks.sagas_sync_all",
        every=timedelta(minutes=5),
        expires=timedelta(minutes=4),
        description="Links the catalog's state machines, then syncs each saga's new and running executions.",
    ),
    Schedule(
        name="audit: seal events",
        task="audit.tasks.audit_seal",
        every=timedelta(minutes=1),
        expires=timedelta(seconds=50),
        description="Writes a signed seal over the audit events committed since the last one (docs/audit.md).",
    ),
    Schedule(
        name="audit: verify the log",
        task="audit.tasks.audit_verify",
        every=timedelta(days=1),
        expires=timedelta(hours=12),
        description="Checks every audit event and seal (manage.py audit_verify); the audit page shows the outcome.",
    ),
    Schedule(
        name="audit: retention",
        task="audit.tasks.audit_retention",
        every=timedelta(hours=1),
        expires=timedelta(minutes=50),
        description="Archives audit events older than AUDIT_RETENTION_DAYS to a file with their seals, then "
        "removes them (nothing when it is 0).",
    ),
)


@dataclass
class SchedulesSyncResult:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def schedules_sync(*, using: str = "default") -> SchedulesSyncResult:
    """Create the PeriodicTask rows that are missing; leave existing ones exactly as they are."""
    result = SchedulesSyncResult()
    with transaction.atomic(using=using):
        existing = set(
            PeriodicTask.objects.using(using)
            .filter(name__in=[s.name for s in SCHEDULES])
            .values_list("name", flat=True)
        )
        for schedule in SCHEDULES:
            if schedule.name in existing:
                result.kept.append(schedule.name)
                continue
            every = {"every": int(schedule.every.total_seconds()), "period": IntervalSchedule.SECONDS}
            # filter().first(): the admin may have made duplicate intervals, which get_or_create refuses.
            interval = IntervalSchedule.objects.using(using).filter(**every).order_by("pk").first()
            if interval is None:
                interval = IntervalSchedule.objects.using(using).create(**every)
            PeriodicTask.objects.using(using).create(
                name=schedule.name,
                task=schedule.task,
                interval=interval,
                kwargs=json.dumps(schedule.kwargs),
                expire_seconds=int(schedule.expires.total_seconds()),
                description=schedule.description,
            )
            result.created.append(schedule.name)
    return result
