"""Browsing the catalog in a real browser: facets and search, a service's dependency graph, an API definition."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e import catalog_estate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def viewer(sign_in):
    estate = catalog_estate.build()
    catalog_estate.person("vera", estate["orders"], role="viewer")
    sign_in("vera", catalog_estate.PASSWORD)
    return estate


def rows(page):
    return page.get_by_test_id("catalog-row")


def test_browse_facets_and_search_update_the_results_in_place(page, viewer):
    page.locator("a.nav-link", has_text="Catalog").click()
    expect(page).to_have_url(re.compile(r"/catalog/$"))
    # The page opens on Components (4 of the 9), the other kinds a tab away.
    expect(rows(page)).to_have_count(4)
    page.goto("/catalog/?kind=")
    expect(rows(page)).to_have_count(9)
    expect(page.get_by_test_id("result-count")).to_have_text(re.compile(r"^9 entities"))

    # Ticking a facet narrows the list through htmx and keeps the address shareable.
    page.get_by_test_id("facet-kind").get_by_label(re.compile(r"\bcomponent\b")).check()
    expect(rows(page)).to_have_count(4)
    expect(page).to_have_url(re.compile(r"kind=component"))
    # The other kinds stay listed with their counts, to widen the choice.
    expect(page.get_by_test_id("facet-kind").get_by_label(re.compile(r"\bapi\b"))).not_to_be_checked()

    page.get_by_test_id("catalog-search").fill("orders")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_have_attribute("data-ref", "component:default/orders-api")
    expect(page).to_have_url(re.compile(r"q=orders"))

    # The address restores the same view on reload, without htmx.
    page.reload()
    expect(rows(page)).to_have_count(1)
    expect(page.get_by_test_id("catalog-search")).to_have_value("orders")

    rows(page).first.get_by_role("link").first.click()
    expect(page.get_by_test_id("entity-title")).to_contain_text("orders-api")
    expect(page.get_by_test_id("entity-description")).to_have_text("Takes and tracks customer orders.")
    expect(page.get_by_test_id("entity-owner").get_by_role("link", name=re.compile(r"Orders$"))).to_be_visible()


def test_an_invalid_filter_in_the_address_shows_a_message(page, viewer):
    page.goto("/catalog/?kind=not%20a%20kind")
    expect(page.get_by_test_id("filter-errors")).to_contain_text("kind")


def _click_node(page, ref_text: str):
    """Click the marker of the graph node labelled `ref_text` (plotly draws each marker as an SVG path)."""
    figure = json.loads(page.locator("#dependency-figure").text_content())
    index = figure["data"][1]["text"].index(ref_text)
    marker = page.locator("#dependency-graph .scatterlayer .trace").nth(1).locator("path.point").nth(index)
    box = marker.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_services_dependency_graph_clicks_through_to_a_dependency(page, viewer):
    page.goto("/catalog/default/component/orders-api/")
    page.get_by_test_id("tab-dependencies").click()
    graph = page.get_by_test_id("dependency-graph")
    expect(graph).to_have_attribute("data-ready", "true")
    expect(graph.locator("text", has_text="component:order-saga")).to_be_visible()
    expect(graph.locator("text", has_text="component:storefront")).to_be_visible()  # a consumer of its API
    _click_node(page, "component:order-saga")
    expect(page).to_have_url(re.compile(r"/catalog/default/component/order-saga/$"))
    expect(page.get_by_test_id("entity-title")).to_contain_text("order-saga")


def test_an_api_definition_renders_in_swagger_ui(page, viewer):
    page.goto("/catalog/default/component/orders-api/")
    page.get_by_test_id("tab-apis").click()
    holder = page.get_by_test_id("swagger-ui")
    expect(holder).to_have_attribute("data-ready", "true")
    expect(holder.locator(".info .title")).to_contain_text("Orders API")
    expect(holder.locator(".opblock-summary-path").first).to_contain_text("/orders")
    # Open an operation: Swagger UI is live, not a picture of it.
    holder.locator(".opblock-summary-path", has_text="/orders/{orderId}").click()
    expect(holder.locator(".opblock-description-wrapper, .parameters").first).to_be_visible()
