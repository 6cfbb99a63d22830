"""The saga sync against the sandbox: which machines, incremental reads, AWS call counts, the sweep, faults."""

import json
from datetime import timedelta

import pytest
import yaml
from django.utils import timezone

from catalog.discovery import discovery_run
from catalog.models import Entity, Location
from catalog.services import Incoming, entities_apply, entity_create, entity_update, location_for
from observability.models import SagaExecution, SagaStateMachine
from observability.sagas import services as saga_services
from observability.sagas import tasks as saga_tasks
from observability.sagas.aws import StepFunctions
from portal.actors import Actor
from portal.aws.accounting import count_aws_calls
from portal.aws.models import AwsAccount
from portal.aws.pacing import Pacer
from portal.aws.services import parse_account_spec
from sandbox.estate import CATALOG_DIR
from sandbox.extensions.lambda_outcomes import FAILURES_KEY
from sandbox.management.commands.run_local import DEMO_AWS_ACCOUNTS
from tests.observability.faults import closed_port_url
from tests.observability.sagas import machines
from tests.observability.sagas.estate import TAGS, component_document
from tests.observability.sagas.faults import ACCESS_DENIED, THROTTLING, failing_json_api

LIST = ("stepfunctions", "ListExecutions")
HISTORY = ("stepfunctions", "GetExecutionHistory")
DESCRIBE = ("stepfunctions", "DescribeStateMachine")


def sync(machine: SagaStateMachine, **kwargs) -> tuple[SagaStateMachine, dict]:
    with count_aws_calls() as calls:
        saga_services.saga_sync(machine=machine, **kwargs)
    machine.refresh_from_db()
    return machine, dict(calls)


def outcomes(machine) -> dict[str, tuple]:
    return {
        e.name: (e.outcome, e.failed_step, tuple(e.compensations), e.failed_compensation)
        for e in SagaExecution.objects.filter(state_machine=machine)
    }


def test_a_discovered_state_machine_is_linked_to_its_component_and_team(order_saga, orders):
    machine = order_saga.machine()

    assert machine.resource.spec_type == "state-machine"
    assert machine.resource.annotations["amazonaws.com/arn"] == order_saga.arn
    assert machine.component == order_saga.component
    assert machine.owner_team == orders
    assert (machine.account, machine.region, machine.name, machine.tracked) == (
        order_saga.account,
        machines.REGION,
        "order-saga",
        True,
    )


def test_the_first_sync_reads_the_definition_every_execution_and_each_history_once(order_saga):
    order_saga.run("o-committed")
    order_saga.run("o-compensated", failing=("ship",))
    order_saga.run("o-compensation-failed", failing=("charge", "release"))
    order_saga.run("o-failed", failing=("reserve",))

    machine, calls = sync(order_saga.machine())

    assert machine.status == SagaStateMachine.Status.OK and machine.error == ""
    assert machine.is_saga and machine.saga_reason.startswith("naming rule")
    assert machine.compensations == {
        "CompensateChargePayment": "ChargePayment",
        "CompensateReserveInventory": "ReserveInventory",
    }
    assert calls == {DESCRIBE: 1, LIST: 1, HISTORY: 4}
    assert machine.last_calls == {"DescribeStateMachine": 1, "GetExecutionHistory": 4, "ListExecutions": 1}
    assert outcomes(machine) == {
        "o-committed": ("committed", "", (), ""),
        "o-compensated": ("compensated", "ShipOrder", ("CompensateChargePayment", "CompensateReserveInventory"), ""),
        "o-compensation-failed": (
            "compensation_failed",
            "ChargePayment",
            ("CompensateReserveInventory",),
            "CompensateReserveInventory",
        ),
        "o-failed": ("failed", "ReserveInventory", (), ""),
    }
    assert not SagaExecution.objects.filter(history_final=False).exists()


