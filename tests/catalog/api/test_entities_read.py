"""Reading the catalog over REST: every role, filters, fields, cursors, refs, relations, facets, query counts."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from catalog.models import Entity
from tests.catalog.api.conftest import ROLES
from tests.catalog.conftest import document
from tests.catalog.facet_queries import facet_queries
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/entities/"
SIGNED_IN = [role for role in ROLES if role != "anonymous"]


@pytest.fixture
def estate(put, orders, payments):
    put(document("Group", "team-orders"))
    put(document("Group", "team-payments"))
    put(document("System", "shop", owner="team-orders"))
    put(document("API", "orders", type="openapi", lifecycle="production", owner="team-orders", system="shop"))
    put(
        document(
            "Component",
            "orders-api",
            title="Orders API",
            description="Takes and tracks customer orders",
            tags=["python", "rest"],
            annotations={"backstage.io/techdocs-ref": "dir:."},
            type="service",
            lifecycle="production",
            owner="team-orders",
            system="shop",
            providesApis=["orders"],
            dependsOn=["resource:orders-table", "resource:missing-queue"],
        )
    )
    put(document("Resource", "orders-table", type="dynamodb-table", owner="team-orders", system="shop"))
    put(
        document(
            "Component",
            "payments-worker",
            tags=["python"],
            type="worker",
            lifecycle="experimental",
            owner="team-payments",
            consumesApis=["orders"],
        )
    )
    return {entity.name: entity for entity in Entity.objects.all()}


def refs(body):
    return [row["ref"] for row in body["results"]]


# --- who may read -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_list_for_each_role(api_as, estate, who):
    response = api_as(who).get(LIST, {"kind": "component"})
    if who == "anonymous":
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
        return
    assert response.status_code == 200
    body = response.json()
    assert refs(body) == ["component:default/orders-api", "component:default/payments-worker"]
    first = body["results"][0]
    assert first["owner"] == "group:default/team-orders"
    assert first["owner_team"] == "team-orders"
    assert first["system"] == "system:default/shop"
    assert first["tags"] == ["python", "rest"]
    assert first["type"] == "service"
    assert first["location"] == "api:api"
    assert first["document"]["metadata"]["title"] == "Orders API"
    assert first["url"] == f"http://testserver/api/v1/entities/{estate['orders-api'].pk}/"


@pytest.mark.parametrize("who", ROLES)
def test_retrieve_for_each_role_with_etag_and_relations(api_as, estate, who):
    entity = estate["orders-api"]
    response = api_as(who).get(f"{LIST}{entity.pk}/")
    if who == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    assert response["ETag"] == f'"{entity.etag}"'
    body = response.json()
    assert body["etag"] == entity.etag
    assert body["relations_truncated"] is False
    assert {(r["type"], r["direction"], r["target_ref"], r["resolved"]) for r in body["relations"]} == {
        ("dependsOn", "outgoing", "resource:default/missing-queue", False),
        ("dependsOn", "outgoing", "resource:default/orders-table", True),
        ("ownedBy", "outgoing", "group:default/team-orders", True),
        ("partOf", "outgoing", "system:default/shop", True),
        ("providesApi", "outgoing", "api:default/orders", True),
    }


def test_an_unchanged_entity_answers_304_to_if_none_match(api_as, estate):
    entity = estate["orders"]
    client = api_as("viewer")
    response = client.get(f"{LIST}{entity.pk}/", HTTP_IF_NONE_MATCH=f'"{entity.etag}"')
    assert response.status_code == 304
    assert response["ETag"] == f'"{entity.etag}"'
    assert client.get(f"{LIST}{entity.pk}/", HTTP_IF_NONE_MATCH='"old"').status_code == 200


def test_unknown_id_is_404(api_as, estate):
    assert api_as("viewer").get(f"{LIST}999999/").status_code == 404


# --- by reference -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "by-ref/component:default/orders-api",
        "by-ref/component:default/orders-api/",
        "by-ref/Component:Default/Orders-API",
        "by-ref/component:orders-api",
        "by-ref/component/default/orders-api",
        "by-ref/?ref=component:default/orders-api",
        "by-ref/?ref=component%3Adefault%2Forders-api",
    ],
)
def test_by_ref(api_as, estate, path):
    response = api_as("read_token").get(f"{LIST}{path}")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == estate["orders-api"].pk
    assert response["ETag"] == f'"{estate["orders-api"].etag}"'


def test_by_ref_unknown_is_404_and_malformed_is_400(api_as, estate):
    client = api_as("viewer")
    assert client.get(f"{LIST}by-ref/component:default/nope").status_code == 404
    response = client.get(f"{LIST}by-ref/orders-api")
    assert response.status_code == 400
    assert "has no kind" in response.json()["errors"]["ref"][0]
    assert client.get(f"{LIST}by-ref/").status_code == 400
    assert api_as("anonymous").get(f"{LIST}by-ref/component:default/orders-api").status_code == 401


# An answer by reference is built once per version of the catalog and then served from the cache.
BY_REF = f"{LIST}by-ref/component:default/orders-api"


def test_by_ref_served_again_costs_no_query_and_follows_every_change(
    api_as, estate, django_assert_num_queries, django_capture_on_commit_callbacks
):
    client = APIClient()
    client.force_authenticate(UserFactory(username="reader"))
    # 1: the entity with team and location; 2: its relations both ways with both ends (briefly) joined.
    with django_assert_num_queries(2):
        first = client.get(BY_REF).json()
    with django_assert_num_queries(0):
        assert client.get(BY_REF).json() == first
    # A change commits a new version of the catalog (catalog.version): the next answer is built again.
    writer = api_as("maintainer")
    with django_capture_on_commit_callbacks(execute=True):
        changed = writer.patch(
            f"{LIST}{first['id']}/", {"metadata": {"title": "Orders"}}, format="json", HTTP_IF_MATCH="*"
        )
    assert changed.status_code == 200, changed.content
    again = client.get(BY_REF)
    assert again.json()["title"] == "Orders"
    assert again["ETag"] == changed["ETag"] != f'"{first["etag"]}"'
    # So does a change to another entity that this one's relations show.
    assert ("dependsOn", "resource:default/missing-queue", False) in {
        (r["type"], r["target_ref"], r["resolved"]) for r in again.json()["relations"]
    }
    with django_capture_on_commit_callbacks(execute=True):
        created = writer.post(
            LIST, document("Resource", "missing-queue", type="sqs-queue", owner="team-orders"), format="json"
        )
    assert created.status_code == 201, created.content
    relations = {(r["type"], r["target_ref"]): r for r in client.get(BY_REF).json()["relations"]}
    assert relations[("dependsOn", "resource:default/missing-queue")]["target"]["id"] == created.json()["id"]


def test_by_ref_from_the_cache_still_checks_the_caller_and_answers_what_was_asked(api_as, estate):
    reader = api_as("read_token")
    assert reader.get(BY_REF).status_code == 200  # built and cached
    assert api_as("anonymous").get(BY_REF).status_code == 401
    sparse = reader.get(BY_REF, {"fields": "ref,etag"})
    assert sparse.json() == {"ref": "component:default/orders-api", "etag": estate["orders-api"].etag}
    unchanged = reader.get(BY_REF, HTTP_IF_NONE_MATCH=sparse["ETag"])
    assert unchanged.status_code == 304
    # The links in an answer name the host it was asked on.
    other = reader.get(BY_REF, HTTP_HOST="localhost")
    assert other.json()["url"] == f"http://localhost/api/v1/entities/{estate['orders-api'].pk}/"


# --- filters, fields, sorting, cursors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("owner=team-payments", ["component:default/payments-worker"]),
        ("owner=group:default/team-payments", ["component:default/payments-worker"]),
        ("kind=api&kind=resource", ["api:default/orders", "resource:default/orders-table"]),
        ("tag=python&tag=rest", ["component:default/orders-api"]),
        ("annotation=backstage.io/techdocs-ref=dir:.", ["component:default/orders-api"]),
        ("system=shop&type=openapi", ["api:default/orders"]),
        ("lifecycle=experimental", ["component:default/payments-worker"]),
        ("q=track custom", ["component:default/orders-api"]),
        ("q=orders&kind=resource", ["resource:default/orders-table"]),
        ("namespace=default&kind=group&sort=-name", ["group:default/team-payments", "group:default/team-orders"]),
        ("orphaned=true", []),
    ],
)
def test_list_filters(api_as, estate, query, expected):
    response = api_as("viewer").get(f"{LIST}?{query}")
    assert response.status_code == 200, response.content
    assert refs(response.json()) == expected


@pytest.mark.parametrize(
    ("query", "parameter", "words"),
    [
        ("kind=not%20a%20kind", "kind", "is not a kind"),
        ("sort=size", "sort", "size is not one of the available choices"),
        ("orphaned=yes", "orphaned", "yes is not one of the available choices"),
        ("owner=group:", "owner", "has no name"),
        ("knd=component", "knd", "Unknown parameter"),
        ("fields=ref,colour", "fields", "Unknown field(s) colour"),
        ("limit=0", "limit", "from 1 to 1000"),
        ("limit=1001", "limit", "from 1 to 1000"),
        ("limit=ten", "limit", "from 1 to 1000"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor", "Invalid cursor"),
        ("cursor=%25%25%25", "cursor", "Invalid cursor"),
    ],
)
def test_invalid_parameters_are_400_naming_the_parameter(api_as, estate, query, parameter, words):
    response = api_as("viewer").get(f"{LIST}?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [parameter]
    assert words in body["errors"][parameter][0]
    assert parameter in body["detail"]


def test_fields_selects_top_level_fields(api_as, estate):
    client = api_as("viewer")
    listed = client.get(f"{LIST}?kind=api&fields=ref,owner,tags").json()["results"]
    assert listed == [{"ref": "api:default/orders", "owner": "group:default/team-orders", "tags": []}]
    one = client.get(f"{LIST}{estate['orders'].pk}/?fields=ref,relations").json()
    assert set(one) == {"ref", "relations"}
    assert one["relations"][0]["type"] == "apiConsumedBy"


def test_cursor_pages_forwards_and_back_through_ties(api_as, put, orders):
    # The same name in three kinds: a position on the name alone could not tell them apart.
    for kind in ("Component", "Resource", "System"):
        spec = {"type": "service", "lifecycle": "production"} if kind == "Component" else {"type": "queue"}
        put(document(kind, "shared", owner="team-orders", **(spec if kind != "System" else {})))
    for n in range(4):
        put(document("Resource", f"res-{n}", type="queue", owner="team-orders"))
    client = api_as("viewer")
    expected = [e.ref for e in sorted(Entity.objects.all(), key=lambda e: (e.name.lower(), e.pk))]

    seen, url, pages = [], f"{LIST}?limit=2&fields=ref", []
    while url:
        body = client.get(url).json()
        seen += refs(body)
        pages.append(body)
        url = body["next"]
    assert seen == expected
    assert pages[0]["previous"] is None
    back = client.get(pages[-1]["previous"]).json()
    assert refs(back) == refs(pages[-2])
    assert refs(client.get(back["previous"]).json()) == refs(pages[-3])


def test_a_cursor_from_another_sort_order_is_refused(api_as, estate):
    client = api_as("viewer")
    next_link = client.get(f"{LIST}?limit=2&sort=kind").json()["next"]
    response = client.get(next_link.replace("sort=kind", "sort=-updated"))
    assert response.status_code == 400
    assert "another sort order" in response.json()["errors"]["cursor"][0]


def test_sorted_by_update_time_pages_through_everything(api_as, estate):
    client = api_as("viewer")
    seen, url = [], f"{LIST}?limit=3&sort=-updated&fields=ref"
    while url:
        body = client.get(url).json()
        seen += refs(body)
        url = body["next"]
    expected = [e.ref for e in Entity.objects.order_by("-updated_at", "-id")]
    assert seen == expected


def test_a_search_is_sorted_by_relevance_and_pages_through_every_match(api_as, estate):
    client = api_as("viewer")
    # Every match names "orders": the ranks tie and the order is A to Z, kept across cursor pages. (The ranks
    # themselves: tests/catalog/test_views.py.)
    seen, url = [], f"{LIST}?q=orders&limit=1&fields=ref"
    while url:
        body = client.get(url).json()
        seen += refs(body)
        url = body["next"]
    assert seen == [
        "api:default/orders",
        "component:default/orders-api",
        "resource:default/orders-table",
        "group:default/team-orders",
    ]
    # "customer" is only in orders-api's description.
    assert refs(client.get(f"{LIST}?q=customer&sort=relevance").json()) == ["component:default/orders-api"]
    assert refs(client.get(f"{LIST}?q=orders&sort=-name").json())[0] == "group:default/team-orders"


# --- facets, relations, graph -------------------------------------------------------------------------------


def test_facets_for_the_same_filters(api_as, estate):
    response = api_as("read_token").get(f"{LIST}facets/?kind=component&tag=python")
    assert response.status_code == 200
    facets = response.json()["facets"]
    assert facets["kind"] == [{"value": "component", "count": 2}]  # the kind facet ignores the kind filter only
    assert facets["owner"] == [
        {"value": "group:default/team-orders", "count": 1},
        {"value": "group:default/team-payments", "count": 1},
    ]
    assert facets["tag"] == [{"value": "python", "count": 2}, {"value": "rest", "count": 1}]
    assert facets["lifecycle"] == [{"value": "experimental", "count": 1}, {"value": "production", "count": 1}]
    everything = api_as("viewer").get(f"{LIST}facets/?facet=kind").json()["facets"]
    assert list(everything) == ["kind"]
    assert {"value": "group", "count": 2} in everything["kind"]


def test_facets_with_free_text(api_as, estate):
    facets = api_as("viewer").get(f"{LIST}facets/?q=orders&facet=kind&facet=tag").json()["facets"]
    assert facets["kind"] == [
        {"value": "api", "count": 1},
        {"value": "component", "count": 1},
        {"value": "group", "count": 1},
        {"value": "resource", "count": 1},
    ]
    assert facets["tag"] == [{"value": "python", "count": 1}, {"value": "rest", "count": 1}]


def test_facets_refuse_unknown_facets_and_filters(api_as, estate):
    client = api_as("viewer")
    assert client.get(f"{LIST}facets/?facet=colour").json()["errors"]["facet"][0].startswith("Unknown facet(s) colour")
    assert client.get(f"{LIST}facets/?kind=%20x%20y").status_code == 400
    assert api_as("anonymous").get(f"{LIST}facets/").status_code == 401


def test_relations_endpoint_in_both_directions(api_as, estate):
    client = api_as("viewer")
    team = estate["team-orders"]
    body = client.get(f"{LIST}{team.pk}/relations/").json()
    assert {(r["type"], r["direction"], r["target_ref"]) for r in body["results"]} == {
        ("ownerOf", "incoming", "api:default/orders"),
        ("ownerOf", "incoming", "component:default/orders-api"),
        ("ownerOf", "incoming", "resource:default/orders-table"),
        ("ownerOf", "incoming", "system:default/shop"),
    }
    assert all(r["target"]["id"] for r in body["results"])
    worker = client.get(f"{LIST}{estate['orders-api'].pk}/relations/?limit=2").json()
    assert len(worker["results"]) == 2 and worker["next"]
    missing = [
        r for r in client.get(f"{LIST}{estate['orders-api'].pk}/relations/").json()["results"] if not r["resolved"]
    ]
    assert missing == [
        {
            "type": "dependsOn",
            "direction": "outgoing",
            "target_ref": "resource:default/missing-queue",
            "resolved": False,
            "target": None,
        }
    ]


def test_graph_endpoint(api_as, estate):
    client = api_as("viewer")
    body = client.get(f"{LIST}{estate['payments-worker'].pk}/graph/?depth=2").json()
    nodes = {node["ref"]: node for node in body["nodes"]}
    assert nodes["component:default/payments-worker"]["depth"] == 0
    assert nodes["component:default/orders-api"]["depth"] == 2  # through the API it consumes
    assert {
        "source": "component:default/payments-worker",
        "type": "consumesApi",
        "target": "api:default/orders",
    } in body["edges"]
    assert client.get(f"{LIST}{estate['orders'].pk}/graph/?depth=4").status_code == 400


# --- the answer is built by hand, to DRF's values -------------------------------------------------------------


def _as_drf_serializes(serializer_class, entity, request):
    """What DRF's own field-by-field path gives for this serializer (the path the fast one replaces)."""
    serializer = serializer_class(entity, context={"request": request})
    return serializers.ModelSerializer.to_representation(serializer, entity)


