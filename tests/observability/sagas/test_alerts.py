"""Saga alerts: a failed compensation or a stuck saga raises one alert per execution and kind, audited with the
system as the actor; it shows on the entity and team pages until resolved or acknowledged (audited too)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from observability.models import SagaAlert, SagaExecution
from observability.sagas import services as saga_services
from tests.observability.sagas import machines

pytestmark = pytest.mark.django_db

COMPONENT = reverse("catalog:entity", args=["default", "component", "order-saga"])
TEAM = reverse("teams:detail", args=["team-orders"])


def sync(order_saga, **kwargs):
    return saga_services.saga_sync(machine=order_saga.machine(), **kwargs)


def events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("pk")


def test_a_failed_compensation_raises_one_alert_audited_as_the_system(order_saga, orders):
    order_saga.run("o-1", failing=("ship", "refund"))

    sync(order_saga)
    sync(order_saga)  # nothing new: no second alert, no second event

    alert = SagaAlert.objects.get()
    assert (alert.kind, alert.execution.name, alert.owner_team) == ("compensation_failed", "o-1", orders)
    assert alert.message.startswith(
        "CompensateChargePayment failed (DynamoDB.ResourceNotFoundException) while undoing ShipOrder"
    )
    raised = events("saga_alert.raise").get()
    assert (raised.actor_kind, raised.actor_label) == ("system", "system:task:saga_sync")
    assert raised.target_type == "observability.sagaalert" and raised.target_id == str(alert.pk)
    assert raised.after["kind"] == "compensation_failed"
    assert raised.after["execution"].endswith(":execution:order-saga:o-1")


def test_a_stuck_saga_raises_an_alert_that_its_end_resolves(order_saga, settings):
    settings.SAGA_STUCK_AFTER_SECONDS = 60
    arn = order_saga.run("o-slow", wait=3600, finish=False)
    machines.entered(order_saga.sfn, arn, "AwaitWarehouse")
    later = timezone.now() + timedelta(minutes=5)

    sync(order_saga, now=later)
    sync(order_saga, now=later + timedelta(minutes=5))  # still stuck: still one alert

    execution = SagaExecution.objects.get()
    alert = SagaAlert.objects.get()
    assert (execution.outcome, alert.kind, alert.resolved_at) == ("stuck", "stuck", None)
    assert "has been running for 5 min" in alert.message and "longer than 1 min" in alert.message
    assert events("saga_alert.raise").count() == 1

    order_saga.sfn.stop_execution(executionArn=arn)
    machines.finished(order_saga.sfn, arn)
    sync(order_saga)

    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert SagaExecution.objects.get().outcome == "failed"
    resolved = events("saga_alert.resolve").get()
    assert resolved.actor_kind == "system" and resolved.before["resolved_at"] is None and resolved.after["resolved_at"]


def test_an_execution_past_the_threshold_is_stuck_even_when_its_history_is_not_read_this_run(order_saga, settings):
    settings.SAGA_STUCK_AFTER_SECONDS = 60
    arn = order_saga.run("o-slow", wait=3600, finish=False)
    machines.entered(order_saga.sfn, arn, "AwaitWarehouse")
    sync(order_saga)
    settings.SAGA_SYNC_MAX_HISTORIES = 0

    sync(order_saga, now=timezone.now() + timedelta(minutes=5))

    assert SagaExecution.objects.get().outcome == "stuck"
    assert SagaAlert.objects.get().kind == "stuck"
    order_saga.sfn.stop_execution(executionArn=arn)


def test_a_saga_may_set_its_own_stuck_threshold(order_saga, settings):
    from catalog.services import entity_update
    from portal.actors import Actor
    from tests.observability.sagas.estate import component_document

    entity_update(
        actor=Actor.for_system("test"),
        entity=order_saga.component,
        document=component_document(
            annotations={"meridian.io/saga-state-machine": "order-saga", "meridian.io/saga-stuck-after": "2h"}
        ),
    )
    arn = order_saga.run("o-slow", wait=3600, finish=False)
    machines.entered(order_saga.sfn, arn, "AwaitWarehouse")

    sync(order_saga, now=timezone.now() + timedelta(hours=1))

    assert order_saga.machine().stuck_after_seconds == 7200
    assert SagaExecution.objects.get().outcome == "running"
    order_saga.sfn.stop_execution(executionArn=arn)


# --- on the entity and team pages ------------------------------------------------------------------------------


@pytest.fixture
def alerted(order_saga):
    order_saga.run("o-1", failing=("charge", "release"))
    sync(order_saga)
    return SagaAlert.objects.get()


@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_open_alerts_show_on_the_entity_and_team_pages(client_as, people, alerted, who):
    client = client_as(who)

    component = client.get(COMPONENT).content.decode()
    team = client.get(TEAM).content.decode()

    assert 'data-testid="entity-saga-alerts"' in component and "1 failed compensation" in component
    assert 'data-testid="team-saga-alert" data-kind="compensation_failed"' in team
    assert reverse("observability:saga_execution", args=[alerted.execution_id]) in team
    resource = order_saga_resource_url(alerted)
    assert 'data-testid="entity-saga-alerts"' in client.get(resource).content.decode()


def test_open_alerts_show_on_the_home_page_of_the_owning_teams_members(client_as, people, alerted):
    home = client_as("viewer").get("/").content.decode()
    assert 'data-testid="home-saga-alert" data-kind="compensation_failed"' in home
    assert reverse("observability:saga_execution", args=[alerted.execution_id]) in home
    assert 'data-testid="home-saga-alerts"' not in client_as("outsider").get("/").content.decode()


def order_saga_resource_url(alert) -> str:
    resource = alert.state_machine.resource
    return reverse("catalog:entity", args=[resource.namespace, resource.kind_key, resource.name])


@pytest.mark.parametrize(
    ("who", "allowed"), [("viewer", False), ("outsider", False), ("maintainer", True), ("portal_admin", True)]
)
def test_maintainers_acknowledge_an_alert_which_leaves_the_entity_and_team_pages(
    client_as, people, alerted, who, allowed
):
    client = client_as(who)
    url = reverse("observability:saga_alert_acknowledge", args=[alerted.pk])

    response = client.post(url)

    alerted.refresh_from_db()
    if not allowed:
        assert response.status_code == 403
        assert alerted.acknowledged_at is None and not events("saga_alert.acknowledge").exists()
        return
    assert response.status_code == 302
    assert alerted.acknowledged_by == people[who] and alerted.acknowledged_at is not None
    event = events("saga_alert.acknowledge").get()
    assert (event.actor_kind, event.actor_label) == ("user", people[who].username)
    assert event.before["acknowledged_at"] is None and event.after["acknowledged_by"] == people[who].pk
    assert 'data-testid="entity-saga-alerts"' not in client.get(COMPONENT).content.decode()
    assert 'data-testid="team-saga-alerts"' not in client.get(TEAM).content.decode()
    # Still on the saga's tab and the execution's page, marked acknowledged.
    page = client.get(reverse("observability:saga_execution", args=[alerted.execution_id])).content.decode()
    assert 'data-testid="execution-alert" data-kind="compensation_failed"' in page and "acknowledged by" in page
    # Acknowledging twice changes nothing.
    client.post(url)
    assert events("saga_alert.acknowledge").count() == 1


def test_the_entity_page_costs_one_query_for_saga_alerts(client_as, people, alerted):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client_as("viewer").get(COMPONENT)

    saga_queries = [q for q in queries.captured_queries if "observability_sagaalert" in q["sql"]]
    assert len(saga_queries) == 1  # counts by kind; the link goes to the component's Sagas tab
