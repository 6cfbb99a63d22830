"""Each saga outcome, classified from a real history: moto's Step Functions interpreter runs small sagas in the
sandbox, the gateway reads their definition and history back as the sync does, and saga_outcomes classifies."""

from datetime import timedelta

import pytest
from django.utils import timezone

from observability.sagas import marking as sagas
from observability.sagas.aws import StepFunctions
from observability.sagas.outcomes import Outcome, VisitStatus, classify
from portal.aws.models import AwsAccount
from tests.observability.sagas import machines

STUCK_AFTER = timedelta(minutes=30)


@pytest.fixture
def sfn(sandbox_endpoint, settings):
    settings.AWS_ENDPOINT_URL = sandbox_endpoint
    return machines.sfn_client(sandbox_endpoint)


@pytest.fixture
def gateway(sfn):
    account = AwsAccount(name="meridian-prod", account_id=machines.ACCOUNT_ID, regions=[machines.REGION])
    return StepFunctions(account, machines.REGION)


def classified(gateway, machine_arn: str, execution_arn: str, *, mark=None, now=None):
    """What the sync does with one execution: the rule from the definition, then the history, classified."""
    described = gateway.describe(machine_arn)
    decision = sagas.decide(mark or sagas.Marking(), sagas.defined_states(described.definition))
    return decision, classify(
        gateway.history(execution_arn),
        compensation_of=lambda state: sagas.compensation_of(state, decision.compensations, definition_known=True),
        now=now or timezone.now(),
        stuck_after=STUCK_AFTER,
    )


def visits(result) -> list[tuple[str, str, bool]]:
    return [(v.name, str(v.status), v.compensation) for v in result.visits]


def test_committed(sfn, gateway):
    machine = machines.create_machine(sfn, "order-saga", machines.committed())
    execution = machines.run(sfn, machine, "order-1")

    decision, result = classified(gateway, machine, execution)

    assert decision.saga and decision.reason.startswith("naming rule")
    assert (result.outcome, result.status, result.failed_step, result.compensations) == (
        Outcome.COMMITTED,
        "SUCCEEDED",
        "",
        (),
    )
    assert visits(result) == [
        ("ReserveInventory", "succeeded", False),
        ("ChargePayment", "succeeded", False),
        ("ShipOrder", "succeeded", False),
        ("OrderCompleted", "succeeded", False),
    ]
    assert result.started_at <= result.visits[0].entered_at <= result.visits[-1].exited_at <= result.stopped_at


def test_compensated_names_the_failed_step_and_the_compensations_in_the_order_they_ran(sfn, gateway):
    machine = machines.create_machine(sfn, "order-saga", machines.compensated_at_shipping())
    execution = machines.run(sfn, machine, "order-2")

    _, result = classified(gateway, machine, execution)

    assert result.outcome == Outcome.COMPENSATED
    assert result.status == "FAILED" and result.error == "OrderFailed"
    assert result.failed_step == "ShipOrder"
    assert result.compensations == ("CompensateChargePayment", "CompensateReserveInventory")
    assert result.failed_compensation == ""
    ship = next(v for v in result.visits if v.name == "ShipOrder")
    assert (ship.status, ship.error, ship.attempts) == (VisitStatus.FAILED, "DynamoDB.ResourceNotFoundException", 1)
    assert [(v.name, v.compensates) for v in result.visits if v.compensation] == [
        ("CompensateChargePayment", "ChargePayment"),
        ("CompensateReserveInventory", "ReserveInventory"),
    ]


def test_compensated_when_the_execution_then_succeeds(sfn, gateway):
    machine = machines.create_machine(sfn, "order-saga", machines.compensated_then_succeeded())
    execution = machines.run(sfn, machine, "order-3")

    _, result = classified(gateway, machine, execution)

    assert (result.outcome, result.status) == (Outcome.COMPENSATED, "SUCCEEDED")
    assert (result.failed_step, result.compensations) == ("ChargePayment", ("CompensateReserveInventory",))


def test_compensated_without_an_error_when_a_choice_turns_the_saga_back(sfn, gateway):
    machine = machines.create_machine(sfn, "order-saga", machines.compensated_by_choice())
    execution = machines.run(sfn, machine, "order-4")

    _, result = classified(gateway, machine, execution)

    assert result.outcome == Outcome.COMPENSATED
    # Nothing failed: the last forward step before the Choice turned it back is the one that "failed".
    assert result.failed_step == "ChargePayment"
    assert result.compensations == ("CompensateReserveInventory",)


def test_a_compensation_that_fails_uncaught(sfn, gateway):
    machine = machines.create_machine(sfn, "order-saga", machines.compensation_fails())
    execution = machines.run(sfn, machine, "order-5")

    _, result = classified(gateway, machine, execution)

    assert result.outcome == Outcome.COMPENSATION_FAILED
    assert (result.failed_step, result.failed_compensation) == ("ChargePayment", "CompensateReserveInventory")
    assert result.compensations == ("CompensateReserveInventory",)
    assert result.status == "FAILED"
    assert result.error == "DynamoDB.ResourceNotFoundException"  # the compensation's error, not the step's
    assert visits(result)[-1] == ("CompensateReserveInventory", "failed", True)


