"""Small sagas run by moto's Step Functions interpreter in the sandbox, one per outcome.

The states are Pass, Choice, Wait, Succeed and Fail, and a Task that fails for real: a DynamoDB
GetItem on a table that does not exist, which the interpreter calls on the sandbox itself
(through MOTO_PORT) and which fails with DynamoDB.ResourceNotFoundException, as AWS would. The
compensations follow the naming rule (Compensate<Step>, Comment "Compensation for <Step>").
"""

import json
import time

import boto3

ACCOUNT_ID = "123456789012"  # moto's default account: where the portal's own credentials land
REGION = "eu-west-1"
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/saga-runner"

FAILING_TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::dynamodb:getItem",
    "Parameters": {"TableName": "no-such-table", "Key": {"id": {"S": "order-1"}}},
}
CATCH_ALL = "States.ALL"


def _pass(next_state: str | None = None, **extra) -> dict:
    state = {"Type": "Pass", **extra}
    if next_state:
        state["Next"] = next_state
    else:
        state["End"] = True
    return state


def _compensation(step: str, next_state: str, *, fails: bool = False, catch_to: str | None = None) -> dict:
    state = {**(FAILING_TASK if fails else {"Type": "Pass"}), "Comment": f"Compensation for {step}", "Next": next_state}
    if catch_to:
        state["Catch"] = [{"ErrorEquals": [CATCH_ALL], "ResultPath": "$.compensationError", "Next": catch_to}]
    return state


def _failing(step_catch_to: str) -> dict:
    return {
        **FAILING_TASK,
        "Catch": [{"ErrorEquals": [CATCH_ALL], "ResultPath": "$.error", "Next": step_catch_to}],
    }


ORDER_FAILED = {
    "Type": "Fail",
    "Error": "OrderFailed",
    "Cause": "A saga step failed; its predecessors were compensated.",
}


def committed() -> dict:
    return {
        "StartAt": "ReserveInventory",
        "States": {
            "ReserveInventory": _pass("ChargePayment"),
            "ChargePayment": _pass("ShipOrder"),
            "ShipOrder": _pass("OrderCompleted"),
            "OrderCompleted": {"Type": "Succeed"},
            "CompensateChargePayment": _compensation("ChargePayment", "CompensateReserveInventory"),
            "CompensateReserveInventory": _compensation("ReserveInventory", "OrderFailed"),
            "OrderFailed": ORDER_FAILED,
        },
    }


def compensated_at_shipping() -> dict:
    """ShipOrder fails; CompensateChargePayment, then CompensateReserveInventory run; it fails in OrderFailed."""
    return {
        "StartAt": "ReserveInventory",
        "States": {
            "ReserveInventory": _pass("ChargePayment"),
            "ChargePayment": _pass("ShipOrder"),
            "ShipOrder": {**_failing("CompensateChargePayment"), "Next": "OrderCompleted"},
            "OrderCompleted": {"Type": "Succeed"},
            "CompensateChargePayment": _compensation("ChargePayment", "CompensateReserveInventory"),
            "CompensateReserveInventory": _compensation("ReserveInventory", "OrderFailed"),
            "OrderFailed": ORDER_FAILED,
        },
    }


def compensated_then_succeeded() -> dict:
    """ChargePayment fails; CompensateReserveInventory runs; the execution ends in a Succeed state."""
    return {
        "StartAt": "ReserveInventory",
        "States": {
            "ReserveInventory": _pass("ChargePayment"),
            "ChargePayment": {**_failing("CompensateReserveInventory"), "Next": "OrderCompleted"},
            "OrderCompleted": {"Type": "Succeed"},
            "CompensateReserveInventory": _compensation("ReserveInventory", "OrderCancelled"),
            "OrderCancelled": {"Type": "Succeed", "Comment": "Cancelled cleanly: nothing left half done."},
        },
    }


def compensated_by_choice() -> dict:
    """No error: ChargePayment answers "declined" and a Choice turns the saga back."""
    return {
        "StartAt": "ReserveInventory",
        "States": {
            "ReserveInventory": _pass("ChargePayment"),
            "ChargePayment": _pass("PaymentApproved", Result={"approved": False}, ResultPath="$.payment"),
            "PaymentApproved": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.payment.approved", "BooleanEquals": True, "Next": "OrderCompleted"}],
                "Default": "CompensateReserveInventory",
            },
            "OrderCompleted": {"Type": "Succeed"},
            "CompensateReserveInventory": _compensation("ReserveInventory", "OrderFailed"),
            "OrderFailed": ORDER_FAILED,
        },
    }


def compensation_fails() -> dict:
    """ChargePayment fails, then CompensateReserveInventory fails too, uncaught: the execution fails inside it."""
    return {
        "StartAt": "ReserveInventory",
        "States": {
            "ReserveInventory": _pass("ChargePayment"),
            "ChargePayment": {**_failing("CompensateReserveInventory"), "Next": "OrderCompleted"},
            "OrderCompleted": {"Type": "Succeed"},
            "CompensateReserveInventory": _compensation("ReserveInventory", "OrderFailed", fails=True),
            "OrderFailed": ORDER_FAILED,
        },
    }


def compensation_fails_caught() -> dict:
    """ShipOrder fails; CompensateChargePayment fails but a Catch moves on to CompensateReserveInventory."""
    return {
        "StartAt": "ReserveInventory",
        "States": {
            "ReserveInventory": _pass("ChargePayment"),
            "ChargePayment": _pass("ShipOrder"),
            "ShipOrder": {**_failing("CompensateChargePayment"), "Next": "OrderCompleted"},
            "OrderCompleted": {"Type": "Succeed"},
            "CompensateChargePayment": _compensation(
                "ChargePayment", "CompensateReserveInventory", fails=True, catch_to="CompensateReserveInventory"
            ),
            "CompensateReserveInventory": _compensation("ReserveInventory", "OrderFailed"),
            "OrderFailed": ORDER_FAILED,
        },
    }


