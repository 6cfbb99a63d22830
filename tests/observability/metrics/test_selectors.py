"""Reads: a component's resources in both directions (orphans left out), and the alarm state of a list of
entities for the catalog's list, in three queries whatever the list's length."""

import pytest

from catalog.models import Entity
from catalog.services import entity_update
from observability.metrics import selectors, services
from tests.observability.conftest import put_alarm, set_alarm_state
from tests.observability.estate import ACTOR, REGION, components, discover, lambda_arn, queue_arn, table_arn

pytestmark = pytest.mark.django_db


def test_a_components_resources_are_linked_either_way_and_orphans_are_left_out(account):
    (orders,) = components("orders-api")
    table, queue, _ = discover(
        (table_arn("orders"), "orders-api"),
        (queue_arn("orders-dlq"), "someone-else"),
        (lambda_arn("gone"), "orders-api"),
    )
    # The component names the queue itself (spec.dependsOn); the function vanished from AWS (orphaned).
    document = {**orders.document, "spec": {**orders.document["spec"], "dependsOn": [f"resource:{queue.name}"]}}
    entity_update(actor=ACTOR, entity=orders, document=document)
    Entity.objects.filter(name__startswith="gone-").update(orphaned=True)

    refs = selectors.entity_resources(Entity.objects.get(pk=orders.pk))

    assert [(r.resource_type, r.arn, r.account_id, r.region) for r in refs] == [
        ("dynamodb-table", table_arn("orders"), "123456789012", REGION),
        ("sqs-queue", queue_arn("orders-dlq"), "123456789012", REGION),
    ]
    assert refs[0].entity_id == table.pk and refs[0].label == "orders"


def test_alarm_states_for_a_list_cost_three_queries_whatever_its_length(aws, account, django_assert_num_queries):
    made = components(*(f"svc-{i}" for i in range(12)))
    discover(*((lambda_arn(f"svc-{i}"), f"svc-{i}") for i in range(12)))
    for i in range(12):
        put_alarm(f"svc-{i} errors", "AWS/Lambda", "Errors", {"FunctionName": f"svc-{i}"}, threshold=1)
    set_alarm_state("svc-3 errors", "ALARM")
    put_alarm("svc-3 throttles", "AWS/Lambda", "Throttles", {"FunctionName": "svc-3"}, threshold=1)
    services.cloudwatch_sync(account=account, region=REGION)
    function = Entity.objects.get(kind_key="resource", name__startswith="svc-5-")
    ids = [e.pk for e in made] + [function.pk]

    # 1 the components' relations with their resources' fields, 2 the Resources among the ids, 3 the alarms.
    with django_assert_num_queries(3):
        states = selectors.alarm_states_for(ids)

    assert len(states) == 13
    three = states[made[3].pk]
    assert (three.worst, three.alarm, three.insufficient + three.ok, three.firing) == ("ALARM", 1, 1, ["svc-3 errors"])
    assert states[made[4].pk].worst in ("OK", "INSUFFICIENT_DATA") and states[made[4].pk].alarm == 0
    assert states[function.pk].total == 1  # a Resource in the list is its own resource
    assert selectors.alarm_states_for([]) == {}


def test_the_catalog_rows_show_the_worst_state(aws, account):
    from catalog.row_badges import row_badges

    orders, payments = components("orders-api", "payments-api")
    discover((lambda_arn("orders-api"), "orders-api"))
    put_alarm("orders errors", "AWS/Lambda", "Errors", {"FunctionName": "orders-api"}, threshold=1)
    set_alarm_state("orders errors", "ALARM")
    services.cloudwatch_sync(account=account, region=REGION)

    badges = row_badges([orders, payments])

    assert 'data-state="ALARM"' in badges[orders.pk] and "1 in alarm" in badges[orders.pk]
    assert payments.pk not in badges  # no alarms: nothing on its row