def test_a_second_sync_with_nothing_new_makes_one_list_call_and_reads_no_history(order_saga):
    order_saga.run("o-1")
    order_saga.run("o-2", failing=("ship",))
    machine, _ = sync(order_saga.machine())
    read_at = dict(SagaExecution.objects.values_list("name", "history_read_at"))

    machine, calls = sync(machine)

    assert calls == {LIST: 1}
    assert dict(SagaExecution.objects.values_list("name", "history_read_at")) == read_at
    assert (machine.last_listed, machine.last_histories) == (0, 0)


def test_only_new_executions_are_read_and_the_finished_ones_never_again(order_saga):
    order_saga.run("o-1")
    machine, _ = sync(order_saga.machine())
    order_saga.run("o-2", failing=("charge",))

    machine, calls = sync(machine)

    assert calls == {LIST: 1, HISTORY: 1}
    assert (machine.last_listed, machine.last_histories) == (1, 1)
    assert outcomes(machine)["o-2"] == ("compensated", "ChargePayment", ("CompensateReserveInventory",), "")
    assert SagaExecution.objects.count() == 2


def test_a_running_execution_is_read_again_until_it_finishes_then_never(order_saga, settings):
    settings.SAGA_STUCK_AFTER_SECONDS = 600
    arn = order_saga.run("o-waiting", wait=3600, finish=False)
    machines.entered(order_saga.sfn, arn, "AwaitWarehouse")

    machine, calls = sync(order_saga.machine())
    assert calls[HISTORY] == 1
    assert outcomes(machine)["o-waiting"][0] == "running"

    machine, calls = sync(machine)
    assert calls == {LIST: 1, HISTORY: 1}  # still running: read again

    order_saga.sfn.stop_execution(executionArn=arn)
    machines.finished(order_saga.sfn, arn)
    machine, calls = sync(machine)
    execution = SagaExecution.objects.get(name="o-waiting")
    assert calls == {LIST: 1, HISTORY: 1}
    assert (execution.status, execution.outcome, execution.history_final) == ("ABORTED", "failed", True)

    machine, calls = sync(machine)
    assert calls == {LIST: 1}


def test_a_sync_reads_at_most_so_many_histories_and_the_next_runs_read_the_rest(order_saga, settings):
    settings.SAGA_SYNC_MAX_HISTORIES = 2
    for i in range(5):
        order_saga.run(f"o-{i}")

    read = []
    machine = order_saga.machine()
    for _ in range(4):
        machine, calls = sync(machine)
        read.append(calls.get(HISTORY, 0))

    assert read == [2, 2, 1, 0]
    assert SagaExecution.objects.filter(outcome="committed").count() == 5


def test_the_first_sync_looks_back_so_many_days(order_saga, settings):
    order_saga.run("o-old")
    settings.SAGA_SYNC_LOOKBACK_DAYS = 1

    _, calls = sync(order_saga.machine(), now=timezone.now() + timedelta(days=2))

    assert calls[LIST] == 1 and not SagaExecution.objects.exists()


def test_a_state_machine_without_compensations_is_described_but_not_synced(saga_aws, account, orders):
    entity_create(actor=Actor.for_system("test"), document=component_document("greeter"))
    sfn = machines.sfn_client(saga_aws)
    arn = machines.create_machine(sfn, "greeter", machines.not_a_saga(), tags={**TAGS, "service": "greeter"})
    machines.run(sfn, arn, "hello-1")
    discovery_run(account=account, region=machines.REGION)
    saga_services.saga_machines_refresh()

    machine, calls = sync(SagaStateMachine.objects.get(arn=arn))

    assert calls == {DESCRIBE: 1}
    assert not machine.is_saga and "naming rule" in machine.saga_reason
    assert not SagaExecution.objects.exists()
    # Not due again until its definition is stale.
    assert machine.pk not in saga_services.saga_machines_due()
    later = timezone.now() + timedelta(hours=2)
    assert machine.pk in saga_services.saga_machines_due(now=later)