def test_the_answer_has_the_values_drf_would_give(api_as, estate):
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from catalog import selectors
    from catalog.api.serializers import EntityDetailSerializer, EntitySerializer

    request = Request(APIRequestFactory().get(LIST))
    orphan = estate["payments-worker"]
    Entity.objects.filter(pk=orphan.pk).update(orphaned=True, location=None, owner_team=None)
    for entity in selectors.entity_base_queryset().order_by("id"):
        assert EntitySerializer(entity, context={"request": request}).data == _as_drf_serializes(
            EntitySerializer, entity, request
        )
        views = selectors.entity_relations(entity)
        entity.relation_views, entity.relations_truncated = views, False
        detail = EntityDetailSerializer(entity, context={"request": request}).data
        assert detail == _as_drf_serializes(EntityDetailSerializer, entity, request)
    assert any(not view.resolved for view in selectors.entity_relations(estate["orders-api"]))
    # Over HTTP too, with the sparse fields a client asks for.
    body = api_as("viewer").get(f"{LIST}{estate['orders-api'].pk}/", {"fields": "ref,relations,created_at"}).json()
    assert list(body) == ["ref", "created_at", "relations"]
    assert body["created_at"].endswith("Z")


# --- query counts -------------------------------------------------------------------------------------------


def test_list_costs_one_query_whatever_the_page_size(put, orders, django_assert_num_queries):
    client = APIClient()
    client.force_authenticate(UserFactory(username="reader"))

    def listed(limit):
        # 1: the page of entities with their owning team and location joined (authentication is forced).
        with django_assert_num_queries(1):
            return client.get(f"{LIST}?limit={limit}&owner=team-orders&tag=python").json()["results"]

    put(document("Component", "c-0", tags=["python"], type="service", lifecycle="production", owner="team-orders"))
    assert len(listed(1)) == 1
    for n in range(1, 30):
        put(
            document(
                "Component", f"c-{n}", tags=["python"], type="service", lifecycle="production", owner="team-orders"
            )
        )
    assert len(listed(30)) == 30


