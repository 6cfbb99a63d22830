"""Saga pages for each role: the Sagas tab, one execution's timeline, "Sync now"; the last sync's AWS error on
the tab (throttling, access denied, unreachable); no AWS call from any page; query counts that do not grow
with the executions shown."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from observability.models import SagaExecution, SagaStateMachine
from observability.sagas import services as saga_services
from portal.aws.accounting import count_aws_calls
from tests.observability.faults import closed_port_url
from tests.observability.sagas.faults import ACCESS_DENIED, THROTTLING, failing_json_api

pytestmark = pytest.mark.django_db

SIGNED_IN = ["viewer", "maintainer", "outsider", "portal_admin"]
TAB = reverse("catalog:entity_tab", args=["default", "component", "order-saga", "sagas"])


def figure(response, element_id: str) -> dict:
    html = response.content.decode()
    return json.loads(html.split(f'id="{element_id}" type="application/json">')[1].split("</script>")[0])


@pytest.fixture
def synced(order_saga):
    """The order saga with four executions, one of each finished outcome, synced."""
    order_saga.run("o-committed")
    order_saga.run("o-compensated", failing=("ship",))
    order_saga.run("o-compensation-failed", failing=("charge", "release"))
    order_saga.run("o-failed", failing=("reserve",))
    saga_services.saga_sync(machine=order_saga.machine())
    return order_saga


def execution_url(name: str) -> str:
    return reverse("observability:saga_execution", args=[SagaExecution.objects.get(name=name).pk])


# --- the tab --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", SIGNED_IN)
def test_every_signed_in_person_sees_the_sagas_executions_outcomes_and_chart(client_as, people, synced, who):
    with count_aws_calls() as calls:
        response = client_as(who).get(TAB)

    assert response.status_code == 200
    assert calls.total == 0  # pages read the database only
    rows = {e.name: e.outcome for e in response.context["executions"]}
    assert rows == {
        "o-committed": "committed",
        "o-compensated": "compensated",
        "o-compensation-failed": "compensation_failed",
        "o-failed": "failed",
    }
    body = response.content.decode()
    assert 'data-testid="saga-freshness"' in body and "Synced from AWS" in body
    assert "CompensateChargePayment</code> undoes <code>ChargePayment" in body
    chart = figure(response, "saga-outcomes-figure")
    bars = {trace["name"]: sum(trace["y"]) for trace in chart["data"] if trace["type"] == "bar"}
    assert bars == {"Committed": 1, "Compensated": 1, "Failed, nothing compensated": 1, "Compensation failed": 1}
    rates = {trace["name"]: [y for y in trace["y"] if y is not None] for trace in chart["data"] if trace.get("yaxis")}
    assert rates["Compensated, % of finished"] == [50.0]  # compensated + compensation failed, of 4 finished
    assert rates["Compensation failed, % of finished"] == [25.0]
    may_sync = 'data-testid="saga-sync-now"' in body
    assert may_sync == (who in ("maintainer", "portal_admin"))


def test_anonymous_visitors_are_sent_to_sign_in(client, synced):
    for url in (TAB, execution_url("o-committed")):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_filters_by_outcome_and_range_and_says_what_is_wrong_with_bad_ones(client_as, people, synced):
    client = client_as("viewer")

    only = client.get(TAB, {"outcome": "compensated", "range": "7d"})
    bad = client.get(TAB, {"outcome": "bogus", "range": "1y"})

    assert only.status_code == 200 and bad.status_code == 400  # the page, with what to fix
    assert [e.name for e in only.context["executions"]] == ["o-compensated"]
    assert only.context["window"].key == "7d"
    assert bad.context["range_error"] == "Unknown range '1y': choose 24h, 7d, 30d."
    assert "Unknown outcome &#x27;bogus&#x27;" in bad.content.decode()
    assert len(bad.context["executions"].object_list) == 4


def test_the_tab_of_the_state_machine_resource_shows_the_same_saga(client_as, people, synced):
    resource = synced.machine().resource
    url = reverse("catalog:entity_tab", args=["default", "resource", resource.name, "sagas"])

    response = client_as("viewer").get(url)

    assert response.status_code == 200
    assert response.context["machine"].arn == synced.arn
    assert len(response.context["executions"].object_list) == 4


def test_a_state_machine_that_is_no_saga_says_why_and_how_to_mark_it(client_as, people, order_saga):
    machine = order_saga.machine()
    SagaStateMachine.objects.filter(pk=machine.pk).update(
        is_saga=False, saga_reason="no state follows the naming rule", status="ok", last_success_at=timezone.now()
    )

    body = client_as("viewer").get(TAB).content.decode()

    assert 'data-testid="saga-not-a-saga"' in body and "no state follows the naming rule" in body
    assert "meridian.io/saga" in body


def test_a_component_without_state_machines_explains_how_to_link_one(client_as, people, account, orders):
    from catalog.services import entity_create
    from portal.actors import Actor
    from tests.observability.sagas.estate import component_document

    entity_create(actor=Actor.for_system("test"), document=component_document("lonely"))

    body = client_as("viewer").get(TAB.replace("order-saga", "lonely")).content.decode()

    assert 'data-testid="sagas-empty"' in body and "meridian.io/saga-state-machine" in body


# --- AWS trouble shows, and the page keeps working -----------------------------------------------------------


@pytest.fixture
def fast_failures(settings):
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT = settings.AWS_READ_TIMEOUT = 2
    settings.AWS_BREAKER_FAILURES = 100


@pytest.mark.parametrize(
    ("fault", "code", "says"),
    [
        (THROTTLING, "throttled", "AWS is throttling states ListExecutions calls"),
        (ACCESS_DENIED, "access_denied", "lacks the permission states:GetExecutionHistory"),
        (None, "endpoint_unreachable", "Cannot connect to the AWS endpoint"),
    ],
)
def test_the_tab_shows_the_last_syncs_aws_error_with_the_last_good_data(
    client_as, people, synced, settings, fast_failures, fault, code, says
):
    synced.run("o-later")
    if fault is None:
        settings.AWS_ENDPOINT_URL = closed_port_url()
        saga_services.saga_sync(machine=synced.machine())
    else:
        operation = "ListExecutions" if fault is THROTTLING else "GetExecutionHistory"
        with failing_json_api(synced.endpoint, fail={operation: fault}) as (url, _):
            settings.AWS_ENDPOINT_URL = url
            saga_services.saga_sync(machine=synced.machine())

    with count_aws_calls() as calls:
        response = client_as("viewer").get(TAB)

    body = response.content.decode()
    assert response.status_code == 200 and calls.total == 0
    assert f'data-error-code="{code}"' in body and says in body
    assert "What follows is as of the last good sync." in body
    assert len(response.context["executions"].object_list) >= 4


# --- one execution ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", SIGNED_IN)
def test_an_executions_timeline_shows_its_states_in_order_with_compensations_marked(client_as, people, synced, who):
    with count_aws_calls() as calls:
        response = client_as(who).get(execution_url("o-compensated"))

    assert response.status_code == 200 and calls.total == 0
    body = response.content.decode()
    assert 'data-testid="failed-step">ShipOrder<' in body
    timeline = figure(response, "saga-timeline-figure")
    order = timeline["layout"]["yaxis"]["categoryarray"]
    assert order == [
        "ReserveInventory",
        "AwaitWarehouse",
        "ChargePayment",
        "ShipOrder",
        "↩ CompensateChargePayment",
        "↩ CompensateReserveInventory",
        "OrderFailed",
    ]
    by_kind = {trace["name"]: trace["y"] for trace in timeline["data"]}
    assert by_kind["Compensation"] == ["↩ CompensateChargePayment", "↩ CompensateReserveInventory"]
    assert by_kind["Step failed"] == ["ShipOrder"]
    compensation = next(t for t in timeline["data"] if t["name"] == "Compensation")
    assert compensation["marker"]["pattern"]["shape"] == "/"
    assert all(width > 0 for trace in timeline["data"] for width in trace["x"])


def test_an_unknown_execution_is_not_found(client_as, people, db):
    assert client_as("viewer").get(reverse("observability:saga_execution", args=[424242])).status_code == 404


# --- "Sync now" -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "allowed"), [("viewer", False), ("outsider", False), ("maintainer", True), ("portal_admin", True)]
)
def test_sync_now_is_for_the_owning_teams_maintainers_and_audited(
    client_as, people, order_saga, django_capture_on_commit_callbacks, who, allowed
):
    machine = order_saga.machine()
    url = reverse("observability:saga_sync_request", args=[machine.pk])

    with django_capture_on_commit_callbacks() as callbacks:
        response = client_as(who).post(url, {"next": TAB})

    events = AuditEvent.objects.filter(action="saga.sync_request")
    if allowed:
        assert response.status_code == 302 and response.url.startswith(f"{TAB}?sync_requested=")
        assert len(callbacks) == 1
        assert events.get().actor_label == people[who].username
    else:
        assert response.status_code == 403
        assert not callbacks and not events.exists()


def test_sync_now_runs_the_sync(client_as, people, order_saga, django_capture_on_commit_callbacks, celery_eager):
    order_saga.run("o-1")
    url = reverse("observability:saga_sync_request", args=[order_saga.machine().pk])

    with django_capture_on_commit_callbacks(execute=True):
        client_as("maintainer").post(url)

    assert SagaExecution.objects.get().outcome == "committed"


def test_after_sync_now_the_tab_polls_the_syncs_status_and_reloads_when_it_is_done(
    client_as, people, order_saga, django_capture_on_commit_callbacks
):
    machine = order_saga.machine()
    maintainer = client_as("maintainer")
    response = maintainer.post(reverse("observability:saga_sync_request", args=[machine.pk]), {"next": TAB})
    tab = maintainer.get(response.url)
    body = tab.content.decode()
    assert 'data-testid="saga-sync-status"' in body  # the page polls a small fragment
    poll = body.split('data-testid="saga-sync-status"')[0].rsplit("hx-get=", 1)[1].split('"')[1].replace("&amp;", "&")

    waiting = maintainer.get(poll, headers={"HX-Request": "true"})
    assert waiting.status_code == 200 and "HX-Refresh" not in waiting.headers
    assert "Syncing" in waiting.content.decode() and 'hx-trigger="every' in waiting.content.decode()

    order_saga.run("o-1")
    saga_services.saga_sync(machine=machine)  # the worker's run
    done = maintainer.get(poll, headers={"HX-Request": "true"})

    assert done.headers["HX-Refresh"] == "true"  # htmx reloads the tab, which shows what the sync found
    assert 'hx-trigger="every' not in done.content.decode()
    reloaded = maintainer.get(TAB)
    assert [e.name for e in reloaded.context["executions"]] == ["o-1"]


def test_sync_now_refuses_an_outside_redirect(client_as, people, order_saga):
    url = reverse("observability:saga_sync_request", args=[order_saga.machine().pk])

    response = client_as("maintainer").post(url, {"next": "//evil.example.com/"})

    assert response.url.startswith("/catalog/default/component/order-saga/sagas/")


# --- query counts ----------------------------------------------------------------------------------------------


def _add_executions(machine, count: int) -> None:
    now = timezone.now()
    outcomes = ["committed", "compensated", "compensation_failed", "failed", "stuck"]
    SagaExecution.objects.bulk_create(
        SagaExecution(
            state_machine=machine,
            arn=f"{machine.arn.replace(':stateMachine:', ':execution:')}:bulk-{i}",
            name=f"bulk-{i}",
            status="RUNNING" if outcomes[i % 5] == "stuck" else "FAILED",
            started_at=now - timedelta(minutes=i + 1),
            stopped_at=None if outcomes[i % 5] == "stuck" else now - timedelta(minutes=i),
            outcome=outcomes[i % 5],
            failed_step="ShipOrder",
            compensations=["CompensateChargePayment", "CompensateReserveInventory"],
            history_final=True,
        )
        for i in range(count)
    )


def test_the_tab_makes_as_many_queries_for_25_executions_as_for_3(client_as, people, order_saga):
    machine = order_saga.machine()
    SagaStateMachine.objects.filter(pk=machine.pk).update(is_saga=True, status="ok", last_success_at=timezone.now())
    client = client_as("viewer")
    _add_executions(machine, 3)
    with CaptureQueriesContext(connection) as few:
        client.get(TAB)
    SagaExecution.objects.all().delete()
    _add_executions(machine, 40)
    with CaptureQueriesContext(connection) as many:
        response = client.get(TAB)

    assert len(response.context["executions"].object_list) == 25
    # The same 14 either way: session, user, the entity, may-change (membership), the state machines, may-sync
    # (membership), the outcome series (one grouped query), the executions' count, the saga's alerts, the page's
    # own (the navigation's memberships, the header's alarm relations and alarms, the open saga alerts by kind),
    # and the page of executions.
    assert len(many) == len(few)
    assert len(many) == 14, [q["sql"][:120] for q in many.captured_queries]


def test_a_component_without_the_tab_sends_people_to_the_state_machines_resource(client_as, people, synced):
    from catalog.services import entity_update
    from portal.actors import Actor
    from tests.observability.sagas.estate import component_document

    entity_update(actor=Actor.for_system("test"), entity=synced.component, document=component_document(tags=()))
    resource = synced.machine().resource
    resource_tab = reverse("catalog:entity_tab", args=["default", "resource", resource.name, "sagas"])

    component = client_as("viewer").get(reverse("catalog:entity", args=["default", "component", "order-saga"]))
    page = client_as("viewer").get(execution_url("o-compensated"))

    assert client_as("viewer").get(TAB).status_code == 404  # no Sagas tab on this component now
    # The header's alert badge leads to the execution whose compensation failed.
    assert f'href="{execution_url("o-compensation-failed")}"' in component.content.decode()
    assert page.context["tab_url"] == f"{resource_tab}?saga={synced.machine().pk}"
