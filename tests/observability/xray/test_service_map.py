"""The X-Ray service map: merged graphs, nodes mapped to entities, traffic figures, health, scopes, the layered
layout, the figure, caching and AWS calls. Segments are put into the in-process sandbox, which computes
GetServiceGraph from them as X-Ray does."""

import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from observability.timeranges import Window
from observability.xray.aws import Calls
from observability.xray.service_map import (
    CLIENTS,
    CRITICAL,
    IDLE,
    OK,
    WARNING,
    MapNode,
    entities_for_names,
    estate_scope,
    health_of,
    link_entities,
    percentile,
    service_map,
    system_scope,
    team_scope,
)
from observability.xray.service_map_figure import service_map_figure
from observability.xray.service_map_layout import count_crossings, layered_layout
from portal.aws.accounting import count_aws_calls
from portal.aws.models import AwsAccount
from tests.observability.conftest import SECOND_ACCOUNT_ID, SECOND_ROLE_ARN
from tests.observability.estate import ACCOUNT, components, discover, queue_arn, table_arn
from tests.observability.xray.estate import (
    ECS,
    REGION,
    assumed_credentials,
    estate_calls,
    estate_names,
    estate_trace,
    put,
    put_shop,
    xray_client,
)
from tests.sandbox.xray_shop import order_trace

GATEWAY, ORDERS, PAYMENTS = (f"{ECS}|{name}" for name in ("storefront-gateway", "orders-api", "payments-api"))
TABLE, PSP = "AWS::DynamoDB::Table|orders", "remote|psp.example.com"


def window_around(base: float) -> Window:
    return Window("custom", datetime.fromtimestamp(base, UTC), datetime.fromtimestamp(base + 60, UTC))


@pytest.fixture
def base():
    return float(int(time.time()) - 600)


def calls(*, ok=0, errors=0, throttles=0, faults=0, histogram=()):
    total = ok + errors + throttles + faults
    return Calls(total, ok, errors, throttles, faults, 0.0, tuple(histogram))


# --- figures and health -------------------------------------------------------------------------------------


def test_percentiles_come_from_the_histogram_by_nearest_rank():
    histogram = [(0.2, 49), (0.1, 50), (5.0, 1)]  # any order

    assert percentile(histogram, 0.5) == 0.1
    assert percentile(histogram, 0.99) == 0.2  # the 99th of 100 calls
    assert percentile(histogram, 0.999) == 5.0
    assert percentile([], 0.5) is None
    assert percentile([(0.06, 3), (1.23, 1)], 0.99) == 1.23


@pytest.mark.parametrize(
    ("figures", "health"),
    [
        ({"ok": 95, "faults": 5}, CRITICAL),  # 5% faults
        ({"ok": 96, "faults": 4}, WARNING),
        ({"ok": 99, "faults": 1}, WARNING),  # 1% faults
        ({"ok": 991, "faults": 9}, OK),  # 0.9%
        ({"ok": 90, "errors": 10}, WARNING),  # 10% 4xx
        ({"ok": 91, "errors": 9}, OK),
        ({"ok": 95, "throttles": 5}, WARNING),  # 5% throttled
        ({"ok": 96, "throttles": 4}, OK),
        ({}, IDLE),
    ],
)
def test_health_thresholds(figures, health):
    assert health_of(calls(**figures)) == health
    assert health_of(None) == IDLE


# --- the estate map -----------------------------------------------------------------------------------------


