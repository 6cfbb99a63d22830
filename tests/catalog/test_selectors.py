"""The read side the page and the API share: the filter language, facets, search, refs, relations, graphs."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.filters import EntityFilterSet, entity_search
from catalog.models import Entity
from catalog.refs import RefError
from catalog.selectors import (
    InvalidFilters,
    dependency_graph,
    entity_by_ref,
    entity_facets,
    entity_list,
    entity_relations,
)
from tests.catalog.conftest import document
from tests.catalog.facet_queries import facet_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate(put, orders, payments):
    """Two teams' worth of entities, with a system, APIs between them and one dangling reference."""
    put(document("Group", "team-orders"))
    put(document("Group", "team-payments"))
    put(document("System", "shop", owner="team-orders"))
    put(
        document(
            "Component",
            "orders-api",
            title="Orders API",
            description="Takes and tracks customer orders",
            tags=["python", "rest"],
            annotations={"backstage.io/techdocs-ref": "dir:.", "aws.amazon.com/amazon-ecs-service-tags": "x"},
            type="service",
            lifecycle="production",
            owner="team-orders",
            system="shop",
            providesApis=["orders"],
            consumesApis=["payments"],
            dependsOn=["resource:orders-table", "resource:missing-queue"],
        )
    )
    put(document("API", "orders", type="openapi", lifecycle="production", owner="team-orders", system="shop"))
    put(
        document(
            "Component",
            "payments-worker",
            description="Charges cards",
            tags=["python"],
            annotations={"backstage.io/techdocs-ref": "url:https://example.com"},
            type="worker",
            lifecycle="experimental",
            owner="group:default/team-payments",
            providesApis=["payments"],
        )
    )
    put(document("API", "payments", type="openapi", lifecycle="production", owner="team-payments"))
    put(document("Resource", "orders-table", type="dynamodb-table", owner="team-orders", system="shop", tags=["aws"]))


def names(queryset):
    return [entity.name for entity in queryset]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "component"}, ["orders-api", "payments-worker"]),
        ({"kind": ["API", "resource"]}, ["orders", "orders-table", "payments"]),
        ({"owner": "team-payments"}, ["payments", "payments-worker"]),
        ({"owner": "group:default/team-payments"}, ["payments", "payments-worker"]),
        ({"owner": "Group:Default/Team-Payments"}, ["payments", "payments-worker"]),
        ({"type": "openapi"}, ["orders", "payments"]),
        ({"lifecycle": "experimental"}, ["payments-worker"]),
        ({"system": "shop"}, ["orders", "orders-api", "orders-table"]),
        ({"system": "system:default/shop", "kind": "api"}, ["orders"]),
        ({"tag": "python"}, ["orders-api", "payments-worker"]),
        ({"tag": ["python", "rest"]}, ["orders-api"]),
        ({"annotation": "backstage.io/techdocs-ref"}, ["orders-api", "payments-worker"]),
        ({"annotation": "backstage.io/techdocs-ref=dir:."}, ["orders-api"]),
        ({"annotation": "backstage.io/techdocs-ref=dir"}, []),
        ({"namespace": "default", "kind": "group"}, ["team-orders", "team-payments"]),
        ({"namespace": "elsewhere"}, []),
        ({"orphaned": "true"}, []),
        ({"q": "orders", "kind": "component"}, ["orders-api"]),
        ({"q": "charg"}, ["payments-worker"]),
        ({"q": "tracks customer"}, ["orders-api"]),
    ],
)
def test_filters(estate, params, expected):
    assert sorted(names(entity_list(params=params))) == expected


def test_orphaned_filter_both_ways(estate):
    Entity.objects.filter(name="orders-table").update(orphaned=True)
    assert names(entity_list(params={"orphaned": "true"})) == ["orders-table"]
    assert "orders-table" not in names(entity_list(params={"orphaned": "false"}))


@pytest.mark.parametrize(
    ("params", "parameter", "words"),
    [
        ({"kind": "not a kind"}, "kind", "is not a kind"),
        ({"owner": "group:"}, "owner", "has no name"),
        ({"namespace": "no_underscores"}, "namespace", "is not a namespace"),
        ({"orphaned": "maybe"}, "orphaned", "maybe"),
        ({"sort": "size"}, "sort", "size"),
        ({"annotation": "=x"}, "annotation", "is not 'key' or 'key=value'"),
        ({"tag": "x" * 64}, "tag", "longer than 63"),
    ],
)
def test_invalid_values_name_their_parameter(estate, params, parameter, words):
    with pytest.raises(InvalidFilters) as raised:
        entity_list(params=params)
    assert list(raised.value.errors) == [parameter]
    assert words in raised.value.errors[parameter][0]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["orders", "orders-api", "orders-table"]),
        ("-name", ["orders-table", "orders-api", "orders"]),
        ("kind", ["orders", "orders-api", "orders-table"]),
        ("-kind", ["orders-table", "orders-api", "orders"]),
    ],
)
def test_sorting(estate, sort, expected):
    assert names(entity_list(params={"system": "shop", "sort": sort})) == expected


