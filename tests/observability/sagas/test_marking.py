"""Which state machines are sagas and which states are compensations (observability.sagas.marking): pure rules."""

from datetime import timedelta

import pytest

from catalog.annotations import (
    COMPENSATIONS_ANNOTATION,
    SAGA_ANNOTATION,
    STATE_MACHINE_ANNOTATION,
    STUCK_AFTER_ANNOTATION,
    TAGS_ANNOTATION,
)
from observability.sagas import marking as sagas

ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:order-saga"
ORDER_SAGA = {
    "StartAt": "ReserveInventory",
    "States": {
        "ReserveInventory": {"Type": "Task", "Next": "ChargePayment"},
        "ChargePayment": {"Type": "Task", "Next": "Fulfil"},
        "Fulfil": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "ShipOrder", "States": {"ShipOrder": {"Type": "Task", "End": True}}},
                {"StartAt": "Notify", "States": {"Notify": {"Type": "Pass", "End": True}}},
            ],
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "CompensateChargePayment": {"Type": "Task", "Comment": "Compensation for ChargePayment", "Next": "Undo"},
        # The Comment rule: any name, "Compensation for <Step>".
        "Undo": {"Type": "Task", "Comment": "Compensation for ReserveInventory - releases stock.", "Next": "Failed"},
        # Prefix, but no such step: not a compensation (CompensateForLoss is a business step here).
        "CompensateForLoss": {"Type": "Task", "Next": "Failed"},
        "Failed": {"Type": "Fail"},
    },
}


def test_states_inside_parallel_branches_are_read_too():
    names = [s.name for s in sagas.defined_states(ORDER_SAGA)]

    assert {"ShipOrder", "Notify"} <= set(names)
    assert len(names) == 10


def test_the_naming_rule_finds_compensations_by_prefix_and_by_comment():
    found = sagas.compensations(sagas.defined_states(ORDER_SAGA))

    assert found.undoes == {"CompensateChargePayment": "ChargePayment", "Undo": "ReserveInventory"}
    decision = sagas.decide(sagas.Marking(), sagas.defined_states(ORDER_SAGA))
    assert decision.saga is True
    # Shown on the Sagas tab inside "A saga (...)": no parenthesis of its own, and one compensation is singular.
    assert decision.reason == "naming rule: CompensateChargePayment undoes ChargePayment, and 1 more compensation"
    three = {**ORDER_SAGA["States"], "CompensateFulfil": {"Type": "Task", "Next": "Failed"}}
    decision = sagas.decide(sagas.Marking(), sagas.defined_states({**ORDER_SAGA, "States": three}))
    assert decision.reason == "naming rule: CompensateChargePayment undoes ChargePayment, and 2 more compensations"


def test_without_the_definition_state_names_alone_are_judged_and_nothing_is_decided_yet():
    rule = sagas.compensations(None)

    assert sagas.compensation_of("CompensateShipOrder", rule, definition_known=False) == "ShipOrder"
    assert sagas.compensation_of("ShipOrder", rule, definition_known=False) is None
    assert sagas.decide(sagas.Marking(), None).saga is False


def test_an_explicit_list_replaces_the_rule():
    mark = sagas.marking(arn=ARN, resource_annotations={COMPENSATIONS_ANNOTATION: "Undo, RefundAll"})
    decision = sagas.decide(mark, sagas.defined_states(ORDER_SAGA))

    assert decision.compensations.undoes == {"Undo": "ReserveInventory", "RefundAll": ""}
    rule = decision.compensations
    assert sagas.compensation_of("CompensateChargePayment", rule, definition_known=True) is None
    assert sagas.compensation_of("RefundAll", rule, definition_known=True) == ""


@pytest.mark.parametrize(
    ("resource", "components", "saga", "reason"),
    [
        ({SAGA_ANNOTATION: "true"}, [], True, "the Resource's annotation meridian.io/saga: true"),
        # Discovery writes the AWS tags into meridian.io/aws-tags: the same key works as a tag.
        ({TAGS_ANNOTATION: "meridian.io/saga=yes,team=team-orders"}, [], True, "the state machine's AWS tag"),
        # The Resource says no: a Component naming it does not override that.
        (
            {SAGA_ANNOTATION: "false"},
            [("component:default/order-saga", {STATE_MACHINE_ANNOTATION: "order-saga"})],
            False,
            "the Resource's annotation meridian.io/saga: false",
        ),
        ({}, [("component:default/order-saga", {STATE_MACHINE_ANNOTATION: ARN})], True, "names it"),
        ({}, [("component:default/order-saga", {STATE_MACHINE_ANNOTATION: "other, order-saga"})], True, ""),
        ({}, [("component:default/order-saga", {STATE_MACHINE_ANNOTATION: "other-saga"})], None, ""),
        ({SAGA_ANNOTATION: "maybe"}, [], None, ""),
    ],
)
def test_marking_precedence(resource, components, saga, reason):
    mark = sagas.marking(arn=ARN, resource_annotations=resource, components=components)

    assert mark.saga is saga
    assert reason in mark.reason


def test_compensations_and_the_stuck_threshold_can_come_from_tags_or_the_component():
    mark = sagas.marking(
        arn=ARN,
        resource_annotations={TAGS_ANNOTATION: "meridian.io/saga-compensations=Undo RefundAll"},
        components=[
            (
                "component:default/order-saga",
                {STATE_MACHINE_ANNOTATION: "order-saga", STUCK_AFTER_ANNOTATION: "15m"},
            )
        ],
    )

    assert mark.compensations == ("Undo", "RefundAll")
    assert mark.compensations_source == "the state machine's AWS tag meridian.io/saga-compensations"
    assert mark.stuck_after == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90s", timedelta(seconds=90)), ("2h", timedelta(hours=2)), ("1D", timedelta(days=1)), ("0m", None), ("x", None)],
)
def test_durations(text, expected):
    assert sagas.parse_duration(text) == expected


def test_state_machine_names_come_from_arns():
    assert sagas.state_machine_name(ARN) == "order-saga"
    assert sagas.state_machine_name("arn:aws:states:eu-west-1:1:execution:order-saga:x") == ""
