"""The OpenAPI schema says what the API does: nullable fields, the errors each operation answers, the
parameters each one takes, and lists that answer a bad cursor or limit the same way everywhere."""

import pytest
from drf_spectacular.generators import SchemaGenerator

import portal.api.schema  # noqa: F401 - registers the schema extensions before the schema is generated
from tests.factories import bearer, make_token

pytestmark = pytest.mark.django_db

PLAIN_LISTS = ["/api/v1/teams/", "/api/v1/tokens/", "/api/v1/aws-accounts/"]
ALL_LISTS = [*PLAIN_LISTS, "/api/v1/entities/"]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_owner_team_is_nullable(schema):
    for component in ("Entity", "EntityDetail"):
        assert schema["components"]["schemas"][component]["properties"]["owner_team"]["nullable"] is True


def test_every_operation_documents_its_errors(schema):
    for path, method, operation in _operations(schema):
        expected = {"400", "401", "403", "429"}
        if "{" in path:
            expected.add("404")
        if method in ("post", "put", "patch"):
            expected.add("415")
        if path in ("/api/v1/", "/api/v1/me/"):
            expected.discard("400")  # they take no parameter they could refuse
        missing = expected - set(operation["responses"])
        assert not missing, f"{method.upper()} {path} does not document {sorted(missing)}"
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code", "request_id"}


def test_relations_lists_only_the_parameters_it_takes(schema):
    operation = schema["paths"]["/api/v1/entities/{id}/relations/"]["get"]
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == {"cursor", "limit"}


def test_validate_requires_a_body_of_one_document_or_a_list(schema):
    body = schema["paths"]["/api/v1/entities/validate/"]["post"]["requestBody"]
    assert body["required"] is True
    shapes = body["content"]["application/json"]["schema"]["oneOf"]
    assert shapes[0] == {"type": "object", "minProperties": 1}
    assert shapes[1]["type"] == "array" and shapes[1]["minItems"] == 1


@pytest.fixture
def token_client(client, root):
    _, secret = make_token(root, scopes=["read", "write"])
    client.defaults.update(bearer(secret))
    return client


@pytest.mark.parametrize("url", ALL_LISTS)
def test_a_bad_cursor_is_a_400_naming_cursor_on_every_list(token_client, url):
    response = token_client.get(url, {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]


@pytest.mark.parametrize("url", ALL_LISTS)
@pytest.mark.parametrize("limit", ["null", "0", "1001", "-1", ""])
def test_a_limit_outside_1_to_1000_is_a_400_on_every_list(token_client, url, limit):
    response = token_client.get(url, {"limit": limit})
    assert response.status_code == 400
    assert "limit" in response.json()["errors"]


def test_a_limit_in_range_pages(token_client, root):
    make_token(root, name="second")
    body = token_client.get("/api/v1/tokens/", {"limit": "1"}).json()
    assert len(body["results"]) == 1 and body["next"]


@pytest.mark.parametrize("body", [None, {}, [], [[None]], ["component"]])
def test_validate_without_a_document_is_a_400(token_client, body):
    response = token_client.post("/api/v1/entities/validate/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
