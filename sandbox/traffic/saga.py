"""The order saga: walk its state machine for the model, and run the same executions in the sandbox.

`walk_saga` follows the state machine's own definition (the estate YAML), as Step Functions would:
Task states run the saga's functions (each makes its calls through the model, so a 5xx from
payments-api fails ChargePayment), Retry and Catch send a failed step to its compensations, the
Choice sends a backordered reservation to the Wait, Succeed and Fail end it. It returns the saga's
X-Ray span and records a `SagaRun`: which functions must fail (and with which error), whether the
reservation is on backorder, the states entered, and the outcome:

- committed: OrderCompleted;
- compensated: a step failed and its predecessors' compensations ran (OrderFailed);
- compensation_failed: a compensation failed too; the execution FAILED inside Compensate*;
- failed: the first step failed, with nothing to compensate (OrderFailed);
- waiting: on backorder, waiting hours in WaitForRestock (stuck, as the portal sees it).

`start_executions` starts a window's runs in the sandbox with StartExecution: the input carries
`sandbox_failures` (see sandbox/extensions/lambda_outcomes.py) and `backorder_seconds`, so moto's
interpreter takes the same path through the same states. Executions are named after their order
(`ord-<yyyymmdd>-<hhmm>-<n>`), so starting a window twice starts nothing new.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sandbox import estate
from sandbox.extensions.lambda_outcomes import FAILURES_KEY
from sandbox.traffic.model import Component, Operation

if TYPE_CHECKING:
    from sandbox.traffic.simulate import SagaRun, Span, Walker

logger = logging.getLogger(__name__)

OUTCOMES = ("committed", "compensated", "compensation_failed", "failed", "waiting")
_RETRY_DEFAULTS = {"MaxAttempts": 3, "IntervalSeconds": 1, "BackoffRate": 2.0}


def _matches(error_equals: list[str], error: str) -> bool:
    return "States.ALL" in error_equals or "States.TaskFailed" in error_equals or error in error_equals


def _function_name(resource: str) -> str:
    return resource.rsplit(":", 1)[-1]


def _present(data: dict[str, Any], path: str) -> bool:
    node: Any = data
    for part in path.removeprefix("$.").split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _choose(state: dict[str, Any], data: dict[str, Any]) -> str:
    """A Choice state's next state; only `IsPresent` tests are modelled (all the saga uses)."""
    for rule in state.get("Choices", []):
        if "IsPresent" not in rule:
            raise ValueError(f"the traffic model only follows IsPresent choices, not {rule}")
        if _present(data, rule["Variable"]) == bool(rule["IsPresent"]):
            return rule["Next"]
    return state["Default"]


def _run_function(walker: Walker, saga: Component, operation: Operation, state_name: str, span: Span,
                  start: float, weight: float) -> tuple[float, dict[str, str] | None]:  # fmt: skip
    """One invocation of a saga function; (when it ended, the failure it raised or None)."""
    rng = walker.rng
    own = operation.latency.sample(rng)
    cursor = start + own * 0.5 / 1000
    failure = None
    if rng.random() < operation.faults:
        failure = {"error": operation.error_type, "cause": f"{operation.function} failed: {operation.error_type}"}
    else:
        for call in operation.calls:
            made = walker.call(span, call, cursor, weight, state=state_name)
            span.calls.append(made)
            cursor = made.end
            if call.kind == "service" and made.status >= 400:
                failure = {
                    "error": f"HTTP{made.status}",
                    "cause": f"{call.target} answered {made.status} to {call.operation}",
                }
                break
    end = cursor + own * 0.5 / 1000
    tally = walker.window.functions[operation.function]
    tally.requests += weight
    tally.faults += weight if failure else 0
    tally.sample((end - start) * 1000, weight)
    return end, failure