def test_the_estate_map_has_every_service_and_call_with_traffic_health_and_entities(xray, prod_account, shop, base):
    put_shop(xray, base)

    smap = service_map(window_around(base), estate_scope())

    nodes = smap.by_key
    assert sorted(nodes) == sorted([CLIENTS, GATEWAY, ORDERS, PAYMENTS, TABLE, PSP])
    assert {key: node.entity.ref_key for key, node in nodes.items() if node.entity} == {
        GATEWAY: "component:default/storefront-gateway",
        ORDERS: "component:default/orders-api",
        PAYMENTS: "component:default/payments-api",
        TABLE: "resource:default/orders-table",  # by its meridian.io/xray-service-name annotation
    }
    assert nodes[PAYMENTS].entity.url == "/catalog/default/component/payments-api/"
    edges = {(e.source, e.target): e.traffic for e in smap.edges}
    assert sorted(edges) == sorted(
        [(CLIENTS, GATEWAY), (GATEWAY, ORDERS), (ORDERS, TABLE), (ORDERS, PAYMENTS), (PAYMENTS, PSP)]
    )
    payments = edges[(ORDERS, PAYMENTS)]
    # Requests 2 and 4 fault in payments-api; 3 answer in 0.06 s, request 2 in 1.2341 s (bucket 1.23).
    assert (payments.requests, payments.fault_rate, payments.p50, payments.p99, payments.health) == (
        4,
        0.5,
        0.06,
        1.23,
        CRITICAL,
    )
    table = edges[(ORDERS, TABLE)]
    assert (table.requests, table.throttle_rate, table.fault_rate, table.health) == (4, 0.25, 0.0, WARNING)
    assert edges[(PAYMENTS, PSP)].health == OK
    assert nodes[CLIENTS].traffic.health == IDLE
    assert [(s.account_name, s.region, s.stale) for s in smap.sources] == [("meridian-prod", REGION, False)]
    assert smap.fetched_at is not None


def test_graphs_of_every_account_and_region_are_merged_one_call_each_then_cached(xray, prod_account, shop, base):
    second = AwsAccount.objects.create(
        name="meridian-payments",
        account_id=SECOND_ACCOUNT_ID,
        role_arn=SECOND_ROLE_ARN,
        regions=["eu-west-1", "us-east-1"],
    )
    put_shop(xray, base)
    put_shop(
        xray_client(xray.meta.endpoint_url, "us-east-1", assumed_credentials(xray.meta.endpoint_url, SECOND_ROLE_ARN)),
        base,
    )
    window = window_around(base)

    with count_aws_calls() as first_view:
        smap = service_map(window, estate_scope())
    with count_aws_calls() as second_view:
        again = service_map(window, estate_scope())

    # One GetServiceGraph per account and region (the graph fits one page), one AssumeRole for the second account.
    assert first_view[("xray", "GetServiceGraph")] == 3
    assert first_view[("sts", "AssumeRole")] == 1
    assert first_view.total == 4
    assert second_view.total == 0
    assert [(s.account_name, s.region) for s in smap.sources] == [
        ("meridian-payments", "eu-west-1"),
        ("meridian-payments", "us-east-1"),
        ("meridian-prod", "eu-west-1"),
    ]
    payments = next(e for e in smap.edges if (e.source, e.target) == (ORDERS, PAYMENTS))
    assert payments.traffic.requests == 8  # 4 in each account
    assert sorted(smap.by_key[ORDERS].sources) == [("meridian-payments", "us-east-1"), ("meridian-prod", "eu-west-1")]
    assert [e.traffic for e in again.edges] == [e.traffic for e in smap.edges]
    assert second.pk


def test_a_call_into_another_account_is_stitched_to_the_service_that_answered_it(xray, prod_account, shop, base):
    AwsAccount.objects.create(
        name="meridian-payments", account_id=SECOND_ACCOUNT_ID, role_arn=SECOND_ROLE_ARN, regions=["eu-west-1"]
    )
    payments_xray = xray_client(
        xray.meta.endpoint_url, REGION, assumed_credentials(xray.meta.endpoint_url, SECOND_ROLE_ARN)
    )
    for number in range(1, 4):
        payments, orders_api, gateway = order_trace(number, base + 10 * number, payments_fault=number == 2)
        put(xray, orders_api, gateway)  # the caller's half, in the portal's own account
        put(payments_xray, payments)  # payments-api runs in the payments account

    smap = service_map(window_around(base), estate_scope())

    # Each X-Ray alone shows orders-api calling a "remote" payments-api, and payments-api called by clients.
    nodes = smap.by_key
    assert "remote|payments-api" not in nodes
    edges = {(e.source, e.target): e.traffic for e in smap.edges}
    assert (CLIENTS, PAYMENTS) not in edges
    assert edges[(ORDERS, PAYMENTS)].requests == 3
    assert sorted(nodes[PAYMENTS].sources) == [("meridian-payments", "eu-west-1"), ("meridian-prod", "eu-west-1")]
    assert nodes[PAYMENTS].traffic.fault_rate == pytest.approx(1 / 3)  # what payments-api itself answered