def test_the_resource_annotation_or_tag_marks_a_saga_and_lists_its_compensations(saga_aws, account, orders):
    definition = machines.compensated_at_shipping()
    states = definition["States"]
    states["RefundPayment"] = {**states.pop("CompensateChargePayment"), "Comment": "", "Next": "ReleaseStock"}
    states["ReleaseStock"] = {**states.pop("CompensateReserveInventory"), "Comment": ""}
    states["ShipOrder"]["Catch"][0]["Next"] = "RefundPayment"
    entity_create(actor=Actor.for_system("test"), document=component_document())
    sfn = machines.sfn_client(saga_aws)
    tags = {**TAGS, "meridian.io/saga": "true", "meridian.io/saga-compensations": "RefundPayment ReleaseStock"}
    arn = machines.create_machine(sfn, "order-saga", definition, tags=tags)
    machines.run(sfn, arn, "o-1")
    discovery_run(account=account, region=machines.REGION)
    saga_services.saga_machines_refresh()

    machine, _ = sync(SagaStateMachine.objects.get(arn=arn))

    assert machine.is_saga and machine.saga_reason == "the state machine's AWS tag meridian.io/saga: true"
    assert machine.compensations == {"RefundPayment": "", "ReleaseStock": ""}
    assert machine.compensations_source == "the state machine's AWS tag meridian.io/saga-compensations"
    assert outcomes(machine)["o-1"] == ("compensated", "ShipOrder", ("RefundPayment", "ReleaseStock"), "")


def test_a_component_can_name_a_state_machine_by_arn_without_a_resource_entity(saga_aws, account, orders):
    sfn = machines.sfn_client(saga_aws)
    arn = machines.create_machine(sfn, "untagged-saga", machines.compensated_then_succeeded())
    machines.run(sfn, arn, "o-1")
    component = entity_create(
        actor=Actor.for_system("test"),
        document=component_document("checkout", annotations={"meridian.io/saga-state-machine": arn}, tags=()),
    )

    assert saga_services.saga_machines_refresh() == 1
    machine, _ = sync(SagaStateMachine.objects.get(arn=arn))

    assert (machine.resource, machine.component, machine.owner_team) == (None, component, orders)
    assert machine.is_saga and "component:default/checkout names it" in machine.saga_reason
    assert outcomes(machine)["o-1"][0] == "compensated"

    # The annotation goes: the machine is no longer tracked (its executions stay).
    entity_update(actor=Actor.for_system("test"), entity=component, document=component_document("checkout"))
    saga_services.saga_machines_refresh()
    assert not SagaStateMachine.objects.get(arn=arn).tracked
    assert SagaExecution.objects.count() == 1


def test_a_machine_held_by_another_run_is_left_alone(order_saga):
    machine = order_saga.machine()
    SagaStateMachine.objects.filter(pk=machine.pk).update(lease_until=timezone.now() + timedelta(minutes=5))

    machine, calls = sync(machine)

    assert calls == {} and machine.status == SagaStateMachine.Status.NEVER


