"""Changing the catalog over REST: every role on its own and ANOTHER team's entity, If-Match, problems, validate."""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator

import portal.api.schema  # noqa: F401 - registers the schema extensions before the schema is generated
from audit.models import AuditEvent
from catalog.models import Entity
from tests.catalog.api.conftest import ROLES
from tests.catalog.conftest import document

pytestmark = pytest.mark.django_db

LIST = "/api/v1/entities/"
# Who may change an entity owned by team-orders (the read-only token belongs to an orders maintainer).
MAY_WRITE_ORDERS = {"maintainer", "portal_admin"}


def component(name="orders-api", owner="team-orders", **extra):
    return document("Component", name, type="service", lifecycle="production", owner=owner, **extra)


@pytest.fixture
def entity(put, people):
    return put(component(description="Takes orders"))


def refused(response, who):
    if who == "anonymous":
        return response.status_code == 401
    return response.status_code == 403


# --- create -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_create_an_entity_owned_by_team_orders(api_as, people, who):
    response = api_as(who).post(LIST, component(), format="json")

    created = Entity.objects.filter(ref_key="component:default/orders-api").first()
    if who in MAY_WRITE_ORDERS:
        assert response.status_code == 201, response.content
        assert response["ETag"] == f'"{created.etag}"'
        assert response.json()["owner_team"] == "team-orders"
        event = AuditEvent.objects.get(action="entity.create")
        assert event.actor_kind == "token"
    else:
        assert refused(response, who), response.content
        assert created is None
        assert not AuditEvent.objects.filter(action="entity.create").exists()
    if who == "read_token":
        assert response.json()["code"] == "scope_missing"


def test_an_outsider_creates_for_their_own_team_only(api_as, people):
    client = api_as("outsider")
    response = client.post(LIST, component(name="pay-api", owner="team-payments"), format="json")
    assert response.status_code == 201
    assert response.json()["owner_team"] == "team-payments"
    assert client.post(LIST, component(name="sneaky", owner="team-orders"), format="json").status_code == 403
    assert not Entity.objects.filter(name="sneaky").exists()


def test_an_entity_owned_by_no_team_only_admins_create(api_as, people):
    body = component(name="lonely", owner="user:default/max")
    assert api_as("maintainer").post(LIST, body, format="json").status_code == 403
    assert api_as("portal_admin").post(LIST, body, format="json").status_code == 201


def test_an_invalid_document_is_400_with_its_problems(api_as, people):
    body = component(name="invalid component")
    response = api_as("maintainer").post(LIST, body, format="json")
    assert response.status_code == 400
    problem = response.json()["problems"][0]
    assert problem["field"] == "metadata.name"
    assert problem["index"] is None
    assert "invalid component" in response.json()["detail"]
    assert not Entity.objects.exists()