def walk_saga(walker: Walker, start: float, weight: float, caller: Span) -> Span:
    """One execution of the saga, started at `start` by the caller's event; its span."""
    from sandbox.traffic.simulate import SagaRun, Span

    model, rng = walker.model, walker.rng
    saga = model.saga
    states = model.saga_definition["States"]
    order_id = caller.annotations.get("order_id") or walker.next_order_id(start)
    caller.annotations["order_id"] = order_id
    span = Span(component=saga, operation="StartExecution", start=start, annotations={"order_id": order_id})
    backorder = None
    if rng.random() < saga.backorder_share:
        low, high = saga.backorder_hours
        backorder = int(rng.uniform(low, high) * 3600)
    data: dict[str, Any] = {"orderId": order_id}
    if backorder is not None:
        data["backorder_seconds"] = backorder
    failures: dict[str, dict[str, str]] = {}
    visited: list[str] = []
    cursor = start + 0.02
    name = model.saga_definition["StartAt"]
    outcome = "committed"
    while True:
        visited.append(name)
        state = states[name]
        kind = state["Type"]
        if kind == "Task":
            function = _function_name(state["Resource"])
            operation = saga.operation(function)
            cursor, failure = _run_function(walker, saga, operation, name, span, cursor, weight)
            if failure is None:
                if state.get("ResultPath"):
                    data[state["ResultPath"].removeprefix("$.")] = dict(data)  # the demo functions echo
                name = state.get("Next")
            else:
                failures[function] = failure
                cursor = _retry(walker, state, operation, failure, cursor, weight)
                catch = next((c for c in state.get("Catch", []) if _matches(c["ErrorEquals"], failure["error"])), None)
                if catch is None:
                    outcome = "compensation_failed" if name.startswith(estate.COMPENSATION_PREFIX) else "failed"
                    span.annotations["failed_state"] = name
                    break
                name = catch["Next"]
        elif kind == "Choice":
            name = _choose(state, data)
        elif kind == "Wait":
            outcome = "waiting"
            break
        elif kind == "Succeed":
            outcome = "committed"
            break
        elif kind == "Fail":
            compensated = any(v.startswith(estate.COMPENSATION_PREFIX) for v in visited)
            outcome = "compensated" if compensated else "failed"
            break
        else:
            raise ValueError(f"the traffic model does not follow {kind} states")
        if name is None:
            break
    span.end = cursor + 0.01
    span.status = 200 if outcome in ("committed", "waiting") else 500
    span.annotations["saga_outcome"] = outcome
    duration = (span.end - start) * 1000
    tally = walker.window.executions
    tally.requests += weight
    if outcome == "committed":
        tally.succeeded += weight
    elif outcome != "waiting":
        tally.faults += weight
    if outcome != "waiting":
        tally.sample(duration, weight)
    walker.window.sagas.append(
        SagaRun(
            order_id=order_id,
            start=start,
            failures=failures,
            backorder_seconds=backorder,
            states=visited,
            outcome=outcome,
            duration_ms=duration,
        )
    )
    return span


def _retry(walker: Walker, state: dict, operation: Operation, failure: dict, cursor: float, weight: float) -> float:
    """The failed invocation's retries (a failure of the demo functions is the same at every attempt)."""
    retrier = next((r for r in state.get("Retry", []) if _matches(r["ErrorEquals"], failure["error"])), None)
    if retrier is None:
        return cursor
    retrier = {**_RETRY_DEFAULTS, **retrier}
    tally = walker.window.functions[operation.function]
    interval = float(retrier["IntervalSeconds"])
    for _ in range(int(retrier["MaxAttempts"])):
        cursor += interval
        interval *= float(retrier["BackoffRate"])
        tally.requests += weight
        tally.faults += weight
        ms = operation.latency.sample(walker.rng)
        tally.sample(ms, weight)
        cursor += ms / 1000
    return cursor


def execution_input(run: SagaRun) -> dict[str, Any]:
    """The StartExecution input that makes moto's interpreter take the run's path."""
    data: dict[str, Any] = {"orderId": run.order_id}
    if run.backorder_seconds is not None:
        data["backorder_seconds"] = run.backorder_seconds
    if run.failures:
        data[FAILURES_KEY] = run.failures
    return data


def start_executions(stepfunctions: Any, state_machine_arn: str, runs: list[SagaRun]) -> list[str]:
    """Start the runs in the sandbox; their execution ARNs (an execution already there is left alone)."""
    arns = []
    for run in runs:
        try:
            arns.append(
                stepfunctions.start_execution(
                    stateMachineArn=state_machine_arn, name=run.order_id, input=json.dumps(execution_input(run))
                )["executionArn"]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            logger.info("saga execution %s already exists", run.order_id)
    return arns
