"""The Step Functions gateway against the sandbox (pages, early stop, call counts) and the pacer (a fake clock)."""

import pytest

from observability.sagas.aws import StepFunctions
from portal.aws.accounting import count_aws_calls
from portal.aws.errors import AwsNotFound, AwsThrottled
from portal.aws.models import AwsAccount
from portal.aws.pacing import Pacer, Window
from tests.observability.sagas import machines

LIST = ("stepfunctions", "ListExecutions")


@pytest.fixture
def sfn(sandbox_endpoint, settings):
    settings.AWS_ENDPOINT_URL = sandbox_endpoint
    settings.SAGA_RATE_LIST_EXECUTIONS = settings.SAGA_RATE_GET_EXECUTION_HISTORY = 1000
    return machines.sfn_client(sandbox_endpoint)


@pytest.fixture
def gateway(sfn):
    account = AwsAccount(name="meridian-prod", account_id=machines.ACCOUNT_ID, regions=[machines.REGION])
    return StepFunctions(account, machines.REGION)


@pytest.fixture
def five_executions(sfn):
    machine = machines.create_machine(sfn, "order-saga", machines.committed())
    arns = [machines.run(sfn, machine, f"order-{i}") for i in range(5)]
    return machine, arns


def test_lists_every_page_newest_first(gateway, five_executions):
    machine, arns = five_executions

    with count_aws_calls() as calls:
        listed = gateway.executions(machine, page_size=2)

    assert [e.arn for e in listed] == arns[::-1]
    assert calls[LIST] == 3
    assert all(e.status == "SUCCEEDED" and e.stopped_at >= e.started_at for e in listed)


def test_stops_paging_at_the_first_execution_older_than_since(gateway, five_executions):
    machine, arns = five_executions
    newest = gateway.executions(machine, limit=1)[0]

    with count_aws_calls() as calls:
        listed = gateway.executions(machine, since=newest.started_at, page_size=2)

    assert [e.arn for e in listed] == [arns[-1]]
    assert calls[LIST] == 1


def test_a_limit_stops_paging(gateway, five_executions):
    machine, _ = five_executions

    with count_aws_calls() as calls:
        listed = gateway.executions(machine, limit=3, page_size=2)

    assert len(listed) == 3 and calls[LIST] == 2


def test_history_and_definition(gateway, five_executions):
    machine, arns = five_executions

    with count_aws_calls() as calls:
        events = gateway.history(arns[0])
        described = gateway.describe(machine)

    assert [e.type for e in events][:2] == ["ExecutionStarted", "PassStateEntered"]
    assert events[1].state_name == "ReserveInventory"
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert described.name == "order-saga" and "CompensateChargePayment" in described.definition["States"]
    assert calls[("stepfunctions", "GetExecutionHistory")] == 1
    assert calls[("stepfunctions", "DescribeStateMachine")] == 1


def test_an_execution_aws_no_longer_knows_is_not_found(gateway, five_executions):
    _, arns = five_executions

    with pytest.raises(AwsNotFound):
        gateway.history(arns[0].replace("order-0", "order-gone"))


# --- the pacer ------------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self, start: float):
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def take(pacer: Pacer, per_second: float, times: int = 1) -> None:
    for _ in range(times):
        pacer.take(
            account_id="1", region="eu-west-1", service="states", operation="ListExecutions", per_second=per_second
        )


def test_windows_for_rates_above_and_below_one_a_second():
    assert Window.for_rate(5) == Window(seconds=1, calls=5)
    assert Window.for_rate(0.5) == Window(seconds=2, calls=1)
    with pytest.raises(ValueError):
        Window.for_rate(0)


def test_the_pacer_waits_for_the_next_window_when_this_one_is_full():
    clock = FakeClock(1000.25)
    pacer = Pacer(clock=clock, sleep=clock.sleep)

    take(pacer, per_second=2, times=5)

    assert clock.slept == [0.75, 1.0]  # calls 1-2 at once, 3-4 in the next second, 5 in the one after
    assert pacer.waited == pytest.approx(1.75)


def test_workers_share_one_budget_through_the_cache():
    clock = FakeClock(1000.0)
    first, second = Pacer(clock=clock, sleep=clock.sleep), Pacer(clock=clock, sleep=clock.sleep)

    take(first, per_second=1)
    take(second, per_second=1)

    assert clock.slept == [1.0]


def test_the_pacer_gives_up_past_its_longest_wait():
    clock = FakeClock(1000.0)
    pacer = Pacer(clock=clock, sleep=clock.sleep, max_wait=5)
    take(pacer, per_second=0.1)

    with pytest.raises(AwsThrottled) as raised:
        take(pacer, per_second=0.1)

    assert "pace for states ListExecutions" in str(raised.value)
    assert clock.slept == []
