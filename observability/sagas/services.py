"""Writes of saga monitoring: which state machines to watch, the sync of one, alerts, and people's requests.

- `saga_machines_refresh()` mirrors the catalog into SagaStateMachine rows (database only): every
  state-machine Resource with an ARN in an enabled account, and every ARN a Component names in
  `meridian.io/saga-state-machine`; rows nothing names any more stop being synced (`tracked`).
- `saga_sync(machine=)` syncs one state machine, incrementally:
  1. the definition (DescribeStateMachine) when never read or older than SAGA_DEFINITION_REFRESH_SECONDS,
     then the decision (observability.sagas.marking): a state machine that is no saga stops here;
  2. ListExecutions, newest first, down to the newest execution already stored (the first sync: down to
     SAGA_SYNC_LOOKBACK_DAYS ago); new ones are inserted (the ARN is unique, so twice is harmless);
  3. GetExecutionHistory for executions whose history is not final, at most SAGA_SYNC_MAX_HISTORIES a run:
     finished ones first (read once, then never again), then never-read ones, then the running ones
     read longest ago (their progress, and whether they finished);
  4. stuck: running executions past the threshold, read this run or not.
  A sync with nothing new and nothing running makes one ListExecutions call. AWS failures are
  recorded on the row (status, error, error_code) and keep what was stored; the next run goes on.
- Alerts: a failed compensation or a stuck execution raises one SagaAlert per execution and kind,
  audited with the system as the actor; a stuck execution that finishes resolves its alert (audited).
- `saga_sync_request` and `saga_alert_acknowledge`: people's actions, audited.

Not one transaction around AWS calls (they must not hold one open); each execution's update and its
alerts commit together.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, IntegerField, Max, Q, Value, When
from django.utils import timezone

from audit.services import audit_record, snapshot
from catalog import selectors as catalog_selectors
from catalog.annotations import STATE_MACHINE_ANNOTATION
from catalog.selectors import AnnotatedComponent
from observability.models import SagaAlert, SagaExecution, SagaStateMachine
from observability.sagas import marking as sagas
from observability.sagas.aws import RUNNING, StepFunctions
from observability.sagas.outcomes import Classification, Outcome, classify
from portal.actors import Actor
from portal.aws.accounting import count_aws_calls
from portal.aws.errors import AwsError, AwsNotFound
from portal.aws.models import AwsAccount

logger = logging.getLogger(__name__)

SYSTEM = Actor.for_system("task:saga_sync")
# A run that died holds its machine no longer than a task may run.
LEASE = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
# The timeline of a Map over thousands of items would be unreadable and large; the first states are kept.
TIMELINE_MAX_STATES = 300
COMMENT_KEPT = 200
# A run marks at most this many executions stuck (one small transaction each); the next run marks the rest.
STUCK_MARKED_PER_RUN = 1000
_ALERT_AUDIT_FIELDS = ["kind", "message", "raised_at", "resolved_at", "acknowledged_at", "acknowledged_by"]


# --- which state machines ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Link:
    resource_id: int | None
    component_id: int | None
    owner_team_id: int | None


def _components(ids) -> dict[int, AnnotatedComponent]:
    """The given Components and every one naming a state machine in its annotation (one query)."""
    return catalog_selectors.components_with_annotations(ids, or_having=STATE_MACHINE_ANNOTATION)


def _catalog_links() -> dict[str, _Link]:
    """ARN -> the Resource, Component and team the catalog links it to (four queries, whatever the count)."""
    resources = catalog_selectors.resources_of_type("state-machine")
    linked = catalog_selectors.components_of_resources([r.entity_id for r in resources])
    components = _components({pk for ids in linked.values() for pk in ids})

    links: dict[str, _Link] = {}
    for resource in resources:
        arn = resource.arn
        if not isinstance(arn, str) or sagas.state_machine_arn(arn) is None:
            continue
        candidates = sorted(pk for pk in linked.get(resource.entity_id, ()) if pk in components)
        naming = [pk for pk in candidates if sagas.names_state_machine(components[pk].annotations, arn=arn)]
        component_id = (naming or candidates or [None])[0]
        owner = components[component_id].owner_team_id if component_id is not None else None
        links[arn] = _Link(resource.entity_id, component_id, owner or resource.owner_team_id)
    # ARNs a Component names outright, with no Resource entity (not discovered, or not tagged).
    for pk, component in sorted(components.items()):
        for value in sagas.split_list(component.annotations.get(STATE_MACHINE_ANNOTATION)):
            if sagas.state_machine_arn(value) is not None and value not in links:
                links[value] = _Link(None, pk, component.owner_team_id)
    return links


def saga_machines_refresh() -> int:
    """Mirror the catalog's state machines into SagaStateMachine rows; returns how many are tracked."""
    accounts = {a.account_id: a for a in AwsAccount.objects.filter(enabled=True)}
    links = {arn: link for arn, link in _catalog_links().items() if sagas.state_machine_arn(arn).account in accounts}
    with transaction.atomic():
        existing = {m.arn: m for m in SagaStateMachine.objects.select_for_update()}
        changed, created = [], []
        for arn, link in links.items():
            parsed = sagas.state_machine_arn(arn)
            account_id, region = parsed.account, parsed.region
            values = {
                "account_id": accounts[account_id].pk,
                "region": region,
                "name": sagas.state_machine_name(arn),
                "resource_id": link.resource_id,
                "component_id": link.component_id,
                "owner_team_id": link.owner_team_id,
                "tracked": True,
            }
            machine = existing.get(arn)
            if machine is None:
                created.append(SagaStateMachine(arn=arn, **values))
            elif any(getattr(machine, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(machine, name, value)
                changed.append(machine)
        for arn, machine in existing.items():
            if arn not in links and machine.tracked:
                machine.tracked = False
                changed.append(machine)
        SagaStateMachine.objects.bulk_create(created, ignore_conflicts=True)
        if changed:
            fields = ["account_id", "region", "name", "resource_id", "component_id", "owner_team_id", "tracked"]
            SagaStateMachine.objects.bulk_update(changed, fields)
            # Alerts follow their saga to its team's page.
            for machine in changed:
                SagaAlert.objects.filter(state_machine=machine).exclude(owner_team_id=machine.owner_team_id).update(
                    owner_team_id=machine.owner_team_id
                )
    return len(links)


def saga_machines_due(*, now=None) -> list[int]:
    """Ids of the machines a sweep syncs: tracked sagas, and those whose definition is unread or stale."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.SAGA_DEFINITION_REFRESH_SECONDS)
    return list(
        SagaStateMachine.objects.filter(tracked=True, account__enabled=True)
        .filter(Q(is_saga=True) | Q(definition_read_at__isnull=True) | Q(definition_read_at__lt=stale))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _marking(machine: SagaStateMachine) -> sagas.Marking:
    """What the catalog says about this machine now (a few queries). A Component speaks for it when linked to
    its Resource (then by name or ARN) or, linked or not, when it names the ARN."""
    annotations = None
    if machine.resource_id:
        annotations = catalog_selectors.entity_annotations(machine.resource_id)
    linked = (
        catalog_selectors.components_of_resources([machine.resource_id]).get(machine.resource_id, set())
        if machine.resource_id
        else set()
    )
    if machine.component_id:
        linked.add(machine.component_id)
    components = [
        (c.ref_key, c.annotations)
        for pk, c in _components(linked).items()
        if pk in linked or machine.arn in sagas.split_list(c.annotations.get(STATE_MACHINE_ANNOTATION))
    ]
    return sagas.marking(arn=machine.arn, resource_annotations=annotations, components=components)


# --- the sync of one state machine -----------------------------------------------------------------------------


@dataclass
class _Progress:
    listed: int = 0
    histories: int = 0
    alerts: list[str] = field(default_factory=list)


def _claim(machine: SagaStateMachine, now) -> bool:
    """Take the machine for this run (a conditional update: two runs never sync one machine at once)."""
    taken = (
        SagaStateMachine.objects.filter(pk=machine.pk)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE, started_at=now)
    )
    machine.lease_until, machine.started_at = now + LEASE, now
    return taken == 1


def stuck_after(machine: SagaStateMachine) -> timedelta:
    return timedelta(seconds=machine.stuck_after_seconds or settings.SAGA_STUCK_AFTER_SECONDS)


def saga_sync(*, machine: SagaStateMachine, now=None, stepfunctions: StepFunctions | None = None) -> SagaStateMachine:
    """Sync one state machine (see the module docstring); returns it with the run's result recorded."""
    now = now or timezone.now()
    if not _claim(machine, now):
        logger.info("Saga sync of %s skipped: another run holds it until %s", machine, machine.lease_until)
        return machine
    sfn = stepfunctions or StepFunctions(machine.account, machine.region)
    progress = _Progress()
    with count_aws_calls() as calls:
        try:
            decision = _decide(machine, sfn, now)
            if decision.saga:
                progress.listed = _list_new(machine, sfn, now)
                _read_histories(machine, sfn, decision, now, progress)
        except AwsError as exc:
            logger.warning("Saga sync of %s failed: %s", machine, exc, extra={"aws_error": exc.code})
            _mark_stuck(machine, now, progress)
            return _finish(machine, calls, progress, error=str(exc), error_code=exc.code)
    _mark_stuck(machine, now, progress)
    return _finish(machine, calls, progress)


def _decide(machine: SagaStateMachine, sfn: StepFunctions, now) -> sagas.Decision:
    """Saga or not, from the catalog (every run: annotations change) and the definition (read when stale)."""
    mark = _marking(machine)
    stale = machine.definition_read_at is None or now - machine.definition_read_at > timedelta(
        seconds=settings.SAGA_DEFINITION_REFRESH_SECONDS
    )
    fields = []
    if stale:
        described = sfn.describe(machine.arn)
        machine.states = [
            {"name": s.name, "type": s.type, "comment": s.comment[:COMMENT_KEPT]}
            for s in sagas.defined_states(described.definition)
        ]
        machine.definition_read_at = now
        fields += ["states", "definition_read_at"]
    states = [sagas.DefinedState(**s) for s in machine.states] if machine.states is not None else None
    decision = sagas.decide(mark, states)
    values = {
        "is_saga": decision.saga,
        "saga_reason": decision.reason[:300],
        "compensations": decision.compensations.undoes,
        "compensations_source": (mark.compensations_source or decision.compensations.source)[:200],
        "stuck_after_seconds": int(mark.stuck_after.total_seconds()) if mark.stuck_after else None,
    }
    for name, value in values.items():
        if getattr(machine, name) != value:
            setattr(machine, name, value)
            fields.append(name)
    if fields:
        machine.save(update_fields=fields)
    return decision


def _list_new(machine: SagaStateMachine, sfn: StepFunctions, now) -> int:
    """Insert the executions started since the newest one stored; update the status of listed ones that finished."""
    newest = machine.executions.aggregate(newest=Max("started_at"))["newest"]
    since = newest or now - timedelta(days=settings.SAGA_SYNC_LOOKBACK_DAYS)
    listed = sfn.executions(machine.arn, since=since)
    known = dict(SagaExecution.objects.filter(arn__in=[e.arn for e in listed]).values_list("arn", "status"))
    new = [
        SagaExecution(
            state_machine=machine,
            arn=e.arn,
            name=e.name[:80],
            status=e.status,
            started_at=e.started_at,
            stopped_at=e.stopped_at,
        )
        for e in listed
        if e.arn not in known
    ]
    SagaExecution.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    for e in listed:
        if known.get(e.arn) == RUNNING and e.status != RUNNING:
            SagaExecution.objects.filter(arn=e.arn, history_final=False).update(
                status=e.status, stopped_at=e.stopped_at
            )
    return len(new)


def _read_histories(machine, sfn: StepFunctions, decision: sagas.Decision, now, progress: _Progress) -> None:
    definition_known = machine.states is not None

    def compensation_of(state: str) -> str | None:
        return sagas.compensation_of(state, decision.compensations, definition_known=definition_known)

    pending = (
        machine.executions.filter(history_final=False)
        .annotate(running=Case(When(status=RUNNING, then=Value(1)), default=Value(0), output_field=IntegerField()))
        .order_by("running", F("history_read_at").asc(nulls_first=True), "started_at", "pk")
        .only("pk", "arn", "status")[: settings.SAGA_SYNC_MAX_HISTORIES]
    )
    threshold = stuck_after(machine)
    for row in list(pending):
        try:
            events = sfn.history(row.arn)
        except AwsNotFound as exc:
            # Past AWS's 90 days of history, or the state machine was deleted: nothing more to learn.
            SagaExecution.objects.filter(pk=row.pk).update(
                history_final=True, history_read_at=now, history_error=str(exc)[:1000]
            )
            progress.histories += 1
            continue
        result = classify(events, compensation_of=compensation_of, now=now, stuck_after=threshold)
        _store_execution(machine, row.pk, result, now, progress)
        progress.histories += 1


@transaction.atomic
def _store_execution(machine, pk: int, result: Classification, now, progress: _Progress) -> None:
    execution = SagaExecution.objects.select_for_update().get(pk=pk)
    visits = [v.as_dict() for v in result.visits[:TIMELINE_MAX_STATES]]
    values = {
        "status": result.status,
        "stopped_at": result.stopped_at,
        "outcome": str(result.outcome),
        "failed_step": result.failed_step[:80],
        "compensations": list(result.compensations),
        "failed_compensation": result.failed_compensation[:80],
        "error": result.error[:256],
        "cause": result.cause[:4000],
        "states": visits,
        "history_events": result.events,
        "history_read_at": now,
        "history_final": result.status != RUNNING,
        "history_error": "",
    }
    for name, value in values.items():
        setattr(execution, name, value)
    execution.save(update_fields=list(values))
    _alerts_for(machine, execution, now, progress)


def _alerts_for(machine, execution: SagaExecution, now, progress: _Progress) -> None:
    if execution.outcome == Outcome.COMPENSATION_FAILED:
        _raise_alert(
            machine,
            execution,
            SagaAlert.Kind.COMPENSATION_FAILED,
            f"{execution.failed_compensation} failed ({execution.error or 'no error given'}) while undoing "
            f"{execution.failed_step or 'the saga'}: execution {execution.name} of {machine.name} may have left "
            "something half done.",
            now,
            progress,
        )
    if execution.outcome == Outcome.STUCK:
        running_for = now - execution.started_at
        _raise_alert(
            machine,
            execution,
            SagaAlert.Kind.STUCK,
            f"Execution {execution.name} of {machine.name} has been running for {human_duration(running_for)}, "
            f"longer than {human_duration(stuck_after(machine))}.",
            now,
            progress,
        )
    elif execution.status != RUNNING:
        _resolve_stuck(execution, now)


def _raise_alert(machine, execution, kind: str, message: str, now, progress: _Progress) -> None:
    alert, created = SagaAlert.objects.get_or_create(
        execution=execution,
        kind=kind,
        defaults={
            "state_machine": machine,
            "owner_team_id": machine.owner_team_id,
            "message": message,
            "raised_at": now,
        },
    )
    if created:
        audit_record(actor=SYSTEM, action="saga_alert.raise", target=alert, after=_alert_snapshot(alert))
        progress.alerts.append(kind)


def _resolve_stuck(execution: SagaExecution, now) -> None:
    alert = (
        SagaAlert.objects.select_for_update()
        .filter(execution=execution, kind=SagaAlert.Kind.STUCK, resolved_at__isnull=True)
        .first()
    )
    if alert is None:
        return
    before = _alert_snapshot(alert)
    alert.resolved_at = now
    alert.save(update_fields=["resolved_at"])
    audit_record(actor=SYSTEM, action="saga_alert.resolve", target=alert, before=before, after=_alert_snapshot(alert))


def _mark_stuck(machine, now, progress: _Progress) -> None:
    """Running executions past the threshold are stuck, whether or not this run could read their history."""
    limit = now - stuck_after(machine)
    stuck = machine.executions.filter(
        status=RUNNING, started_at__lt=limit, outcome__in=[SagaExecution.PENDING, Outcome.RUNNING]
    ).values_list("pk", flat=True)[:STUCK_MARKED_PER_RUN]
    for pk in list(stuck):
        with transaction.atomic():
            execution = SagaExecution.objects.select_for_update().get(pk=pk)
            execution.outcome = Outcome.STUCK
            execution.save(update_fields=["outcome"])
            _alerts_for(machine, execution, now, progress)


def _finish(machine, calls, progress: _Progress, *, error: str = "", error_code: str = "") -> SagaStateMachine:
    now = timezone.now()
    machine.status = SagaStateMachine.Status.ERROR if error else SagaStateMachine.Status.OK
    machine.finished_at = now
    machine.error, machine.error_code = error, error_code
    machine.last_listed, machine.last_histories = progress.listed, progress.histories
    machine.last_calls = {operation: n for (_, operation), n in sorted(calls.items())}
    machine.lease_until = None
    fields = ["status", "finished_at", "error", "error_code", "last_listed", "last_histories", "last_calls"]
    fields.append("lease_until")
    if not error:
        machine.last_success_at = now
        fields.append("last_success_at")
    machine.save(update_fields=fields)
    logger.info(
        "Saga sync of %s: %s, %s new executions, %s histories read, %s alerts raised",
        machine,
        machine.status,
        progress.listed,
        progress.histories,
        len(progress.alerts),
        extra={"aws_calls": calls.total},
    )
    return machine


def human_duration(span: timedelta) -> str:
    """ "2 h 5 min", "3 d 4 h", "45 s": two units at most."""
    seconds = int(span.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def _alert_snapshot(alert: SagaAlert) -> dict:
    data = snapshot(alert, fields=_ALERT_AUDIT_FIELDS)
    data["execution"] = alert.execution.arn
    return data


# --- people's actions ------------------------------------------------------------------------------------------


@transaction.atomic
def saga_sync_request(*, actor: Actor, machine: SagaStateMachine) -> None:
    """Ask for a sync of this saga now (the "Sync now" button); the task runs after commit."""
    from observability.sagas.tasks import saga_sync as saga_sync_task

    audit_record(actor=actor, action="saga.sync_request", target=machine)
    pk = machine.pk
    transaction.on_commit(lambda: saga_sync_task.delay(pk))


@transaction.atomic
def saga_alert_acknowledge(*, actor: Actor, alert: SagaAlert) -> SagaAlert:
    """Someone has looked at the alert: it leaves the entity and team pages (it stays on the saga's tab)."""
    alert = SagaAlert.objects.select_for_update().select_related("execution").get(pk=alert.pk)
    if alert.acknowledged_at is not None:
        return alert
    before = _alert_snapshot(alert)
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = actor.user
    alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    after = _alert_snapshot(alert)
    audit_record(actor=actor, action="saga_alert.acknowledge", target=alert, before=before, after=after)
    return alert
