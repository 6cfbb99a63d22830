"""The Step Functions gateway of saga monitoring: ListExecutions, GetExecutionHistory, DescribeStateMachine.

Rate quotas. Step Functions throttles these APIs with a token bucket per account and region
(AWS docs, "Step Functions service quotas", API action throttling, Standard workflows):

| API                  | bucket | refill/s in us-east-1, us-west-2, eu-west-1 | bucket | refill/s elsewhere |
|----------------------|--------|---------------------------------------------|--------|--------------------|
| ListExecutions       | 200    | 5                                           | 100    | 2                  |
| GetExecutionHistory  | 400    | 20                                          | 400    | 20                 |
| DescribeStateMachine | 200    | 20                                          | 200    | 20                 |

The buckets are shared with everything else that calls these APIs in the account (the console, CI,
the services), so the portal keeps to a share of the smaller refill rates, set per operation by
SAGA_RATE_LIST_EXECUTIONS (1/s), SAGA_RATE_GET_EXECUTION_HISTORY (5/s) and
SAGA_RATE_DESCRIBE_STATE_MACHINE (2/s), paced across all workers (portal.aws.pacing), with
botocore's standard retries for the odd ThrottlingException on top. Pages are as large as the APIs
allow (1000 executions, 1000 events), so a sync makes as few calls as it can.

Functions return dataclasses and raise portal.aws.errors.AwsError subclasses. The IAM actions are
states:ListExecutions, states:GetExecutionHistory and states:DescribeStateMachine.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from portal.aws.clients import client
from portal.aws.errors import AwsError, AwsNotFound, aws_errors
from portal.aws.pacing import Pacer

# Error messages and IAM name the service "states"; boto3 names its client "stepfunctions".
SERVICE = "states"
CLIENT = "stepfunctions"
PAGE_SIZE = 1000  # ListExecutions' and GetExecutionHistory's maxResults maximum

# Step Functions' own words for "not found" (an execution past its 90 days of history, a deleted machine).
_DOES_NOT_EXIST = frozenset({"ExecutionDoesNotExist", "StateMachineDoesNotExist"})

RUNNING = "RUNNING"
FINISHED_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


@dataclass(frozen=True)
class ExecutionSummary:
    arn: str
    name: str
    status: str  # RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE
    started_at: datetime
    stopped_at: datetime | None


@dataclass(frozen=True)
class HistoryEvent:
    """One event of an execution's history, with only what saga monitoring reads."""

    id: int
    previous_id: int
    type: str  # e.g. TaskStateEntered, TaskFailed, ExecutionSucceeded
    timestamp: datetime
    state_name: str = ""  # for *StateEntered / *StateExited
    error: str = ""  # for failures
    cause: str = ""


@dataclass(frozen=True)
class StateMachineDefinition:
    arn: str
    name: str
    type: str  # STANDARD or EXPRESS
    status: str
    definition: dict  # the Amazon States Language document, parsed


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _rate(operation: str) -> float:
    return {
        "ListExecutions": settings.SAGA_RATE_LIST_EXECUTIONS,
        "GetExecutionHistory": settings.SAGA_RATE_GET_EXECUTION_HISTORY,
        "DescribeStateMachine": settings.SAGA_RATE_DESCRIBE_STATE_MACHINE,
    }[operation]