def test_disabled_accounts_are_not_asked(xray, prod_account, base):
    prod_account.enabled = False
    prod_account.save(update_fields=["enabled"])
    put_shop(xray, base)

    with count_aws_calls() as aws_calls:
        smap = service_map(window_around(base), estate_scope())

    assert aws_calls.total == 0
    assert smap.nodes == [] and smap.sources == []


# --- scopes -------------------------------------------------------------------------------------------------


def test_a_system_map_shows_its_services_and_their_direct_neighbours(xray, prod_account, shop, base):
    put_shop(xray, base)

    smap = service_map(window_around(base), system_scope(shop["commerce"]))

    inside = sorted(n.key for n in smap.nodes if n.in_scope)
    neighbours = sorted(n.key for n in smap.nodes if not n.in_scope)
    assert inside == sorted([GATEWAY, ORDERS, TABLE])
    assert neighbours == sorted([CLIENTS, PAYMENTS])  # the PSP is a neighbour of payments-api only
    assert sorted((e.source, e.target) for e in smap.edges) == sorted(
        [(CLIENTS, GATEWAY), (GATEWAY, ORDERS), (ORDERS, TABLE), (ORDERS, PAYMENTS)]
    )


def test_a_team_map_shows_its_services_and_their_direct_neighbours(xray, prod_account, shop, payments, base):
    put_shop(xray, base)

    smap = service_map(window_around(base), team_scope(payments))

    assert sorted(n.key for n in smap.nodes if n.in_scope) == [PAYMENTS]
    assert sorted(n.key for n in smap.nodes if not n.in_scope) == sorted([ORDERS, PSP])
    assert sorted((e.source, e.target) for e in smap.edges) == sorted([(ORDERS, PAYMENTS), (PAYMENTS, PSP)])


# --- nodes to entities --------------------------------------------------------------------------------------


def test_the_annotation_wins_over_a_component_name_and_may_name_several_services(orders, payments):
    from catalog import services
    from portal.actors import Actor

    actor = Actor.for_system("tests")
    for name, annotations in (("billing", {"meridian.io/xray-service-name": "billing-ecs, billing-lambda"}),):
        document = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name, "annotations": annotations},
            "spec": {"type": "service", "lifecycle": "production", "owner": "team-payments"},
        }
        services.entity_create(actor=actor, document=document)
    for name in ("billing-ecs", "Ledger"):
        document = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name},
            "spec": {"type": "service", "lifecycle": "production", "owner": "team-payments"},
        }
        services.entity_create(actor=actor, document=document)

    found = entities_for_names(["billing-ecs", "billing-lambda", "ledger", "unknown"])

    assert {name: link.name for name, link in found.items()} == {
        "billing-ecs": "billing",  # the annotation, though a Component has that very name
        "billing-lambda": "billing",
        "ledger": "Ledger",  # names match case-insensitively, as Backstage's do
    }


def test_mapping_nodes_to_entities_takes_two_queries_whatever_the_number_of_nodes(shop):
    few = ["orders-api", "payments-api", "orders"]
    many = few + [f"svc-{n:03d}" for n in range(60)]

    with CaptureQueriesContext(connection) as small:
        entities_for_names(few)
    with CaptureQueriesContext(connection) as large:
        found = entities_for_names(many)

    # 1: entities carrying the meridian.io/xray-service-name annotation; 2: Components by name (lower case).
    assert len(small.captured_queries) == len(large.captured_queries) == 2
    assert set(found) == set(few)


# --- layout -------------------------------------------------------------------------------------------------


