"""A service's Metrics tab in a real browser: the golden signals drawn by plotly from CloudWatch, here the
embedded AWS sandbox (moto's server in this process) reached over HTTP as in `make run`."""

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from playwright.sync_api import expect

from portal.aws.models import AwsAccount
from portal.models import Team
from sandbox.seed import SANDBOX_CREDENTIALS
from tests.e2e import catalog_estate
from tests.observability.estate import ACCOUNT, REGION, components, discover, lambda_arn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def orders_api(settings, sandbox_endpoint):
    settings.AWS_ENDPOINT_URL = sandbox_endpoint
    orders = Team.objects.create(slug="team-orders", name="Orders")
    AwsAccount.objects.create(name="meridian-prod", account_id=ACCOUNT, regions=[REGION])
    components("orders-api")
    discover((lambda_arn("orders-api"), "orders-api"))
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=sandbox_endpoint, **SANDBOX_CREDENTIALS)
    now = datetime.now(UTC)
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "FunctionName", "Value": "orders-api"}],
                "Value": float(20 + minute),
                "Unit": "Count",
                "Timestamp": now - timedelta(minutes=minute),
            }
            for minute in range(1, 30)
        ],
    )
    catalog_estate.person("vera", orders, role="viewer")
    return orders


def test_a_services_metrics_tab_draws_its_golden_signals(page, sign_in, orders_api):
    sign_in("vera", catalog_estate.PASSWORD)
    page.goto("/catalog/default/component/orders-api/")
    page.get_by_test_id("tab-metrics").click()

    invocations = page.get_by_role("heading", name="orders-api · Invocations").locator(
        "xpath=ancestor::div[@data-testid='metric-panel']"
    )
    chart = invocations.get_by_test_id("metric-chart")
    expect(chart).to_have_attribute("data-ready", "true")
    expect(chart.locator(".main-svg").first).to_be_visible()  # plotly drew it
    expect(chart.locator(".scatterlayer .trace")).to_have_count(1)
    expect(invocations.get_by_test_id("fetched-at")).to_contain_text("Fetched")

    page.get_by_test_id("range-6h").click()
    expect(page.get_by_test_id("window-label")).to_contain_text("last 6 h")
    expect(page.get_by_test_id("metric-chart").first).to_have_attribute("data-ready", "true")
