"""Changing the catalog in a real browser: editing an entity you maintain (and seeing it audited), being refused
someone else's, and importing a catalog file through the upload page."""

import re

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from catalog import services
from catalog.models import Entity
from portal.actors import Actor
from tests.e2e import catalog_estate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def estate():
    return catalog_estate.build()


def test_a_maintainer_edits_an_entity_and_the_change_is_audited(page, sign_in, estate):
    catalog_estate.person("max", estate["orders"])
    sign_in("max", catalog_estate.PASSWORD)
    page.goto("/catalog/default/component/orders-api/")
    page.get_by_test_id("entity-edit").click()

    editor = page.get_by_label("Entity (YAML)")
    text = editor.input_value()
    assert "description: Takes and tracks customer orders." in text
    editor.fill(text.replace("Takes and tracks customer orders.", "Takes, tracks and refunds customer orders."))
    page.get_by_test_id("edit-save").click()

    expect(page).to_have_url(re.compile(r"/catalog/default/component/orders-api/$"))
    expect(page.get_by_test_id("entity-description")).to_have_text("Takes, tracks and refunds customer orders.")
    expect(page.get_by_role("alert")).to_contain_text("Saved component:default/orders-api")

    entity = Entity.objects.get(ref_key="component:default/orders-api")
    event = AuditEvent.objects.get(target_type="catalog.entity", target_id=str(entity.pk), actor_label="max")
    assert event.before["metadata"]["description"] == "Takes and tracks customer orders."
    assert event.after["metadata"]["description"] == "Takes, tracks and refunds customer orders."


def test_an_edit_from_an_old_version_is_refused_with_the_current_one_shown(page, sign_in, estate):
    catalog_estate.person("max", estate["orders"])
    sign_in("max", catalog_estate.PASSWORD)
    page.goto("/catalog/default/component/order-saga/edit/")
    # Meanwhile, a colleague saves a change.
    saga = Entity.objects.get(ref_key="component:default/order-saga")
    changed = {**saga.document, "metadata": {**saga.metadata, "title": "Order saga"}}
    services.entity_update(actor=Actor.for_system("colleague"), entity=saga, document=changed)

    editor = page.get_by_label("Entity (YAML)")
    editor.fill(editor.input_value().replace("with compensations", "with retries"))
    page.get_by_test_id("edit-save").click()
    expect(page.get_by_test_id("edit-conflict")).to_contain_text("Someone else changed this entity")
    expect(page.get_by_test_id("current-version")).to_contain_text("title: Order saga")
    assert "with compensations" in Entity.objects.get(pk=saga.pk).description


def test_someone_else_cannot_edit(page, sign_in, estate):
    catalog_estate.person("otto", estate["payments"])  # maintains payments, not orders
    sign_in("otto", catalog_estate.PASSWORD)
    page.goto("/catalog/default/component/orders-api/")
    expect(page.get_by_test_id("entity-title")).to_contain_text("orders-api")
    expect(page.get_by_test_id("entity-edit")).to_have_count(0)
    response = page.goto("/catalog/default/component/orders-api/edit/")
    assert response.status == 403
    expect(page.get_by_role("heading", name=re.compile("Not allowed"))).to_be_visible()
    # Their own team's entity is theirs to edit.
    page.goto("/catalog/default/component/storefront/")
    expect(page.get_by_test_id("entity-edit")).to_be_visible()


CATALOG_FILE = b"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: invoices
  description: Issues invoices for paid orders.
spec:
  type: service
  lifecycle: experimental
  owner: group:team-orders
  system: commerce
  dependsOn: [component:orders-api]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: invalid component
spec:
  type: service
  lifecycle: production
  owner: group:team-orders
"""


def test_a_catalog_file_is_imported_through_the_upload_page(page, sign_in, estate):
    catalog_estate.person("max", estate["orders"])
    sign_in("max", catalog_estate.PASSWORD)
    page.goto("/catalog/")
    page.get_by_test_id("catalog-import").click()
    page.get_by_label("Catalog file").set_input_files(
        {"name": "catalog-info.yaml", "mimeType": "application/x-yaml", "buffer": CATALOG_FILE}
    )
    page.get_by_test_id("import-submit").click()

    report = page.get_by_test_id("import-report")
    expect(report.get_by_test_id("import-created")).to_contain_text("component:default/invoices")
    problem = report.get_by_test_id("import-problem")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("metadata.name")
    expect(problem).to_contain_text("invalid component")

    page.goto("/catalog/?q=invoices")
    expect(page.get_by_test_id("catalog-row")).to_have_count(1)
    page.get_by_test_id("catalog-row").get_by_role("link").first.click()
    expect(page.get_by_test_id("entity-description")).to_have_text("Issues invoices for paid orders.")


def test_the_upload_page_is_refused_to_viewers(page, sign_in, estate):
    catalog_estate.person("vera", estate["orders"], role="viewer")
    sign_in("vera", catalog_estate.PASSWORD)
    page.goto("/catalog/")
    expect(page.get_by_test_id("catalog-import")).to_have_count(0)
    assert page.goto("/catalog/import/").status == 403