def test_a_compensation_that_fails_is_a_failure_even_when_a_catch_moves_on(sfn, gateway):
    machine = machines.create_machine(sfn, "order-saga", machines.compensation_fails_caught())
    execution = machines.run(sfn, machine, "order-6")

    _, result = classified(gateway, machine, execution)

    assert result.outcome == Outcome.COMPENSATION_FAILED
    assert result.failed_compensation == "CompensateChargePayment"
    assert result.compensations == ("CompensateChargePayment", "CompensateReserveInventory")
    assert result.failed_step == "ShipOrder"


def test_a_first_step_failure_has_nothing_to_compensate(sfn, gateway):
    machine = machines.create_machine(sfn, "order-saga", machines.failed_first_step())
    execution = machines.run(sfn, machine, "order-7")

    _, result = classified(gateway, machine, execution)

    assert (result.outcome, result.failed_step, result.compensations) == (Outcome.FAILED, "ReserveInventory", ())
    assert result.error == "OrderFailed"


def test_running_then_stuck_past_the_threshold_then_aborted(sfn, gateway):
    machine = machines.create_machine(sfn, "order-saga", machines.waits())
    execution = machines.start(sfn, machine, "order-8")
    machines.entered(sfn, execution, "AwaitWarehouse")

    _, now = classified(gateway, machine, execution)
    _, later = classified(gateway, machine, execution, now=timezone.now() + STUCK_AFTER + timedelta(minutes=1))

    assert (now.outcome, now.status, now.stopped_at) == (Outcome.RUNNING, "RUNNING", None)
    assert later.outcome == Outcome.STUCK
    assert visits(later) == [("ReserveInventory", "succeeded", False), ("AwaitWarehouse", "running", False)]

    sfn.stop_execution(executionArn=execution, error="Operator", cause="stuck")
    machines.finished(sfn, execution)
    _, stopped = classified(gateway, machine, execution)

    assert (stopped.outcome, stopped.status, stopped.failed_step) == (Outcome.FAILED, "ABORTED", "AwaitWarehouse")
    assert visits(stopped)[-1] == ("AwaitWarehouse", "failed", False)


def test_an_execution_stopped_while_compensating_failed_its_compensation(sfn, gateway):
    definition = machines.compensation_fails()
    # The compensation waits (on a person, a queue...) and is stopped before it is done.
    definition["States"]["CompensateReserveInventory"] = {
        "Type": "Wait",
        "Comment": "Compensation for ReserveInventory",
        "Seconds": 3600,
        "Next": "OrderFailed",
    }
    machine = machines.create_machine(sfn, "order-saga", definition)
    execution = machines.start(sfn, machine, "order-9")
    machines.entered(sfn, execution, "CompensateReserveInventory")
    sfn.stop_execution(executionArn=execution)
    machines.finished(sfn, execution)

    _, result = classified(gateway, machine, execution)

    assert (result.outcome, result.status) == (Outcome.COMPENSATION_FAILED, "ABORTED")
    assert result.failed_compensation == "CompensateReserveInventory"


def test_a_state_machine_without_compensations_is_not_a_saga_unless_marked(sfn, gateway):
    machine = machines.create_machine(sfn, "hello", machines.not_a_saga())
    execution = machines.run(sfn, machine, "hello-1")

    decision, result = classified(gateway, machine, execution)
    marked, _ = classified(gateway, machine, execution, mark=sagas.Marking(saga=True, reason="annotation"))

    assert decision.saga is False and "naming rule" in decision.reason
    assert marked.saga is True
    assert result.outcome == Outcome.COMMITTED


def test_an_annotation_names_compensations_that_do_not_follow_the_naming_rule(sfn, gateway):
    definition = machines.compensated_at_shipping()
    states = definition["States"]
    states["RefundPayment"] = {**states.pop("CompensateChargePayment"), "Next": "ReleaseStock", "Comment": ""}
    states["ReleaseStock"] = {**states.pop("CompensateReserveInventory"), "Comment": ""}
    states["ShipOrder"]["Catch"][0]["Next"] = "RefundPayment"
    machine = machines.create_machine(sfn, "order-saga", definition)
    execution = machines.run(sfn, machine, "order-10")

    by_rule, unmarked = classified(gateway, machine, execution)
    mark = sagas.Marking(saga=True, reason="annotation", compensations=("RefundPayment", "ReleaseStock"))
    _, result = classified(gateway, machine, execution, mark=mark)

    assert by_rule.saga is False and unmarked.outcome == Outcome.FAILED
    assert result.outcome == Outcome.COMPENSATED
    assert result.compensations == ("RefundPayment", "ReleaseStock")
    assert result.failed_step == "ShipOrder"