def test_callers_are_left_of_callees_and_crossings_are_reduced():
    # In name order the two calls cross (a->z over b->y); the barycentre sweep uncrosses them.
    edges = [("a", "z"), ("b", "y"), ("root", "a"), ("root", "b")]

    layout = layered_layout(["z", "y", "b", "a", "root"], edges)

    assert layout.layers == [["root"], ["a", "b"], ["z", "y"]]
    assert layout.crossings == 0
    assert count_crossings([["root"], ["a", "b"], ["y", "z"]], edges) == 1
    for source, target in edges:
        assert layout.positions[source][0] < layout.positions[target][0]


def test_long_calls_bend_through_every_layer_between_and_cycles_still_lay_out():
    edges = [("gw", "a"), ("a", "b"), ("b", "c"), ("gw", "c"), ("c", "a")]  # c -> a closes a cycle

    layout = layered_layout(["gw", "a", "b", "c"], edges)

    assert [layout.positions[k][0] for k in ("gw", "a", "b", "c")] == [0.0, 1.0, 2.0, 3.0]
    assert len(layout.routes[("gw", "c")]) == 4  # gw, two bend points, c
    assert layout.routes[("gw", "c")][0] == layout.positions["gw"]
    assert layout.routes[("c", "a")][0] == layout.positions["c"]  # drawn in its own direction
    assert layout.routes[("c", "a")][-1] == layout.positions["a"]


def test_the_layout_of_a_60_service_estate_is_deterministic_layered_and_uncluttered():
    names = estate_names(60)
    calls = estate_calls(60)
    shuffled_names, shuffled_calls = names[:], calls[:]
    random.Random(3).shuffle(shuffled_names)
    random.Random(4).shuffle(shuffled_calls)

    layout = layered_layout(names, calls)
    again = layered_layout(shuffled_names, shuffled_calls)

    assert layout == again
    assert len(set(layout.positions.values())) == 60  # no two services on one spot
    assert all(layout.positions[s][0] < layout.positions[t][0] for s, t in calls)
    in_name_order = [sorted(layer) for layer in layout.layers]
    assert layout.crossings < count_crossings(in_name_order, calls) / 2


# --- the figure ---------------------------------------------------------------------------------------------


def test_the_figure_links_nodes_to_entity_pages_and_colours_calls_by_health(xray, prod_account, shop, base):
    put_shop(xray, base)
    smap = service_map(window_around(base), estate_scope())

    figure = service_map_figure(smap)

    nodes = figure["data"][-1]
    by_name = dict(zip(nodes["text"], nodes["customdata"], strict=True))
    assert by_name["payments-api"] == "/catalog/default/component/payments-api/"
    assert by_name["psp.example.com"] == ""  # not in the catalog: nothing to open
    assert by_name["Clients"] == ""
    colours = {trace["name"]: trace["line"]["color"] for trace in figure["data"] if trace["mode"] == "lines"}
    assert colours == {"calls (critical)": "#dc3545", "calls (warning)": "#fd7e14", "calls (ok)": "#198754"}
    hover = figure["data"][-2]["hovertext"]
    assert any(text.startswith("orders-api → payments-api<br>4 calls · faults 50%") for text in hover)
    assert len(figure["layout"]["annotations"]) == len(smap.edges)  # one arrowhead a call


def test_a_60_service_estate_from_segments_maps_every_service_in_one_call(xray, prod_account, base):
    calls = estate_calls(60)
    for number in range(3):
        put(xray, *estate_trace(number + 1, base + 5 + number, calls, fault_every=2))

    with count_aws_calls() as aws_calls:
        smap = service_map(window_around(base), estate_scope())
    figure = service_map_figure(smap)

    assert aws_calls[("xray", "GetServiceGraph")] == 1
    assert len([n for n in smap.nodes if not n.is_client]) == 60
    assert len(smap.edges) == len(calls) + 1  # and the clients' call to the gateway
    assert figure["layout"]["height"] >= 16 * 40  # the widest tier has 16 services, each with room for its label
    assert any(e.traffic.health == CRITICAL for e in smap.edges)
    assert timedelta(0) <= datetime.now(UTC) - smap.fetched_at < timedelta(minutes=1)