def test_creating_an_existing_entity_is_409(api_as, entity):
    response = api_as("maintainer").post(LIST, component(), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "already exists" in response.json()["detail"]


def test_a_body_that_is_not_a_document_is_400(api_as, people):
    response = api_as("maintainer").post(LIST, [component()], format="json")
    assert response.status_code == 400
    assert "one entity document" in response.json()["detail"]


# --- update -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_put_with_if_match(api_as, entity, who):
    changed = component(description="Takes and tracks orders")
    response = api_as(who).put(f"{LIST}{entity.pk}/", changed, format="json", HTTP_IF_MATCH=f'"{entity.etag}"')

    after = Entity.objects.get(pk=entity.pk)
    if who in MAY_WRITE_ORDERS:
        assert response.status_code == 200, response.content
        assert after.description == "Takes and tracks orders"
        assert response["ETag"] == f'"{after.etag}"' != f'"{entity.etag}"'
        event = AuditEvent.objects.get(action="entity.update")
        assert event.before["metadata"]["description"] == "Takes orders"
        assert event.after["metadata"]["description"] == "Takes and tracks orders"
    else:
        assert refused(response, who)
        assert after.etag == entity.etag


def test_a_stale_if_match_is_412_and_nothing_changes(api_as, entity):
    client = api_as("maintainer")
    url = f"{LIST}{entity.pk}/"
    first = client.put(url, component(description="First"), format="json", HTTP_IF_MATCH=f'"{entity.etag}"')
    assert first.status_code == 200
    second = client.put(url, component(description="Second"), format="json", HTTP_IF_MATCH=f'"{entity.etag}"')
    assert second.status_code == 412
    body = second.json()
    assert body["code"] == "precondition_failed"
    assert "has changed since you read it" in body["detail"]
    assert Entity.objects.get(pk=entity.pk).description == "First"


def test_if_match_is_required_and_star_overwrites(api_as, entity):
    client = api_as("maintainer")
    url = f"{LIST}{entity.pk}/"
    missing = client.put(url, component(description="No header"), format="json")
    assert missing.status_code == 428
    assert "If-Match" in missing.json()["detail"]
    assert client.delete(url).status_code == 428
    assert client.put(url, component(description="Any"), format="json", HTTP_IF_MATCH="*").status_code == 200
    assert Entity.objects.get(pk=entity.pk).description == "Any"


def test_a_weak_or_listed_etag_matches(api_as, entity):
    header = f'"nope", W/"{entity.etag}"'
    response = api_as("maintainer").put(
        f"{LIST}{entity.pk}/", component(title="T"), format="json", HTTP_IF_MATCH=header
    )
    assert response.status_code == 200


def test_a_maintainer_cannot_give_the_entity_to_another_team(api_as, entity):
    response = api_as("maintainer").put(
        f"{LIST}{entity.pk}/", component(owner="team-payments"), format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 403
    assert Entity.objects.get(pk=entity.pk).owner_key == "group:default/team-orders"
    assert not AuditEvent.objects.filter(action="entity.update").exists(), "the refused change is rolled back"


def test_the_identity_cannot_change(api_as, entity):
    response = api_as("maintainer").put(
        f"{LIST}{entity.pk}/", component(name="renamed"), format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 400
    assert response.json()["problems"][0]["rule"] == "identity.changed"


def test_patch_merges_into_the_document(api_as, entity):
    patch = {"metadata": {"description": None, "tags": ["python"]}, "spec": {"lifecycle": "deprecated"}}
    response = api_as("maintainer").patch(f"{LIST}{entity.pk}/", patch, format="json", HTTP_IF_MATCH=f'"{entity.etag}"')
    assert response.status_code == 200, response.content
    after = Entity.objects.get(pk=entity.pk)
    assert after.lifecycle == "deprecated"
    assert after.description == ""
    assert after.tags == ["python"]
    assert after.spec["owner"] == "team-orders"


def test_patch_takes_the_merge_patch_media_type(api_as, entity):
    # RFC 7396 names application/merge-patch+json; clients that follow it send that, not application/json.
    response = api_as("maintainer").patch(
        f"{LIST}{entity.pk}/",
        json.dumps({"metadata": {"description": None}, "spec": {"lifecycle": "deprecated"}}),
        content_type="application/merge-patch+json",
        HTTP_IF_MATCH=f'"{entity.etag}"',
    )
    assert response.status_code == 200, response.content
    after = Entity.objects.get(pk=entity.pk)
    assert (after.lifecycle, after.description) == ("deprecated", "")


def test_only_patch_takes_the_merge_patch_media_type(api_as, people):
    response = api_as("maintainer").post(LIST, json.dumps(component()), content_type="application/merge-patch+json")
    assert response.status_code == 415


def test_the_schema_documents_the_merge_patch_media_type():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    patch = schema["paths"]["/api/v1/entities/{id}/"]["patch"]["requestBody"]["content"]
    assert list(patch) == ["application/merge-patch+json", "application/json"]
    assert "application/merge-patch+json" not in schema["paths"]["/api/v1/entities/"]["post"]["requestBody"]["content"]


# --- delete -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_delete_with_if_match(api_as, entity, who):
    response = api_as(who).delete(f"{LIST}{entity.pk}/", HTTP_IF_MATCH=f'"{entity.etag}"')
    exists = Entity.objects.filter(pk=entity.pk).exists()
    if who in MAY_WRITE_ORDERS:
        assert response.status_code == 204
        assert not exists
        assert AuditEvent.objects.filter(action="entity.delete").count() == 1
    else:
        assert refused(response, who)
        assert exists


def test_a_stale_delete_is_412(api_as, entity):
    response = api_as("portal_admin").delete(f"{LIST}{entity.pk}/", HTTP_IF_MATCH='"stale"')
    assert response.status_code == 412
    assert Entity.objects.filter(pk=entity.pk).exists()


# --- validate -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_validate_writes_nothing_and_needs_only_read(api_as, people, who):
    documents = [component(), component(name="invalid component"), {"kind": "Component"}]
    response = api_as(who).post(f"{LIST}validate/", documents, format="json")
    if who == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert {(p["index"], p["field"]) for p in body["problems"]} >= {(1, "metadata.name"), (2, "apiVersion")}
    assert all(p["source"] == "api" for p in body["problems"])
    assert not Entity.objects.exists()


def test_validate_one_valid_document(api_as, people):
    response = api_as("viewer").post(f"{LIST}validate/", component(), format="json")
    assert response.json() == {"valid": True, "problems": []}


@pytest.mark.parametrize("who", ROLES)
def test_patch_for_each_role(api_as, entity, who):
    patch = {"metadata": {"title": "Orders"}}
    response = api_as(who).patch(f"{LIST}{entity.pk}/", patch, format="json", HTTP_IF_MATCH=f'"{entity.etag}"')
    after = Entity.objects.get(pk=entity.pk)
    if who in MAY_WRITE_ORDERS:
        assert response.status_code == 200
        assert after.title == "Orders"
    else:
        assert refused(response, who)
        assert after.title == ""


def test_a_create_or_patch_over_the_entity_size_limit_is_refused(api_as, people, settings):
    settings.CATALOG_MAX_ENTITY_BYTES = 5_000
    client = api_as("maintainer")
    response = client.post(LIST, component(description="x" * 6_000), format="json")
    assert response.status_code == 400, response.content
    assert response.json()["problems"][0]["rule"] == "document.too-large"
    created = client.post(LIST, component(), format="json")
    assert created.status_code == 201
    patch = client.patch(
        f"{LIST}{created.json()['id']}/",
        {"metadata": {"description": "x" * 6_000}},
        format="json",
        HTTP_IF_MATCH="*",
    )
    assert patch.status_code == 400, patch.content
    assert "component:default/orders-api is" in patch.json()["problems"][0]["message"]