def failed_first_step() -> dict:
    """ReserveInventory fails: nothing before it to undo, so the saga goes straight to OrderFailed."""
    return {
        "StartAt": "ReserveInventory",
        "States": {
            "ReserveInventory": {**_failing("OrderFailed"), "Next": "OrderCompleted"},
            "OrderCompleted": {"Type": "Succeed"},
            "CompensateReserveInventory": _compensation("ReserveInventory", "OrderFailed"),
            "OrderFailed": ORDER_FAILED,
        },
    }


def waits(seconds: int = 3600) -> dict:
    """ReserveInventory, then a Wait that keeps the execution RUNNING (stuck, past a small threshold)."""
    return {
        "StartAt": "ReserveInventory",
        "States": {
            "ReserveInventory": _pass("AwaitWarehouse"),
            "AwaitWarehouse": {"Type": "Wait", "Seconds": seconds, "Next": "OrderCompleted"},
            "OrderCompleted": {"Type": "Succeed"},
            "CompensateReserveInventory": _compensation("ReserveInventory", "OrderFailed"),
            "OrderFailed": ORDER_FAILED,
        },
    }


# --- one order saga whose input decides what fails (for syncs of many executions of one machine) -------------

TABLE = "orders"  # tests create it: a GetItem on it succeeds; on MISSING_TABLE it fails
MISSING_TABLE = "no-such-table"
STEPS = ("reserve", "charge", "ship", "refund", "release")


def _step(table_key: str, next_state: str, *, catch_to: str | None = None, comment: str = "") -> dict:
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:getItem",
        "Parameters": {"TableName.$": f"$.tables.{table_key}", "Key": {"id": {"S.$": "$.orderId"}}},
        "ResultPath": None,
        "Next": next_state,
    }
    if catch_to:
        state["Catch"] = [{"ErrorEquals": [CATCH_ALL], "ResultPath": "$.error", "Next": catch_to}]
    if comment:
        state["Comment"] = comment
    return state


def order_saga() -> dict:
    """The demo estate's order saga in miniature: every step and compensation reads a table the input names."""
    return {
        "Comment": "Reserve, wait for the warehouse, charge, ship; compensate newest first.",
        "StartAt": "ReserveInventory",
        "States": {
            "ReserveInventory": _step("reserve", "AwaitWarehouse", catch_to="OrderFailed"),
            "AwaitWarehouse": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "ChargePayment"},
            "ChargePayment": _step("charge", "ShipOrder", catch_to="CompensateReserveInventory"),
            "ShipOrder": _step("ship", "OrderCompleted", catch_to="CompensateChargePayment"),
            "CompensateChargePayment": _step(
                "refund", "CompensateReserveInventory", comment="Compensation for ChargePayment - refunds."
            ),
            "CompensateReserveInventory": _step(
                "release", "OrderFailed", comment="Compensation for ReserveInventory - releases stock."
            ),
            "OrderCompleted": {"Type": "Succeed"},
            "OrderFailed": ORDER_FAILED,
        },
    }


def order_input(name: str, *, failing: tuple[str, ...] = (), wait: int = 0) -> str:
    """The input of one order: the steps in `failing` (reserve, charge, ship, refund, release) fail."""
    tables = {step: MISSING_TABLE if step in failing else TABLE for step in STEPS}
    return json.dumps({"orderId": name, "tables": tables, "wait": wait})


def create_table(endpoint_url: str) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name=REGION)
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def run_order(sfn, machine_arn: str, name: str, *, failing: tuple[str, ...] = (), wait: int = 0, finish=True) -> str:
    given = order_input(name, failing=failing, wait=wait)
    arn = sfn.start_execution(stateMachineArn=machine_arn, name=name, input=given)["executionArn"]
    if finish:
        finished(sfn, arn)
    return arn


def not_a_saga() -> dict:
    return {"StartAt": "Hello", "States": {"Hello": _pass()}}


# --- running them -------------------------------------------------------------------------------------------


def sfn_client(endpoint_url: str):
    return boto3.client("stepfunctions", endpoint_url=endpoint_url, region_name=REGION)


def create_machine(sfn, name: str, definition: dict, *, tags: dict | None = None) -> str:
    answer = sfn.create_state_machine(
        name=name,
        definition=json.dumps(definition),
        roleArn=ROLE,
        type="STANDARD",
        tags=[{"key": k, "value": v} for k, v in (tags or {}).items()],
    )
    return answer["stateMachineArn"]


def start(sfn, machine_arn: str, name: str) -> str:
    return sfn.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps({"orderId": name}))[
        "executionArn"
    ]


def wait_until(condition, *, what: str, timeout: float = 30.0):
    """Poll until `condition()` is truthy (the interpreter runs executions in threads of its own)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def finished(sfn, execution_arn: str) -> dict:
    return wait_until(
        lambda: (d := sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING" and d,
        what=f"{execution_arn} to finish",
    )


def entered(sfn, execution_arn: str, state: str) -> None:
    def done():
        events = sfn.get_execution_history(executionArn=execution_arn)["events"]
        return any((e.get("stateEnteredEventDetails") or {}).get("name") == state for e in events)

    wait_until(done, what=f"{execution_arn} to enter {state}")


def run(sfn, machine_arn: str, name: str) -> str:
    """Start an execution and wait for it to finish; its ARN."""
    arn = start(sfn, machine_arn, name)
    finished(sfn, arn)
    return arn
