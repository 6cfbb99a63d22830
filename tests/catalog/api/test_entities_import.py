"""Importing Backstage YAML over REST: a body or a file, per role, with the owner check on everything it touches."""

import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from catalog.models import Entity
from tests.catalog.api.conftest import ROLES

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/entities/import/"
MAY_WRITE_ORDERS = {"maintainer", "portal_admin"}

ORDERS_YAML = b"""\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: orders-api
  description: Takes orders
spec:
  type: service
  lifecycle: production
  owner: team-orders
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: orders-table
spec:
  type: dynamodb-table
  owner: team-orders
"""


def post_yaml(client, content, query="?name=orders.yaml"):
    return client.generic("POST", f"{IMPORT}{query}", content, content_type="application/yaml")


@pytest.mark.parametrize("who", ROLES)
def test_import_a_yaml_body(api_as, people, who):
    response = post_yaml(api_as(who), ORDERS_YAML)
    names = set(Entity.objects.values_list("name", flat=True))
    if who in MAY_WRITE_ORDERS:
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["ok"] is True
        assert body["totals"]["created"] == 2
        assert body["locations"][0]["target"] == "orders.yaml"
        assert names == {"orders-api", "orders-table"}
        assert AuditEvent.objects.filter(action="entity.create").count() == 2
    else:
        assert response.status_code == (401 if who == "anonymous" else 403)
        assert names == set()


def test_import_a_file_upload(api_as, people):
    upload = SimpleUploadedFile("orders.yaml", ORDERS_YAML, content_type="application/yaml")
    response = api_as("maintainer").post(IMPORT, {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["totals"]["created"] == 2
    assert Entity.objects.get(name="orders-api").location.target == "orders.yaml"


def test_another_teams_maintainer_imports_nothing_of_ours(api_as, people):
    response = post_yaml(api_as("outsider"), ORDERS_YAML)
    assert response.status_code == 403
    assert "component:default/orders-api" in response.json()["detail"]
    assert not Entity.objects.exists(), "what the import wrote before the check is rolled back"
    assert not AuditEvent.objects.filter(action="entity.create").exists()


def test_reimporting_orphans_the_missing_and_needs_the_right_to_them(api_as, people):
    assert post_yaml(api_as("maintainer"), ORDERS_YAML).status_code == 200
    only_api = ORDERS_YAML.split(b"---")[0]
    # The outsider may not orphan team-orders' table through the same upload name.
    assert post_yaml(api_as("outsider"), only_api).status_code == 403
    assert not Entity.objects.get(name="orders-table").orphaned
    response = post_yaml(api_as("maintainer"), only_api, "?name=orders.yaml&force=true")
    assert response.status_code == 200
    assert response.json()["totals"]["orphaned"] == 1
    assert Entity.objects.get(name="orders-table").orphaned


def test_a_malformed_upload_is_400_and_writes_nothing(api_as, people):
    response = post_yaml(api_as("maintainer"), b"kind: [unclosed\n")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"].startswith("Nothing imported:")
    assert body["problems"][0]["rule"] == "yaml.syntax"
    assert not Entity.objects.exists()


def test_an_upload_over_the_limit_is_400(api_as, people, settings):
    settings.CATALOG_IMPORT_MAX_BYTES = 100
    response = post_yaml(api_as("maintainer"), ORDERS_YAML)
    assert response.status_code == 400
    assert response.json()["problems"][0]["rule"] == "source.too-large"
    assert not Entity.objects.exists()


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("", "name"),
        ("?name=../etc/passwd", "name"),
        ("?name=x.yaml&force=maybe", "force"),
        ("?name=x.yaml&atomic=1", "atomic"),
    ],
)
def test_import_parameters_are_checked(api_as, people, query, parameter):
    response = post_yaml(api_as("maintainer"), ORDERS_YAML, query)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [parameter]


def test_a_read_only_token_may_not_import(api_as, people):
    response = post_yaml(api_as("read_token"), ORDERS_YAML)
    assert response.status_code == 403
    assert response.json()["code"] == "scope_missing"


def test_who_may_import_nothing_is_refused_before_the_body_is_read(api_as, people):
    """The viewer maintains no team: refused without parsing, so an alias bomb costs them nothing."""
    bomb = "a: &big " + "y" * 100_000 + "\nl:\n" + "  - *big\n" * 5_000
    tracemalloc.start()
    try:
        response = post_yaml(api_as("viewer"), bomb.encode())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 403
    assert "Only maintainers of a team and portal admins may import" in response.json()["detail"]
    assert peak < 5 * 1024 * 1024


def test_a_document_too_large_once_stored_is_refused_naming_the_entity(api_as, people, settings):
    settings.CATALOG_MAX_ENTITY_BYTES = 20_000
    # 2 kB of YAML that aliases its way to 50 kB: under the import limit, over one entity's.
    text = ORDERS_YAML.decode().replace("  description: Takes orders\n", "  description: &d " + "x" * 1_000 + "\n")
    text = text.replace("  lifecycle: production\n", "  lifecycle: production\n  notes:\n" + "    - *d\n" * 50)
    response = post_yaml(api_as("maintainer"), text.encode())
    body = response.json()
    assert body["ok"] is False
    [problem] = body["locations"][0]["problems"]
    assert problem["rule"] == "document.too-large"
    assert "component:default/orders-api is" in problem["message"]
    assert "over the limit of 20,000 bytes" in problem["message"]
    assert set(Entity.objects.values_list("name", flat=True)) == {"orders-table"}


BROKEN_TABLE = ORDERS_YAML.replace(b"type: dynamodb-table", b"type: [dynamodb-table]")


def test_one_refused_document_is_reported_per_entity_and_the_rest_applied(api_as, people):
    response = post_yaml(api_as("maintainer"), BROKEN_TABLE)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["ok"], body["status"], body["outcome"]) == (False, 1, "partial")
    [location] = body["locations"]
    assert location["created"] == ["component:default/orders-api"]
    [refused] = location["refused_entities"]
    assert (refused["index"], refused["ref"]) == (1, "resource:default/orders-table")
    assert [problem["field"] for problem in refused["problems"]] == ["spec.type"]
    assert body["totals"]["entities_refused"] == 1
    assert set(Entity.objects.values_list("name", flat=True)) == {"orders-api"}


def test_atomic_true_writes_nothing_when_one_document_is_refused(api_as, people):
    response = post_yaml(api_as("maintainer"), BROKEN_TABLE, "?name=orders.yaml&atomic=true")
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["outcome"]) == (2, "nothing applied")
    assert body["rolled_back"].startswith("atomic import: 1 refusal(s)")
    assert not Entity.objects.exists()
    assert not AuditEvent.objects.filter(action="entity.create").exists()

    assert post_yaml(api_as("maintainer"), ORDERS_YAML, "?name=orders.yaml&atomic=true").status_code == 200
    assert Entity.objects.count() == 2
