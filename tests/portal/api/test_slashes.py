"""API paths answer with and without their trailing slash, for every method (the README once showed
`POST /api/v1/entities/import`, which answered a 500 with an HTML traceback)."""

import pytest
from django.test import override_settings

from catalog.models import Entity
from tests.catalog.api.conftest import api_as, people  # noqa: F401 - fixtures
from tests.catalog.conftest import document

pytestmark = pytest.mark.django_db

COMPONENT = document("Component", "orders-api", type="service", lifecycle="production", owner="team-orders")
YAML = b"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: orders-worker
spec:
  type: service
  lifecycle: production
  owner: team-orders
"""


@pytest.mark.parametrize("debug", [False, True])
def test_every_write_answers_without_the_trailing_slash(api_as, people, debug):  # noqa: F811
    client = api_as("maintainer")
    with override_settings(DEBUG=debug):
        created = client.post("/api/v1/entities", COMPONENT, format="json")
        assert created.status_code == 201, created.content
        pk = created.json()["id"]
        valid = client.post("/api/v1/entities/validate", COMPONENT, format="json")
        assert valid.status_code == 200, valid.content
        imported = client.generic("POST", "/api/v1/entities/import?name=w.yaml", YAML, content_type="application/yaml")
        assert imported.status_code == 200, imported.content
        patched = client.patch(
            f"/api/v1/entities/{pk}", {"metadata": {"description": "d"}}, format="json", HTTP_IF_MATCH="*"
        )
        assert patched.status_code == 200, patched.content
        put = client.put(f"/api/v1/entities/{pk}", COMPONENT, format="json", HTTP_IF_MATCH="*")
        assert put.status_code == 200, put.content
        deleted = client.delete(f"/api/v1/entities/{pk}", HTTP_IF_MATCH="*")
        assert deleted.status_code == 204, deleted.content
    assert set(Entity.objects.values_list("name", flat=True)) == {"orders-worker"}


def test_reads_answer_both_ways_and_unknown_paths_stay_json_404(api_as, people):  # noqa: F811
    client = api_as("viewer")
    assert client.get("/api/v1/entities").status_code == 200
    assert client.get("/api/v1/entities/").status_code == 200
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/json")