def test_sort_by_updated_follows_the_last_change(estate):
    entity = Entity.objects.get(name="orders")
    entity.title = "Orders"
    entity.save(update_fields=["title", "updated_at"])
    assert names(entity_list(params={"sort": "-updated"}))[0] == "orders"
    assert names(entity_list(params={"sort": "updated"}))[-1] == "orders"


def test_the_filterset_renders_as_a_form_for_the_page(estate):
    form = EntityFilterSet(data={"kind": ["component", "api"], "q": "orders"}).form
    assert form.is_valid()
    assert form.cleaned_data["kind"] == ["component", "api"]
    assert 'name="q"' in str(form["q"])


def test_facets_with_every_filter_but_their_own(estate, django_assert_num_queries):
    params = {"kind": "component"}
    queryset = entity_list(params=params)
    # one GROUP BY per facet: kind, type, owner, lifecycle, system, tag (fewer on PostgreSQL: facet_queries)
    with django_assert_num_queries(facet_queries("kind")):
        facets = entity_facets(queryset, params=params)
    assert facets["kind"] == [("api", 2), ("component", 2), ("group", 2), ("resource", 1), ("system", 1)]
    assert facets["type"] == [("service", 1), ("worker", 1)]
    assert facets["owner"] == [("group:default/team-orders", 1), ("group:default/team-payments", 1)]
    assert facets["lifecycle"] == [("experimental", 1), ("production", 1)]
    assert facets["system"] == [("system:default/shop", 1)]
    assert facets["tag"] == [("python", 2), ("rest", 1)]


def test_facets_of_a_queryset_alone_apply_all_its_filters(estate):
    facets = entity_facets(entity_list(params={"kind": "api"}), facets=("kind", "owner"))
    assert facets == {
        "kind": [("api", 2)],
        "owner": [("group:default/team-orders", 1), ("group:default/team-payments", 1)],
    }


def test_tag_facet_narrows_with_the_tag_filter(estate):
    params = {"tag": "python"}
    facets = entity_facets(entity_list(params=params), params=params, facets=("tag",))
    assert facets["tag"] == [("python", 2), ("rest", 1)]


def test_search_on_this_database(estate):
    found = entity_search(Entity.objects.order_by("name"), "Orders API")
    assert names(found) == ["orders-api"]
    everything = Entity.objects.order_by("name")
    assert names(entity_search(everything, "pay")) == ["payments", "payments-worker", "team-payments"]
    assert names(entity_search(Entity.objects.order_by("name"), "':*&|!")) == names(Entity.objects.order_by("name"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the GIN index exists on PostgreSQL only")
def test_search_uses_the_gin_index_on_postgresql(estate):
    queryset = entity_search(Entity.objects.all(), "orders api")
    with connection.cursor() as cursor:
        # A handful of rows would be read sequentially anyway; forbid that to see whether the index fits.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "entity_search_fts" in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the indexes exist on PostgreSQL only")
@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({"annotation": "backstage.io/techdocs-ref"}, "entity_annotations_gin"),
        ({"annotation": "backstage.io/techdocs-ref=dir:."}, "entity_annotations_gin"),
        ({"sort": "-updated"}, "entity_updated_idx"),
        ({"sort": "updated"}, "entity_updated_idx"),
        ({"kind": "component", "sort": "name"}, "entity_kind_name_idx"),
    ],
)
def test_annotation_filters_and_sort_by_update_use_their_indexes(estate, params, index):
    # The GIN index is on the expression Django writes for the filter; a different spelling would never be used.
    queryset = entity_list(params=params)[:50]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if "sort" in params:  # a handful of rows would be sorted anyway; ask whether an index gives the order
            cursor.execute("SET LOCAL enable_sort = off")
        plan = queryset.explain()
    assert index in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="covering indexes exist on PostgreSQL only")
