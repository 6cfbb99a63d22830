"""Reads of saga monitoring, for the Sagas tab, the execution page, and the entity and team pages.

Everything here reads the database only (the sync wrote it); nothing waits on AWS. Each function is
a fixed number of queries, whatever the number of executions.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.urls import reverse

from observability.models import SagaAlert, SagaExecution, SagaStateMachine
from observability.sagas.outcomes import Outcome
from observability.timeranges import Window

# The order outcomes are stacked and listed in, the worst last so it sits on top.
OUTCOME_ORDER = (
    Outcome.COMMITTED,
    Outcome.RUNNING,
    SagaExecution.PENDING,
    Outcome.COMPENSATED,
    Outcome.FAILED,
    Outcome.STUCK,
    Outcome.COMPENSATION_FAILED,
)
ALERTS_SHOWN = 20


# --- state machines -------------------------------------------------------------------------------------------


def entity_sagas(entity) -> list[SagaStateMachine]:
    """The state machines of a Component (linked or named) or a state-machine Resource, sagas first (one query)."""
    return list(
        SagaStateMachine.objects.filter(Q(resource=entity) | Q(component=entity))
        .select_related("account")
        .order_by("-is_saga", "name", "pk")
    )


# --- executions ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    start: datetime
    counts: Mapping[str, int]

    @property
    def finished(self) -> int:
        return sum(n for outcome, n in self.counts.items() if outcome not in (Outcome.RUNNING, SagaExecution.PENDING))

    def share(self, *outcomes) -> float | None:
        """Percent of this bucket's finished executions with one of `outcomes`; None with none finished."""
        finished = self.finished
        return 100.0 * sum(self.counts.get(o, 0) for o in outcomes) / finished if finished else None


@dataclass(frozen=True)
class OutcomeSeries:
    window: Window
    buckets: list[Bucket]
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def outcome_series(machine: SagaStateMachine, window: Window) -> OutcomeSeries:
    """Executions started in the window, counted per bar and outcome (one grouped query)."""
    bar = timedelta(seconds=window.period)
    trunc = TruncDay if bar >= timedelta(days=1) else TruncHour
    rows = (
        SagaExecution.objects.filter(state_machine=machine, started_at__gte=window.start, started_at__lt=window.end)
        .annotate(slot=trunc("started_at", tzinfo=UTC))
        .values("slot", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    step = bar.total_seconds()
    counts: dict[int, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for row in rows:
        index = int((row["slot"] - window.start).total_seconds() // step)
        bucket = counts.setdefault(index, {})
        bucket[row["outcome"]] = bucket.get(row["outcome"], 0) + row["n"]
        totals[row["outcome"]] = totals.get(row["outcome"], 0) + row["n"]
    buckets = [Bucket(start=window.start + i * bar, counts=counts.get(i, {})) for i in range(window.points)]
    return OutcomeSeries(window=window, buckets=buckets, totals=totals)


def saga_executions(machine: SagaStateMachine, *, window: Window, outcome: str = "") -> QuerySet:
    """The executions listed on the tab, newest first, without the columns the list does not show."""
    rows = SagaExecution.objects.filter(
        state_machine=machine, started_at__gte=window.start, started_at__lt=window.end
    ).defer("states", "cause")
    if outcome:
        rows = rows.filter(outcome=outcome)
    return rows.order_by("-started_at", "-pk")


def saga_execution(pk) -> SagaExecution | None:
    return (
        SagaExecution.objects.select_related(
            "state_machine", "state_machine__account", "state_machine__resource", "state_machine__component"
        )
        .filter(pk=pk)
        .first()
    )


# --- alerts ----------------------------------------------------------------------------------------------------

_OPEN = Q(resolved_at__isnull=True, acknowledged_at__isnull=True)


def saga_alerts(machine: SagaStateMachine) -> list[SagaAlert]:
    """The saga's latest alerts, open or not, for its tab (one query)."""
    return list(
        SagaAlert.objects.filter(state_machine=machine)
        .select_related("execution", "acknowledged_by")
        .defer("execution__states", "execution__cause")
        .order_by("-raised_at", "-pk")[:ALERTS_SHOWN]
    )


def sagas_tab_url(entity) -> str:
    return reverse("catalog:entity_tab", args=[entity.namespace, entity.kind_key, entity.name, "sagas"])


def entity_open_alerts_link(entity, counts: dict[str, int]) -> str:
    """Where the header badge leads: the entity's Sagas tab, or (a Component without one) the newest alert's
    execution (one query, only when there are alerts)."""
    from observability.sagas.marking import has_sagas_tab

    if not counts:
        return ""
    if has_sagas_tab(entity):
        return sagas_tab_url(entity)
    pk = (
        SagaAlert.objects.filter(_OPEN)
        .filter(Q(state_machine__resource=entity) | Q(state_machine__component=entity))
        .order_by("-raised_at", "-pk")
        .values_list("execution_id", flat=True)
        .first()
    )
    return reverse("observability:saga_execution", args=[pk]) if pk else ""


def entity_open_alert_counts(entity) -> dict[str, int]:
    """Open alerts of the sagas of an entity, by kind, for its page header (one query)."""
    rows = (
        SagaAlert.objects.filter(_OPEN)
        .filter(Q(state_machine__resource=entity) | Q(state_machine__component=entity))
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["kind"]: row["n"] for row in rows}


def team_open_alerts(team, *, limit: int = ALERTS_SHOWN) -> tuple[list[SagaAlert], int]:
    """A team's open saga alerts, newest first, and how many there are (two queries at most)."""
    rows = (
        SagaAlert.objects.filter(_OPEN, owner_team=team)
        .select_related("execution", "state_machine", "state_machine__resource", "state_machine__component")
        .defer("execution__states", "execution__cause")
        .order_by("-raised_at", "-pk")
    )
    shown = list(rows[:limit])
    return shown, len(shown) if len(shown) < limit else rows.count()


def teams_open_alerts(teams, *, limit: int = ALERTS_SHOWN) -> tuple[list[SagaAlert], int]:
    """Some teams' open saga alerts, newest first, and how many there are (two queries at most, whatever the
    number of teams)."""
    rows = (
        SagaAlert.objects.filter(_OPEN, owner_team__in=list(teams))
        .select_related("execution", "state_machine", "owner_team")
        .defer("execution__states", "execution__cause")
        .order_by("-raised_at", "-pk")
    )
    shown = list(rows[:limit])
    return shown, len(shown) if len(shown) < limit else rows.count()
