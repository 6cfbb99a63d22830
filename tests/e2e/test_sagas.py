"""A saga in a real browser: the order saga's executions on its component's Sagas tab, then one execution's timeline.

The executions are real: moto's Step Functions interpreter runs them in the sandbox, AWS discovery links the
state machine to its component, and the saga sync reads them, as in production.
"""

import re

import pytest
from playwright.sync_api import expect

from catalog.discovery import discovery_run
from catalog.services import entity_create
from observability.models import SagaStateMachine
from observability.sagas.services import saga_machines_refresh, saga_sync
from portal.actors import Actor
from portal.aws.models import AwsAccount
from portal.models import Team
from tests.e2e import catalog_estate
from tests.observability.sagas import machines
from tests.observability.sagas.estate import TAGS, component_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def synced_saga(sandbox_endpoint, settings, sign_in):
    settings.AWS_ENDPOINT_URL = sandbox_endpoint
    settings.SAGA_RATE_LIST_EXECUTIONS = settings.SAGA_RATE_GET_EXECUTION_HISTORY = 1000
    orders = Team.objects.create(slug="team-orders", name="Orders")
    account = AwsAccount.objects.create(name="meridian-prod", account_id=machines.ACCOUNT_ID, regions=[machines.REGION])
    entity_create(actor=Actor.for_system("e2e"), document=component_document())
    machines.create_table(sandbox_endpoint)
    sfn = machines.sfn_client(sandbox_endpoint)
    arn = machines.create_machine(sfn, "order-saga", machines.order_saga(), tags=TAGS)
    machines.run_order(sfn, arn, "order-1001")
    machines.run_order(sfn, arn, "order-1002", failing=("ship",))
    machines.run_order(sfn, arn, "order-1003", failing=("charge", "release"))
    discovery_run(account=account, region=machines.REGION)
    saga_machines_refresh()
    saga_sync(machine=SagaStateMachine.objects.get(arn=arn))
    catalog_estate.person("vera", orders, role="viewer")
    sign_in("vera", catalog_estate.PASSWORD)


def test_a_sagas_executions_then_one_executions_timeline(page, synced_saga):
    page.goto("/catalog/default/component/order-saga/")
    # The failed compensation is flagged in the header of the component's page.
    expect(page.get_by_test_id("entity-saga-alerts")).to_contain_text("1 failed compensation")

    page.get_by_test_id("tab-sagas").click()
    expect(page).to_have_url(re.compile(r"/sagas/$"))
    rows = page.get_by_test_id("saga-execution")
    expect(rows).to_have_count(3)
    expect(page.locator('[data-testid=saga-execution][data-outcome="compensated"]')).to_contain_text("ShipOrder")
    chart = page.get_by_test_id("saga-outcomes-chart")
    expect(chart).to_have_attribute("data-ready", "true")
    # plotly keeps the drawn traces on the element: one bar trace per outcome, three executions in all.
    drawn = chart.evaluate(
        "el => el.data.filter(t => t.type === 'bar').map(t => [t.name, t.y.reduce((a, b) => a + b)])"
    )
    assert sorted(drawn) == [["Committed", 1], ["Compensated", 1], ["Compensation failed", 1]]
    expect(page.get_by_test_id("saga-alert")).to_contain_text("CompensateReserveInventory failed")

    # Only compensated executions, then the one execution's page.
    page.locator('[data-testid=saga-total][data-outcome="compensated"]').click()
    expect(rows).to_have_count(1)
    rows.first.get_by_test_id("saga-execution-link").click()

    expect(page.get_by_test_id("execution-title")).to_contain_text("order-1002")
    expect(page.get_by_test_id("failed-step")).to_have_text("ShipOrder")
    expect(page.get_by_test_id("compensations")).to_have_text("CompensateChargePayment → CompensateReserveInventory")
    timeline = page.get_by_test_id("saga-timeline")
    expect(timeline).to_have_attribute("data-ready", "true")
    # One bar per state, compensations included and marked on the axis.
    expect(timeline.locator(".ytick text", has_text="↩ CompensateChargePayment")).to_be_visible()
    bars = timeline.evaluate("el => el.data.map(t => [t.name, t.y.length])")
    assert sorted(bars) == [["Compensation", 2], ["End state", 1], ["Step", 3], ["Step failed", 1]]
    expect(page.locator('[data-testid=execution-state][data-compensation="true"]')).to_have_count(2)

    page.get_by_test_id("back-to-saga").click()
    expect(page.get_by_test_id("saga-name")).to_contain_text("order-saga")