def test_calls_are_paced_to_the_portals_share_of_the_quota(order_saga, settings):
    settings.SAGA_RATE_GET_EXECUTION_HISTORY = 2
    for i in range(5):
        order_saga.run(f"o-{i}")
    clock_now = [1000.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        clock_now[0] += seconds

    machine = order_saga.machine()
    pacer = Pacer(clock=lambda: clock_now[0], sleep=sleep)
    sync(machine, stepfunctions=StepFunctions(machine.account, machine.region, pacer=pacer))

    # Five histories at two a second: the third and the fifth wait for the next second.
    assert slept == [1.0, 1.0]


# --- the sweep ------------------------------------------------------------------------------------------------


def test_the_sweep_tracks_the_catalogs_state_machines_and_fans_out_one_task_each(order_saga, celery_eager):
    order_saga.run("o-1")
    other = machines.create_machine(order_saga.sfn, "greeter", machines.not_a_saga(), tags=TAGS)
    discovery_run(account=order_saga.account, region=machines.REGION)

    with count_aws_calls() as calls:
        saga_tasks.sagas_sync_all()

    assert SagaStateMachine.objects.filter(tracked=True).count() == 2
    assert calls[DESCRIBE] == 2 and calls[LIST] == 1
    assert SagaExecution.objects.get().outcome == "committed"
    assert not SagaStateMachine.objects.get(arn=other).is_saga

    with count_aws_calls() as calls:
        saga_tasks.sagas_sync_all()
    assert dict(calls) == {LIST: 1}  # only the saga is due; nothing new


def test_a_newly_discovered_saga_is_synced_at_once_not_at_the_next_sweep(
    saga_aws, account, orders, celery_eager, django_capture_on_commit_callbacks
):
    # catalog.signals.resources_discovered, sent after the discovery's commit, starts a sweep (make run's first
    # minutes: discovery and the periodic sweep start together, and the sweep used to find nothing yet).
    sfn = machines.sfn_client(saga_aws)
    machines.create_machine(sfn, "order-saga", machines.order_saga(), tags=TAGS)

    with django_capture_on_commit_callbacks(execute=True):
        discovery_run(account=account, region=machines.REGION)
    machine = SagaStateMachine.objects.get(tracked=True)
    assert machine.is_saga and machine.definition_read_at is not None

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        discovery_run(account=account, region=machines.REGION)  # nothing new: no signal, no sweep
    assert callbacks == []


def test_a_task_for_a_missing_or_disabled_account_does_nothing(order_saga, caplog):
    machine = order_saga.machine()
    order_saga.account.enabled = False
    order_saga.account.save(update_fields=["enabled"])

    with count_aws_calls() as calls:
        saga_tasks.saga_sync(machine.pk)
        saga_tasks.saga_sync(999999)

    assert calls.total == 0
    assert "no saga sync" in caplog.text


def test_an_orphaned_resource_is_no_longer_tracked(order_saga):
    Entity.objects.filter(pk=order_saga.machine().resource_id).update(orphaned=True)

    saga_services.saga_machines_refresh()

    assert not order_saga.machine().tracked


# --- AWS faults ---------------------------------------------------------------------------------------------


@pytest.fixture
def fast_failures(settings):
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT = settings.AWS_READ_TIMEOUT = 2
    settings.AWS_BREAKER_FAILURES = 100


@pytest.mark.parametrize(
    ("fault", "error_code", "says"),
    [
        (THROTTLING, "throttled", "AWS is throttling states GetExecutionHistory calls"),
        (ACCESS_DENIED, "access_denied", "lacks the permission states:GetExecutionHistory"),
    ],
)
def test_a_throttled_or_refused_history_read_is_recorded_and_the_next_sync_carries_on(
    order_saga, settings, fast_failures, fault, error_code, says
):
    order_saga.run("o-1", failing=("ship",))
    machine = order_saga.machine()
    with failing_json_api(order_saga.endpoint, fail={"GetExecutionHistory": fault}) as (url, failed):
        settings.AWS_ENDPOINT_URL = url
        machine, calls = sync(machine)

    assert failed["GetExecutionHistory"] == 1
    assert (machine.status, machine.error_code) == (SagaStateMachine.Status.ERROR, error_code)
    assert says in machine.error
    assert machine.last_success_at is None
    # What was listed is kept, waiting for its history.
    assert SagaExecution.objects.get().outcome == SagaExecution.PENDING

    settings.AWS_ENDPOINT_URL = order_saga.endpoint
    machine, calls = sync(machine)

    assert calls == {LIST: 1, HISTORY: 1}
    assert machine.status == SagaStateMachine.Status.OK and machine.error == ""
    assert SagaExecution.objects.get().outcome == "compensated"


def test_an_unreachable_endpoint_is_recorded_and_stored_executions_are_kept(order_saga, settings, fast_failures):
    order_saga.run("o-1")
    machine, _ = sync(order_saga.machine())
    settings.AWS_ENDPOINT_URL = closed_port_url()

    machine, _ = sync(machine)

    assert (machine.status, machine.error_code) == (SagaStateMachine.Status.ERROR, "endpoint_unreachable")
    assert "Cannot connect to the AWS endpoint" in machine.error
    assert machine.last_success_at is not None
    assert SagaExecution.objects.get().outcome == "committed"


# --- the demo estate's own order saga --------------------------------------------------------------------------


def _demo_order(sfn, arn: str, name: str, *, failing=(), backorder_seconds=None, finish=True) -> str:
    """An order of the demo estate's saga; its input makes the named functions fail (sandbox.extensions
    .lambda_outcomes) or puts the reservation on backorder, as the traffic generator does."""
    given = {"orderId": name, FAILURES_KEY: {f: {"error": "Refused", "cause": "on cue"} for f in failing}}
    if backorder_seconds:
        given["backorder_seconds"] = backorder_seconds
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(given))["executionArn"]
    if finish:
        machines.finished(sfn, execution)
    return execution