# --- AWS resources to the Resources discovery made ----------------------------------------------------------


def _publisher_trace(start: float, *, table: str, queue: str, topic_arn: str) -> dict:
    """orders-api writing a table, sending to a queue and publishing to a topic, as the X-Ray SDK records it."""
    return {
        "id": "a000000000000001",
        "trace_id": f"1-{int(start):08x}-{1:024x}",
        "name": "orders-api",
        "origin": ECS,
        "start_time": start,
        "end_time": start + 0.05,
        "http": {"request": {"method": "POST", "url": "http://orders-api/orders"}, "response": {"status": 200}},
        "subsegments": [
            {
                "id": "b000000000000001",
                "name": "DynamoDB",
                "namespace": "aws",
                "start_time": start + 0.01,
                "end_time": start + 0.02,
                "aws": {"operation": "PutItem", "table_name": table, "region": REGION},
            },
            {
                "id": "b000000000000002",
                "name": "SQS",
                "namespace": "aws",
                "start_time": start + 0.02,
                "end_time": start + 0.03,
                "aws": {"operation": "SendMessage", "queue_url": f"https://sqs.{REGION}.amazonaws.com/123/{queue}"},
            },
            {
                "id": "b000000000000003",
                "name": "SNS",
                "namespace": "aws",
                "start_time": start + 0.03,
                "end_time": start + 0.04,
                "aws": {"operation": "Publish", "topic_arn": topic_arn},
            },
        ],
    }


def test_aws_resources_on_the_map_are_the_resources_discovery_made_linked_and_named(xray, prod_account, orders, base):
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:order-events"
    components("orders-api")
    table, queue, sns = discover(
        (table_arn("orders"), "orders-api"), (queue_arn("order-jobs"), "orders-api"), (topic, "orders-api")
    )
    # The same names in another region are other resources, which must not be taken for these.
    discover((f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders", "orders-api"))
    put(xray, _publisher_trace(base + 10, table="orders", queue="order-jobs", topic_arn=topic))

    smap = service_map(window_around(base), estate_scope())

    nodes = smap.by_key
    linked = {key: node.entity.ref_key for key, node in nodes.items() if key != CLIENTS and node.entity}
    assert linked == {
        f"{ECS}|orders-api": "component:default/orders-api",
        "AWS::DynamoDB::Table|orders": table.ref_key,
        "AWS::SQS::Queue|order-jobs": queue.ref_key,
        f"AWS::SNS|{topic}": sns.ref_key,
    }
    assert nodes["AWS::DynamoDB::Table|orders"].entity.url == f"/catalog/default/resource/{table.name}/"
    # X-Ray names a topic by its ARN; the map shows the topic's name.
    assert nodes[f"AWS::SNS|{topic}"].label == "order-events"
    assert nodes["AWS::SQS::Queue|order-jobs"].label == "order-jobs"
    figure = service_map_figure(smap)
    by_label = dict(zip(figure["data"][-1]["text"], figure["data"][-1]["customdata"], strict=True))
    assert by_label["order-events"] == f"/catalog/default/resource/{sns.name}/"


def test_linking_a_maps_nodes_takes_three_queries_whatever_the_number_of_resources(shop):
    def nodes(tables: int) -> list[MapNode]:
        services = [MapNode(key=f"{ECS}|{name}", name=name, type=ECS) for name in ("orders-api", "payments-api")]
        resources = [
            MapNode(key=f"{t}", name=f"table-{t}", type="AWS::DynamoDB::Table", arns=[table_arn(f"table-{t}")])
            for t in range(tables)
        ]
        return services + resources

    few, many = nodes(2), nodes(80)
    with CaptureQueriesContext(connection) as small:
        link_entities(few)
    with CaptureQueriesContext(connection) as large:
        link_entities(many)

    # 1: the meridian.io/xray-service-name annotations; 2: Resources by ARN; 3: Components by name.
    assert len(small.captured_queries) == len(large.captured_queries) == 3
    assert [n.entity.name for n in many[:2]] == ["orders-api", "payments-api"]