class StepFunctions:
    """One account and region's Step Functions, through one client and one pacer."""

    def __init__(self, account, region: str, *, pacer: Pacer | None = None):
        self.account = account
        self.region = region
        self.pacer = pacer or Pacer()
        self._client = None

    def _sfn(self):
        if self._client is None:
            with aws_errors(account=self.account, service=SERVICE):
                self._client = client(CLIENT, account=self.account, region=self.region)
        return self._client

    def _call(self, operation: str, method: str, **params) -> dict:
        self.pacer.take(
            account_id=self.account.account_id,
            region=self.region,
            service=SERVICE,
            operation=operation,
            per_second=_rate(operation),
        )
        try:
            with aws_errors(account=self.account, service=SERVICE):
                return getattr(self._sfn(), method)(**params)
        except AwsError as exc:
            if exc.aws_code in _DOES_NOT_EXIST and not isinstance(exc, AwsNotFound):
                raise AwsNotFound(
                    str(exc), account=exc.account, service=SERVICE, operation=operation, aws_code=exc.aws_code
                ) from exc
            raise

    # --- ListExecutions ------------------------------------------------------------------------------------

    def executions(
        self,
        state_machine_arn: str,
        *,
        since: datetime | None = None,
        status: str | None = None,
        limit: int | None = None,
        page_size: int = PAGE_SIZE,
    ) -> list[ExecutionSummary]:
        """Executions started at or after `since` (all when None), newest first, at most `limit`.

        ListExecutions lists newest first, so paging stops at the first page that reaches past
        `since`: a sync that finds nothing new makes one call.
        """
        found: list[ExecutionSummary] = []
        for summary in self._list(state_machine_arn, status=status, page_size=page_size, since=since):
            found.append(summary)
            if limit is not None and len(found) >= limit:
                break
        return found

    def _list(
        self, arn: str, *, status: str | None, page_size: int, since: datetime | None
    ) -> Iterator[ExecutionSummary]:
        params: dict = {"stateMachineArn": arn, "maxResults": page_size}
        if status:
            params["statusFilter"] = status
        while True:
            page = self._call("ListExecutions", "list_executions", **params)
            for item in page.get("executions", []):
                started = _aware(item["startDate"])
                if since is not None and started < since:
                    return  # newest first: everything after this is older still
                stopped = item.get("stopDate")
                yield ExecutionSummary(
                    arn=item["executionArn"],
                    name=item.get("name", ""),
                    status=item.get("status", ""),
                    started_at=started,
                    stopped_at=_aware(stopped) if stopped else None,
                )
            token = page.get("nextToken")
            if not token:
                return
            params["nextToken"] = token

    # --- GetExecutionHistory -------------------------------------------------------------------------------

    def history(self, execution_arn: str, *, page_size: int = PAGE_SIZE) -> list[HistoryEvent]:
        """Every event of the execution, oldest first (a Standard execution has at most 25,000)."""
        events: list[HistoryEvent] = []
        params: dict = {"executionArn": execution_arn, "maxResults": page_size, "includeExecutionData": False}
        while True:
            page = self._call("GetExecutionHistory", "get_execution_history", **params)
            events.extend(_event(raw) for raw in page.get("events", []))
            token = page.get("nextToken")
            if not token:
                break
            params["nextToken"] = token
        events.sort(key=lambda e: e.id)
        return events

    # --- DescribeStateMachine ------------------------------------------------------------------------------

    def describe(self, state_machine_arn: str) -> StateMachineDefinition:
        answer = self._call("DescribeStateMachine", "describe_state_machine", stateMachineArn=state_machine_arn)
        try:
            definition = json.loads(answer.get("definition") or "{}")
        except ValueError as exc:
            raise AwsError(
                f"The definition of {state_machine_arn} is not JSON ({exc}); the portal cannot tell its states.",
                account=str(self.account),
                service=SERVICE,
                operation="DescribeStateMachine",
            ) from exc
        return StateMachineDefinition(
            arn=answer.get("stateMachineArn", state_machine_arn),
            name=answer.get("name", ""),
            type=answer.get("type", ""),
            status=answer.get("status", ""),
            definition=definition if isinstance(definition, dict) else {},
        )


def _event(raw: dict) -> HistoryEvent:
    """The fields saga monitoring reads, from whichever `...EventDetails` the event type carries."""
    name = error = cause = ""
    for key, details in raw.items():
        if not key.endswith("EventDetails") or not isinstance(details, dict):
            continue
        name = name or str(details.get("name") or "")
        error = error or str(details.get("error") or "")
        cause = cause or str(details.get("cause") or "")
    return HistoryEvent(
        id=int(raw["id"]),
        previous_id=int(raw.get("previousEventId") or 0),
        type=raw.get("type", ""),
        timestamp=_aware(raw["timestamp"]),
        state_name=name,
        error=error[:1000],
        cause=cause[:4000],
    )
