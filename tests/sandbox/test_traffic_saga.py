"""The order saga's executions, run by moto's interpreter on the paths the model chose: committed,
compensated (newest step first), failing inside a compensation, failing with nothing to compensate,
and stuck waiting for a restock."""

import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from sandbox import estate
from sandbox.clients import SANDBOX_CREDENTIALS
from sandbox.seed import seed_estate
from sandbox.server import reset
from sandbox.traffic import saga
from sandbox.traffic.generator import Generator
from sandbox.traffic.simulate import simulate

SEED = "test"
FIRST_HOUR = datetime(2026, 6, 10, 0, 0, tzinfo=UTC)


def _one_run_of_each_outcome():
    """The model's first saga run of each outcome, from the hours after FIRST_HOUR (deterministic)."""
    found = {}
    for hour in range(96):
        for run in simulate(SEED, FIRST_HOUR + timedelta(hours=hour), 60, cap=60).sagas:
            if run.outcome == "compensated" and "order-saga-ship-order" in run.failures:
                found.setdefault("compensated after ShipOrder", run)
            found.setdefault(run.outcome, run)
        if len(found) == len(saga.OUTCOMES) + 1:
            return found
    raise AssertionError(f"only {sorted(found)} in four days")


@pytest.fixture(scope="module")
def executions(sandbox_server):
    """One execution of each outcome, started in the seeded sandbox and waited for."""
    reset()
    seed_estate(sandbox_server.endpoint_url)
    generator = Generator(sandbox_server.endpoint_url, seed=SEED)
    runs = _one_run_of_each_outcome()
    arns = generator.start_sagas(list(runs.values()))
    stepfunctions = boto3.client(
        "stepfunctions", region_name="eu-west-1", endpoint_url=sandbox_server.endpoint_url, **SANDBOX_CREDENTIALS
    )
    deadline = time.monotonic() + 15  # the failed reservation's retries wait 1 + 2 s
    described = {}
    while time.monotonic() < deadline:
        described = {arn: stepfunctions.describe_execution(executionArn=arn) for arn in arns}
        finished = [d for d in described.values() if d["status"] != "RUNNING"]
        waiting = [arn for arn, d in described.items() if d["status"] == "RUNNING" and _entered(stepfunctions, arn)[-1:]
                   == ["WaitForRestock"]]  # fmt: skip
        if len(finished) + len(waiting) == len(arns):
            break
        time.sleep(0.2)
    yield {"runs": runs, "arns": dict(zip(runs, arns, strict=True)), "described": described, "sfn": stepfunctions}
    for arn, description in described.items():
        if description["status"] == "RUNNING":
            stepfunctions.stop_execution(executionArn=arn)
    reset()


def _entered(stepfunctions, arn):
    events = stepfunctions.get_execution_history(executionArn=arn)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("committed", "SUCCEEDED"),
        ("compensated", "FAILED"),
        ("compensated after ShipOrder", "FAILED"),
        ("compensation_failed", "FAILED"),
        ("failed", "FAILED"),
        ("waiting", "RUNNING"),
    ],
)
def test_each_execution_takes_the_path_the_model_chose(executions, outcome, status):
    run = executions["runs"][outcome]
    arn = executions["arns"][outcome]

    entered = _entered(executions["sfn"], arn)

    assert executions["described"][arn]["status"] == status
    assert entered == run.states
    assert executions["described"][arn]["name"] == run.order_id


def test_compensations_run_newest_first_and_a_failed_one_ends_the_execution(executions):
    sfn, arns = executions["sfn"], executions["arns"]
    after_ship = _entered(sfn, arns["compensated after ShipOrder"])
    broken = executions["described"][arns["compensation_failed"]]

    assert after_ship[-3:] == ["CompensateChargePayment", "CompensateReserveInventory", "OrderFailed"]
    assert after_ship.index("ShipOrder") < after_ship.index("CompensateChargePayment")
    assert _entered(sfn, arns["compensation_failed"])[-1].startswith(estate.COMPENSATION_PREFIX)
    assert broken["error"] in ("RefundRejected", "ReservationLocked")
    assert executions["described"][arns["compensated"]]["error"] == "OrderFailed"


def test_the_executions_are_listed_with_their_outcomes(executions):
    arn = executions["described"][executions["arns"]["committed"]]["stateMachineArn"]
    listed = executions["sfn"].list_executions(stateMachineArn=arn)["executions"]

    assert sorted(e["status"] for e in listed) == ["FAILED"] * 4 + ["RUNNING", "SUCCEEDED"]
    # Starting the same orders again starts nothing new (executions are named after their order).
    again = saga.start_executions(executions["sfn"], arn, list(executions["runs"].values()))
    assert len(executions["sfn"].list_executions(stateMachineArn=arn)["executions"]) == len(listed)
    assert set(again) <= {e["executionArn"] for e in listed}  # a running one is answered as it is