def test_retrieve_costs_two_queries_whatever_the_relations(put, orders, django_assert_num_queries):
    client = APIClient()
    client.force_authenticate(UserFactory(username="reader"))
    api = put(document("Component", "hub", type="service", lifecycle="production", owner="team-orders"))

    def retrieved():
        # 1: the entity with team and location; 2: its relations both ways with both ends (briefly) joined.
        with django_assert_num_queries(2):
            return client.get(f"{LIST}{api.pk}/").json()["relations"]

    assert len(retrieved()) == 1
    for n in range(25):
        put(
            document(
                "Component",
                f"dep-{n}",
                type="service",
                lifecycle="production",
                owner="team-orders",
                dependsOn=["component:hub"],
            )
        )
    assert len(retrieved()) == 26


def test_facets_cost_one_query_per_facet(put, orders, django_assert_num_queries):
    client = APIClient()
    client.force_authenticate(UserFactory(username="reader"))
    for n in range(10):
        put(
            document(
                "Component",
                f"c-{n}",
                tags=["python", f"t{n}"],
                type="service",
                lifecycle="production",
                owner="team-orders",
            )
        )
    # One GROUP BY each: kind, type, owner, lifecycle, system, tag (fewer on PostgreSQL: facet_queries).
    with django_assert_num_queries(facet_queries("kind")):
        facets = client.get(f"{LIST}facets/?kind=component").json()["facets"]
    assert facets["tag"][0] == {"value": "python", "count": 10}


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize(
    "path",
    [
        "by-ref/api:default/orders",
        "by-ref/?ref=api:default/orders",
        "facets/?kind=api",
        "{id}/relations/",
        "{id}/graph/?depth=1",
    ],
)
def test_every_read_endpoint_for_every_role(api_as, estate, who, path):
    response = api_as(who).get(LIST + path.format(id=estate["orders"].pk))
    assert response.status_code == (401 if who == "anonymous" else 200), response.content
    if who != "anonymous":
        assert "component:default/orders-api" in response.content.decode() or "facets" in response.json()
