"""API paths answer with and without their trailing slash: a write without it is served, not a 500 (DEBUG)
or a redirect that drops the body (APPEND_SLASH)."""

import re

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

import portal.api.schema  # noqa: F401 - registers the schema extensions before the schema is generated
from portal.models import ApiToken, Membership
from tests.catalog.conftest import document
from tests.factories import TeamFactory, UserFactory, bearer, make_token

pytestmark = pytest.mark.django_db

WRITES = ("post", "put", "patch", "delete")


def test_every_write_in_the_schema_resolves_without_its_slash():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    checked = 0
    for path, item in schema["paths"].items():
        if not path.endswith("/") or not set(item) & set(WRITES):
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        assert resolve(concrete.rstrip("/")).func.cls is resolve(concrete).func.cls, path
        checked += 1
    assert checked >= 8


def test_the_no_slash_paths_stay_out_of_the_schema():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert "/api/v1/entities/" in paths
    assert "/api/v1/entities" not in paths


@pytest.fixture
def admin_client(client):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    _, secret = make_token(root, scopes=["read", "write"])
    client.defaults.update(bearer(secret))
    client.user = root
    return client


def _component(name, **spec):
    return document(
        "Component", name, type="service", lifecycle="production", owner="group:default/team-orders", **spec
    )


@pytest.fixture
def orders_team(db):
    return TeamFactory(slug="team-orders", name="Orders")


def test_entity_writes_without_a_slash(admin_client, orders_team):
    created = admin_client.post("/api/v1/entities", _component("orders-api"), content_type="application/json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/entities/{created.json()['id']}"
    assert admin_client.post("/api/v1/entities/validate", _component("x"), content_type="application/json").json()[
        "valid"
    ]
    put = admin_client.put(url, _component("orders-api", description="Put"), "application/json", HTTP_IF_MATCH="*")
    assert put.status_code == 200
    patch = admin_client.patch(url, {"metadata": {"title": "T"}}, "application/json", HTTP_IF_MATCH="*")
    assert patch.status_code == 200
    assert patch.json()["title"] == "T"
    assert admin_client.delete(url, HTTP_IF_MATCH="*").status_code == 204


def test_import_without_a_slash_as_the_readme_shows_it(admin_client, orders_team):
    yaml = b"apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: {name: shop}\nspec: {owner: team-orders}\n"
    response = admin_client.post("/api/v1/entities/import?name=shop.yaml", yaml, content_type="application/yaml")
    assert response.status_code == 200, response.content
    assert response.json()["totals"]["created"] == 1


def test_token_writes_without_a_slash(admin_client):
    created = admin_client.post(
        "/api/v1/tokens", {"name": "ci", "scopes": ["read"], "expires_in_days": 7}, content_type="application/json"
    )
    assert created.status_code == 201
    token_id = created.json()["id"]
    assert admin_client.post(f"/api/v1/tokens/{token_id}/revoke").status_code == 200
    assert admin_client.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    assert ApiToken.objects.get(pk=token_id).revoked_at is not None


def test_member_writes_without_a_slash(admin_client, orders_team):
    UserFactory(username="max")
    members = "/api/v1/teams/team-orders/members"
    added = admin_client.post(members, {"username": "max"}, content_type="application/json")
    assert added.status_code == 201
    changed = admin_client.patch(f"{members}/max", {"role": "maintainer"}, content_type="application/json")
    assert changed.status_code == 200
    assert admin_client.delete(f"{members}/max").status_code == 204
    assert not Membership.objects.filter(user__username="max").exists()