@pytest.mark.django_db(transaction=True)  # VACUUM, which an index-only plan needs, runs outside a transaction
def test_facet_counts_of_a_kind_read_the_covering_index_alone(estate):
    from django.http import QueryDict

    from catalog.selectors import FACET_LIMIT, FACETS, _count_facets

    params = QueryDict("kind=component")
    with CaptureQueriesContext(connection) as queries:
        _count_facets(entity_list(params=params), params=params, facets=FACETS, limit=FACET_LIMIT)
    [grouped] = [query["sql"] for query in queries.captured_queries if "GROUPING SETS" in query["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalog_entity")  # as autovacuum keeps a live table: pages all visible
        with transaction.atomic():
            # A handful of rows would be read from the table anyway; forbid that to see whether the index fits.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute(f"EXPLAIN {grouped}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
    # The columns the grouped facets count, for one kind: answered from entity_facets_idx, not the wide rows.
    assert "Index Only Scan using entity_facets_idx" in plan, plan


@pytest.mark.parametrize(
    "ref",
    [
        "component:default/orders-api",
        "Component:Default/Orders-API",
        "component:orders-api",
        "component/default/orders-api",
    ],
)
def test_entity_by_ref(estate, ref):
    assert entity_by_ref(ref).name == "orders-api"


def test_entity_by_ref_needs_a_kind_and_an_existing_entity(estate):
    with pytest.raises(RefError):
        entity_by_ref("orders-api")
    with pytest.raises(Entity.DoesNotExist):
        entity_by_ref("component:default/nope")


def test_relations_in_both_directions_with_unresolved_refs(estate, django_assert_num_queries):
    api = entity_by_ref("component:orders-api")
    with django_assert_num_queries(1):  # the relation rows touching it, with both ends joined
        views = entity_relations(api)
    seen = [(v.type, v.direction, v.target_ref, v.resolved) for v in views]
    assert seen == [
        ("consumesApi", "outgoing", "api:default/payments", True),
        ("dependsOn", "outgoing", "resource:default/missing-queue", False),
        ("dependsOn", "outgoing", "resource:default/orders-table", True),
        ("ownedBy", "outgoing", "group:default/team-orders", True),
        ("partOf", "outgoing", "system:default/shop", True),
        ("providesApi", "outgoing", "api:default/orders", True),
    ]
    team = entity_by_ref("group:team-orders")
    incoming = entity_relations(team)
    assert {(v.type, v.direction, v.target_ref) for v in incoming} == {
        ("ownerOf", "incoming", "component:default/orders-api"),
        ("ownerOf", "incoming", "api:default/orders"),
        ("ownerOf", "incoming", "system:default/shop"),
        ("ownerOf", "incoming", "resource:default/orders-table"),
    }
    assert all(v.target.name for v in incoming)


def test_dependency_graph_one_query_per_level(estate, django_assert_num_queries):
    api = entity_by_ref("component:orders-api")
    with django_assert_num_queries(2):
        nodes, edges = dependency_graph(api, depth=2)
    by_ref = {node.ref: node for node in nodes}
    assert by_ref["component:default/orders-api"].depth == 0
    assert by_ref["resource:default/missing-queue"].resolved is False
    assert by_ref["component:default/payments-worker"].depth == 2  # via api:default/payments
    assert ("component:default/payments-worker", "providesApi", "api:default/payments") in {
        (e.source, e.type, e.target) for e in edges
    }
    assert by_ref["component:default/payments-worker"].expanded is False


def test_dependency_graph_is_depth_and_size_limited(estate):
    api = entity_by_ref("component:orders-api")
    nodes, _ = dependency_graph(api, depth=9)
    assert max(node.depth for node in nodes) <= 3
    nodes, edges = dependency_graph(api, depth=1, max_nodes=3)
    assert len(nodes) == 3
    assert by_refs(edges) <= {node.ref for node in nodes}
    assert nodes[0].expanded is False


def test_dependency_graph_shows_near_kinds_next_to_the_entity_only(estate):
    worker = entity_by_ref("component:payments-worker")
    resources = {"resource:default/orders-table", "resource:default/missing-queue"}
    # payments-worker <- api:payments <- orders-api -> its two resources, three steps away.
    everything, _ = dependency_graph(worker, depth=3)
    assert resources <= {node.ref for node in everything}
    nodes, edges = dependency_graph(worker, depth=3, near_kinds=frozenset({"resource"}))
    assert "component:default/orders-api" in {node.ref for node in nodes}
    assert not resources & ({node.ref for node in nodes} | by_refs(edges))
    # The entity's own resources stay.
    own, _ = dependency_graph(entity_by_ref("component:orders-api"), depth=2, near_kinds=frozenset({"resource"}))
    assert resources <= {node.ref for node in own}


def by_refs(edges):
    return {edge.source for edge in edges} | {edge.target for edge in edges}
