"""X-Ray in a real browser: from the estate's service map, through a service's page and its faulty traces, to the
waterfall of a trace that faulted. The in-process sandbox is the portal's AWS, holding the shop's traces."""

import json
import re
import time

import pytest
from playwright.sync_api import expect

from portal.aws.models import AwsAccount
from tests.e2e import catalog_estate
from tests.observability.xray.estate import ACCOUNT_ID, REGION, put_shop, shop_catalog, xray_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop_in_xray(sandbox_endpoint, settings, orders, payments):
    settings.AWS_ENDPOINT_URL = sandbox_endpoint
    AwsAccount.objects.create(name="meridian-prod", account_id=ACCOUNT_ID, regions=[REGION])
    shop_catalog()
    return put_shop(xray_client(sandbox_endpoint), float(int(time.time()) - 300))


def _click_node(page, name: str):
    """Click the marker of the map's node labelled `name` (plotly draws each marker as an SVG path)."""
    figure = json.loads(page.locator("#xray-map-figure").text_content())
    index = figure["data"][-1]["text"].index(name)
    traces = page.locator("#xray-map .scatterlayer .trace")
    marker = traces.nth(traces.count() - 1).locator("path.point").nth(index)
    box = marker.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_from_the_service_map_to_a_faulty_traces_waterfall(page, sign_in, shop_in_xray, orders):
    catalog_estate.person("vera", orders, role="viewer")
    sign_in("vera", catalog_estate.PASSWORD)

    page.goto("/observability/xray/")
    service_map = page.get_by_test_id("service-map")
    expect(service_map).to_have_attribute("data-ready", "true")
    expect(service_map.locator("text", has_text="payments-api")).to_be_visible()
    expect(page.get_by_test_id("fetched-at")).to_contain_text("Fetched")

    # A node opens its service's catalog page; its X-Ray tab lists its faulty traces.
    _click_node(page, "payments-api")
    expect(page).to_have_url(re.compile(r"/catalog/default/component/payments-api/$"))
    expect(page.get_by_test_id("xray-overview-notice")).to_contain_text("orders-api calls payments-api")
    page.get_by_test_id("tab-xray").click()
    expect(page.get_by_test_id("finding")).to_contain_text("orders-api calls payments-api, not declared")
    page.get_by_test_id("entity-faults").click()

    expect(page.get_by_test_id("trace-filter")).to_have_value('service("payments-api") { fault }')
    rows = page.get_by_test_id("trace-row")
    expect(rows).to_have_count(2)
    faulty = page.locator('[data-testid="trace-row"][data-fault="true"]')
    expect(faulty).to_have_count(1)  # the request whose fault reached the client
    faulty.get_by_test_id("trace-link").click()

    expect(page).to_have_url(re.compile(rf"/observability/xray/traces/meridian-prod/eu-west-1/{shop_in_xray[2]}/$"))
    waterfall = page.get_by_test_id("waterfall")
    expect(waterfall).to_have_attribute("data-ready", "true")
    expect(waterfall.locator("g.ytick text", has_text="payments-api").first).to_be_visible()
    expect(page.locator('[data-testid="span"][data-outcome="fault"]')).to_have_count(3)
    # The faulty spans are drawn red.
    bars = waterfall.locator(".barlayer path")
    expect(bars).to_have_count(6)
    fills = [bars.nth(i).evaluate("p => getComputedStyle(p).fill") for i in range(6)]
    assert fills.count("rgb(220, 53, 69)") == 3


def test_a_filter_x_ray_refuses_shows_its_message_on_the_form(page, sign_in, shop_in_xray, orders):
    catalog_estate.person("vera", orders, role="viewer")
    sign_in("vera", catalog_estate.PASSWORD)

    page.goto("/observability/xray/traces/")
    page.get_by_test_id("trace-filter").fill('service("orders-api" AND fault')
    page.get_by_test_id("trace-filter-submit").click()

    expect(page.get_by_test_id("filter-error")).to_contain_text("Invalid filter expression")
