"""What became of one saga execution, read from its Step Functions history. Pure: no database, no AWS.

Outcomes (the first that applies):

- running / stuck: no terminal event yet; stuck once it has run longer than the threshold.
- compensation failed: a compensation state did not finish its work: its last task attempt failed
  (even if a Catch moved on), or the execution ended (failed, timed out, aborted) inside it.
- compensated: compensations ran and each finished, whether the execution then ended in a Fail
  state (the order saga's OrderFailed) or a Succeed state.
- committed: the execution succeeded and no compensation ran.
- failed: the execution failed (or timed out, or was aborted) and no compensation ran: the step
  that failed had nothing before it to undo, or the saga is missing a compensation path.

"Which step failed" is the last forward state whose last attempt failed before the first
compensation (or before the end); when a Choice sent the saga to its compensations without an
error, the last forward step before it. Compensations are listed in the order they ran.

The history is a flat list of events; a state's events are chained by previousEventId from its
*StateEntered event to its *StateExited event, which is how the events of concurrent Parallel
branches and Map iterations are told apart.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the models import this module; it needs none of the gateway at run time
    from observability.sagas.aws import HistoryEvent


class Outcome(StrEnum):
    COMMITTED = "committed"
    COMPENSATED = "compensated"
    COMPENSATION_FAILED = "compensation_failed"
    FAILED = "failed"
    STUCK = "stuck"
    RUNNING = "running"


OUTCOME_LABELS = {
    Outcome.COMMITTED: "Committed",
    Outcome.COMPENSATED: "Compensated",
    Outcome.COMPENSATION_FAILED: "Compensation failed",
    Outcome.FAILED: "Failed, nothing compensated",
    Outcome.STUCK: "Stuck",
    Outcome.RUNNING: "Running",
}


class VisitStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RUNNING = "running"


# Terminal events of an execution, and the status each gives it.
_EXECUTION_END = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}
# Events that end one attempt of a state's work (a Task's integration, a Lambda, an activity, a Parallel or Map).
_ATTEMPT_FAILED = frozenset(
    {
        "TaskFailed",
        "TaskTimedOut",
        "TaskStartFailed",
        "TaskSubmitFailed",
        "LambdaFunctionFailed",
        "LambdaFunctionTimedOut",
        "LambdaFunctionStartFailed",
        "LambdaFunctionScheduleFailed",
        "ActivityFailed",
        "ActivityTimedOut",
        "ActivityScheduleFailed",
        "ParallelStateFailed",
        "MapStateFailed",
        "MapRunFailed",
        "MapStateAborted",
        "ParallelStateAborted",
    }
)
_ATTEMPT_SUCCEEDED = frozenset(
    {
        "TaskSucceeded",
        "TaskSubmitted",
        "LambdaFunctionSucceeded",
        "ActivitySucceeded",
        "ParallelStateSucceeded",
        "MapStateSucceeded",
        "MapRunSucceeded",
    }
)
# State types that end an execution or only route it: never "the step that failed".
_NOT_STEPS = frozenset({"Fail", "Succeed", "Choice"})


@dataclass
class StateVisit:
    """One run of one state: from its *StateEntered event to its *StateExited event (or the end)."""

    name: str
    type: str  # Task, Pass, Choice, Wait, Parallel, Map, Succeed, Fail
    entered_at: datetime
    exited_at: datetime | None = None
    status: VisitStatus = VisitStatus.RUNNING
    compensates: str | None = None  # the forward step it undoes, when it is a compensation
    attempts: int = 0
    error: str = ""
    cause: str = ""
    _last_attempt_failed: bool = field(default=False, repr=False)

    @property
    def compensation(self) -> bool:
        return self.compensates is not None

    def as_dict(self) -> dict:
        """For the database (SagaExecution.states) and the timeline."""
        return {
            "name": self.name,
            "type": self.type,
            "entered_at": self.entered_at.isoformat(),
            "exited_at": self.exited_at.isoformat() if self.exited_at else None,
            "status": str(self.status),
            "compensation": self.compensation,
            "compensates": self.compensates or "",
            "attempts": self.attempts,
            "error": self.error,
            "cause": self.cause[:500],
        }


@dataclass(frozen=True)
class Classification:
    outcome: Outcome
    status: str  # the execution's status by its history: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
    started_at: datetime | None
    stopped_at: datetime | None
    failed_step: str = ""
    compensations: tuple[str, ...] = ()  # compensation states that ran, in order
    failed_compensation: str = ""
    error: str = ""
    cause: str = ""
    visits: tuple[StateVisit, ...] = ()
    events: int = 0


def classify(
    events: "Sequence[HistoryEvent]",
    *,
    compensation_of: Callable[[str], str | None],
    now: datetime,
    stuck_after: timedelta,
) -> Classification:
    """The outcome of one execution from its history (oldest event first).

    `compensation_of(state)` gives the forward step a state undoes, or None when it is not a
    compensation (observability.sagas.marking.compensation_of with the saga's rule).
    """
    visits: list[StateVisit] = []
    visit_of: dict[int, StateVisit] = {}  # event id -> the visit it belongs to
    started_at = stopped_at = None
    status, error, cause = "RUNNING", "", ""

    for event in events:
        if event.type == "ExecutionStarted":
            started_at = event.timestamp
            continue
        if event.type in _EXECUTION_END:
            status, stopped_at = _EXECUTION_END[event.type], event.timestamp
            error, cause = event.error, event.cause
            if event.type == "ExecutionAborted" and not error:
                error = "Aborted"
            elif event.type == "ExecutionTimedOut" and not error:
                error = "States.Timeout"
            continue
        if event.type.endswith("StateEntered"):
            visit = StateVisit(
                name=event.state_name,
                type=event.type[: -len("StateEntered")],
                entered_at=event.timestamp,
                compensates=compensation_of(event.state_name),
            )
            visits.append(visit)
            visit_of[event.id] = visit
            continue
        visit = _owner(event, visit_of, visits)
        if visit is None:
            continue
        visit_of[event.id] = visit
        if event.type.endswith("StateExited"):
            visit.exited_at = event.timestamp
            visit.status = VisitStatus.FAILED if visit._last_attempt_failed else VisitStatus.SUCCEEDED
        elif event.type in _ATTEMPT_FAILED:
            visit.attempts += 1
            visit._last_attempt_failed = True
            visit.error, visit.cause = event.error or event.type, event.cause
        elif event.type in _ATTEMPT_SUCCEEDED:
            visit.attempts += 1
            visit._last_attempt_failed = False

    if status != "RUNNING":
        _close_open_visits(visits, stopped_at, error, cause)

    compensation_visits = [v for v in visits if v.compensation]
    ran = tuple(v.name for v in compensation_visits)
    failed_compensation = next((v for v in compensation_visits if v.status == VisitStatus.FAILED), None)
    first_compensation = visits.index(compensation_visits[0]) if compensation_visits else len(visits)
    failed_step = _failed_step(visits[:first_compensation])

    if status == "RUNNING":
        running_for = now - started_at if started_at else timedelta(0)
        outcome = Outcome.STUCK if running_for > stuck_after else Outcome.RUNNING
    elif failed_compensation is not None:
        outcome = Outcome.COMPENSATION_FAILED
    elif compensation_visits:
        outcome = Outcome.COMPENSATED
    elif status == "SUCCEEDED":
        outcome, failed_step = Outcome.COMMITTED, ""
    else:
        outcome = Outcome.FAILED

    if outcome == Outcome.COMMITTED or (outcome in (Outcome.RUNNING, Outcome.STUCK) and not compensation_visits):
        failed_step = ""
    return Classification(
        outcome=outcome,
        status=status,
        started_at=started_at,
        stopped_at=stopped_at,
        failed_step=failed_step,
        compensations=ran,
        failed_compensation=failed_compensation.name if failed_compensation else "",
        error=failed_compensation.error if failed_compensation else error,
        cause=failed_compensation.cause if failed_compensation else cause,
        visits=tuple(visits),
        events=len(events),
    )


def _owner(event: "HistoryEvent", visit_of: dict[int, StateVisit], visits: list[StateVisit]) -> StateVisit | None:
    """The visit an event belongs to: by its previousEventId chain, else the newest open visit (by name for exits)."""
    visit = visit_of.get(event.previous_id)
    if event.type.endswith("StateExited"):
        if visit is not None and visit.name == event.state_name and visit.exited_at is None:
            return visit
        return next((v for v in reversed(visits) if v.name == event.state_name and v.exited_at is None), None)
    if visit is not None:
        return visit
    return next((v for v in reversed(visits) if v.exited_at is None), None)


def _close_open_visits(visits: list[StateVisit], stopped_at, error: str, cause: str) -> None:
    """The execution has ended: a state still open ended with it, and did not finish its work (a Fail
    state is the exception: being entered is all it does)."""
    for visit in visits:
        if visit.exited_at is not None:
            continue
        visit.exited_at = stopped_at
        if visit.type in ("Fail", "Succeed"):
            visit.status = VisitStatus.SUCCEEDED
            continue
        visit.status = VisitStatus.FAILED
        if not visit._last_attempt_failed or not visit.error:
            visit.error, visit.cause = error, cause


def _failed_step(forward: list[StateVisit]) -> str:
    for visit in reversed(forward):
        if visit.status == VisitStatus.FAILED and visit.type not in _NOT_STEPS:
            return visit.name
    # No error, yet the saga turned back (a Choice on a step's answer): the last step before the turn.
    for visit in reversed(forward):
        if visit.type not in _NOT_STEPS:
            return visit.name
    return ""
