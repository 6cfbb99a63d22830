"""Declared vs observed: calls X-Ray saw that the catalog does not declare, and declared dependencies never seen."""

import time
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from observability.timeranges import Window
from observability.xray.declared import UNDECLARED_CALL, UNDECLARED_CALLER, UNOBSERVED, compare
from observability.xray.service_map import estate_scope, service_map
from portal.actors import Actor
from tests.observability.xray.estate import put_shop, shop_catalog


@pytest.fixture
def base():
    return float(int(time.time()) - 600)


def shop_map(base):
    window = Window("custom", datetime.fromtimestamp(base, UTC), datetime.fromtimestamp(base + 60, UTC))
    return service_map(window, estate_scope())


def findings(comparison):
    return [(f.kind, f.other.name if f.other else None, f.requests) for f in comparison.findings]


def test_a_call_the_catalog_does_not_declare_and_a_dependency_never_seen(xray, prod_account, orders, payments, base):
    shop = shop_catalog()
    put_shop(xray, base)
    smap = shop_map(base)

    comparison = compare(shop["orders-api"], smap)

    assert comparison.observed is True
    assert findings(comparison) == [(UNDECLARED_CALL, "payments-api", 4), (UNOBSERVED, "order-saga", None)]
    undeclared, unobserved = comparison.findings
    assert undeclared.message == (
        "orders-api calls payments-api, not declared in dependsOn (nor through an API payments-api provides): "
        f"4 calls in {smap.window.phrase}."
    )
    assert unobserved.message == (
        f"orders-api declares a dependency on order-saga (dependsOn), never observed in {smap.window.phrase}; "
        "order-saga is not in X-Ray at all (not instrumented, or idle)."
    )
    # orders-table is declared and seen (X-Ray's "orders" table, by the annotation): no finding.
    assert comparison.matching == 1


def test_consuming_an_api_the_callee_provides_declares_the_call(xray, prod_account, orders, payments, base):
    shop = shop_catalog(orders_api_extra={"consumesApis": ["payments"]})
    put_shop(xray, base)

    comparison = compare(shop["orders-api"], shop_map(base))

    assert findings(comparison) == [(UNOBSERVED, "order-saga", None)]
    assert comparison.matching == 2


def test_the_callee_page_names_callers_that_do_not_declare_it(xray, prod_account, orders, payments, base):
    shop = shop_catalog()
    put_shop(xray, base)

    comparison = compare(shop["payments-api"], shop_map(base))

    assert findings(comparison) == [(UNDECLARED_CALLER, "orders-api", 4)]
    assert comparison.findings[0].message.startswith(
        "orders-api calls payments-api, not declared in orders-api's dependsOn"
    )


def test_the_callees_dependency_of_declares_the_call_too(xray, prod_account, orders, payments, base):
    shop = shop_catalog()
    document = {**shop["payments-api"].document}
    document["spec"] = {**document["spec"], "dependencyOf": ["component:orders-api"]}
    services.entity_update(actor=Actor.for_system("tests"), entity=shop["payments-api"], document=document)
    put_shop(xray, base)

    comparison = compare(shop["orders-api"], shop_map(base))

    assert findings(comparison) == [(UNOBSERVED, "order-saga", None)]


def test_nothing_is_said_of_an_entity_x_ray_does_not_show(xray, prod_account, orders, payments, base):
    shop = shop_catalog()
    put_shop(xray, base)

    comparison = compare(shop["order-saga"], shop_map(base))

    assert (comparison.observed, comparison.findings) == (False, [])


def test_the_comparison_takes_the_same_queries_however_many_relations(xray, prod_account, orders, payments, base):
    shop = shop_catalog()
    put_shop(xray, base)
    smap = shop_map(base)
    with CaptureQueriesContext(connection) as few:
        compare(shop["orders-api"], smap)

    actor = Actor.for_system("tests")
    extra = [f"component:lib-{n}" for n in range(30)]
    for name in extra:
        services.entity_create(
            actor=actor,
            document={
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {"name": name.split(":")[1]},
                "spec": {"type": "library", "lifecycle": "production", "owner": "team-orders"},
            },
        )
    document = {**shop["orders-api"].document}
    document["spec"] = {**document["spec"], "dependsOn": document["spec"]["dependsOn"] + extra}
    orders_api = services.entity_update(actor=actor, entity=shop["orders-api"], document=document)
    with CaptureQueriesContext(connection) as many:
        comparison = compare(orders_api, smap)

    # 1: dependsOn / dependencyOf of the callers; 2: the APIs they consume; (3: the providers, when they consume any).
    assert len(few.captured_queries) == len(many.captured_queries) == 2
    assert len(comparison.unobserved) == 31