def test_the_demo_estates_order_saga_is_found_and_read_as_a_saga(sandbox_estate, settings, db):
    """The contract (docs/observability.md): the estate's order saga follows the naming rule, is tagged with its
    service, and runs in moto's interpreter; the portal needs no annotation to watch it, and reads each outcome
    the traffic generator makes."""
    settings.AWS_ENDPOINT_URL = sandbox_estate
    settings.SAGA_RATE_LIST_EXECUTIONS = settings.SAGA_RATE_GET_EXECUTION_HISTORY = 1000
    for spec in DEMO_AWS_ACCOUNTS.split(","):
        AwsAccount.objects.create(**parse_account_spec(spec))
    documents = [
        d
        for path in sorted(CATALOG_DIR.rglob("*.yaml"))
        for d in yaml.safe_load_all(path.read_text())
        if d and d.get("kind") != "Location"
    ]
    entities_apply(
        actor=Actor.for_system("test"),
        location=location_for(type=Location.Type.FILE, target=str(CATALOG_DIR)),
        incoming=[Incoming(document=d, source="estate", index=i) for i, d in enumerate(documents)],
    )
    prod = AwsAccount.objects.get(account_id=machines.ACCOUNT_ID)
    discovery_run(account=prod, region=machines.REGION)
    arn = f"arn:aws:states:{machines.REGION}:{machines.ACCOUNT_ID}:stateMachine:order-saga"
    sfn = machines.sfn_client(sandbox_estate)
    _demo_order(sfn, arn, "demo-committed")
    _demo_order(sfn, arn, "demo-compensated", failing=["order-saga-ship-order"])
    _demo_order(sfn, arn, "demo-refund-refused", failing=["order-saga-ship-order", "order-saga-refund-payment"])
    waiting = _demo_order(sfn, arn, "demo-backorder", backorder_seconds=4 * 3600, finish=False)
    machines.entered(sfn, waiting, "WaitForRestock")

    saga_services.saga_machines_refresh()
    machine, _ = sync(SagaStateMachine.objects.get(arn=arn), now=timezone.now() + timedelta(hours=1))
    sfn.stop_execution(executionArn=waiting)

    assert machine.component.ref_key == "component:default/order-saga"
    assert machine.owner_team.slug == "team-orders"
    assert machine.is_saga and machine.saga_reason.startswith("naming rule")
    assert machine.compensations == {
        "CompensateChargePayment": "ChargePayment",
        "CompensateReserveInventory": "ReserveInventory",
    }
    assert outcomes(machine) == {
        "demo-committed": ("committed", "", (), ""),
        "demo-compensated": (
            "compensated",
            "ShipOrder",
            ("CompensateChargePayment", "CompensateReserveInventory"),
            "",
        ),
        "demo-refund-refused": (
            "compensation_failed",
            "ShipOrder",
            ("CompensateChargePayment",),
            "CompensateChargePayment",
        ),
        "demo-backorder": ("stuck", "", (), ""),
    }
