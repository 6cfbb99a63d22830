"""The API root, /me, the OpenAPI schema (generated without a warning) and Swagger UI served from /static/."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from portal.models import Membership, Role, Team
from tests.factories import bearer, make_token

pytestmark = pytest.mark.django_db


def test_root_lists_the_endpoints(alice_client):
    endpoints = alice_client.get("/api/v1/").json()["endpoints"]
    assert endpoints["me"] == "http://testserver/api/v1/me/"
    assert endpoints["tokens"] == "http://testserver/api/v1/tokens/"
    assert endpoints["schema"] == "http://testserver/api/v1/schema/"
    assert endpoints["docs"] == "http://testserver/api/v1/docs/"


def test_me_with_teams_roles_and_token(client, alice, django_assert_num_queries):
    orders = Team.objects.create(slug="team-orders", name="Orders")
    billing = Team.objects.create(slug="team-billing", name="Billing")
    Membership.objects.create(user=alice, team=orders, role=Role.MAINTAINER)
    Membership.objects.create(user=alice, team=billing, role=Role.VIEWER)
    token, secret = make_token(alice, name="ci", scopes=["read", "deploy"])
    client.get("/api/v1/me", **bearer(secret))  # records last_used_at, so the next call does not

    # the token with its user, the memberships with their teams
    with django_assert_num_queries(2):
        body = client.get("/api/v1/me/", **bearer(secret)).json()
    assert body["username"] == "alice"
    assert body["is_portal_admin"] is False
    assert body["teams"] == [
        {"id": billing.pk, "slug": "team-billing", "name": "Billing", "role": "viewer"},
        {"id": orders.pk, "slug": "team-orders", "name": "Orders", "role": "maintainer"},
    ]
    assert body["token"] == {
        "id": token.pk,
        "name": "ci",
        "prefix": token.display_prefix,
        "scopes": ["read", "deploy"],
        "expires_at": token.expires_at.isoformat().replace("+00:00", "Z"),
    }


def test_openapi_schema_generates_without_warnings(tmp_path):
    # As NetBox's test_openapi_schema: any drf-spectacular warning or error fails (SchemaGenerationError).
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    schema = out.read_text()
    assert "/api/v1/tokens/{id}/revoke/:" in schema
    assert re.search(r"apiToken:\n\s+type: http\n\s+scheme: bearer", schema)


def test_schema_endpoint_serves_json_to_a_token(client, alice):
    _, secret = make_token(alice)
    response = client.get("/api/v1/schema/?format=json", **bearer(secret))
    assert response.status_code == 200
    assert "/api/v1/me/" in response.json()["paths"]


def test_swagger_ui_loads_its_assets_from_static(alice_client):
    response = alice_client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in url for url in assets)
    for url in assets:
        assert url.startswith("/static/") or url.startswith("/api/v1/"), f"{url} is not served by the portal"
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/").split("?")[0]), f"{url} is missing"
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


def test_swagger_ui_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
