"""AWS discovery against the seeded sandbox: Resource entities with types, owners and links to their
components, GetResources pages and nothing else, vanished resources orphaned, outages recorded."""

import re
import socket
from pathlib import Path

import boto3
import pytest
import yaml
from django.core.cache import cache

from catalog import tasks
from catalog.aws import tagged_resources
from catalog.discovery import UNOWNED, entity_name, resource_type
from catalog.models import DiscoveryRun, Entity, Location, Relation
from catalog.services import Incoming, entities_apply, location_for
from catalog.validation import is_valid_name
from portal.actors import Actor
from portal.aws.accounting import count_aws_calls
from portal.aws.arns import parse_arn
from portal.aws.models import AwsAccount
from portal.aws.services import parse_account_spec
from portal.celery import app as celery_app
from portal.models import Team
from sandbox.estate import CATALOG_DIR
from sandbox.management.commands.run_local import DEMO_AWS_ACCOUNTS
from sandbox.seed import SANDBOX_CREDENTIALS
from tests.observability.sagas.faults import THROTTLING, failing_json_api

PROD, PAYMENTS = "123456789012", "210987654321"
ORDERS_ECS = f"arn:aws:ecs:eu-west-1:{PROD}:service/meridian-commerce/orders-api"
ORDERS_TABLE = f"arn:aws:dynamodb:eu-west-1:{PROD}:table/orders"


@pytest.fixture
def estate(sandbox_estate, settings, db):
    """The seeded sandbox, the demo's AWS accounts (as run_local makes them) and its catalog files applied."""
    cache.clear()
    settings.AWS_ENDPOINT_URL = sandbox_estate
    for spec in DEMO_AWS_ACCOUNTS.split(","):
        AwsAccount.objects.create(**parse_account_spec(spec))
    location = location_for(type=Location.Type.FILE, target=str(CATALOG_DIR))
    documents = [
        document
        for path in sorted(Path(CATALOG_DIR).rglob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document and document.get("kind") != "Location"
    ]
    result = entities_apply(
        actor=Actor.for_system("test"),
        location=location,
        incoming=[Incoming(document=d, source="estate", index=i) for i, d in enumerate(documents)],
    )
    assert not result.problems, result.problems
    return sandbox_estate


def prod() -> AwsAccount:
    return AwsAccount.objects.get(account_id=PROD)


def by_arn(arn: str) -> Entity:
    (found,) = [e for e in Entity.objects.filter(kind_key="resource") if e.annotations["amazonaws.com/arn"] == arn]
    return found


def discovered(account_id: str, region: str) -> dict[str, Entity]:
    location = Location.objects.get(type="discovery", target=f"aws:{account_id}:{region}")
    return {e.annotations["amazonaws.com/arn"]: e for e in Entity.objects.filter(location=location)}


def run(account: AwsAccount, region: str) -> DiscoveryRun:
    tasks.catalog_discover(account.pk, region)
    return DiscoveryRun.objects.get(account=account, region=region)


# --- mapping ARNs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "spec_type", "short_name"),
    [
        (ORDERS_ECS, "ecs-service", "orders-api"),
        (f"arn:aws:lambda:eu-west-1:{PROD}:function:cart-service", "lambda-function", "cart-service"),
        (f"arn:aws:lambda:eu-west-1:{PROD}:function:cart-service:live", "lambda-function", "cart-service"),
        (ORDERS_TABLE, "dynamodb-table", "orders"),
        (f"arn:aws:sqs:eu-west-1:{PROD}:inventory-reservations", "sqs-queue", "inventory-reservations"),
        (f"arn:aws:sns:eu-west-1:{PROD}:order-events", "sns-topic", "order-events"),
        (f"arn:aws:states:eu-west-1:{PROD}:stateMachine:order-saga", "state-machine", "order-saga"),
        ("arn:aws:apigateway:eu-west-1::/restapis/a1b2c3", "api-gateway", "a1b2c3"),
        (f"arn:aws:events:eu-west-1:{PROD}:event-bus/meridian-commerce", "event-bus", "meridian-commerce"),
        (f"arn:aws:kafka:eu-west-1:{PROD}:cluster/streams/abc", "kafka-cluster", "abc"),
        # Load balancers and target groups end in a generated id after their name.
        (
            f"arn:aws:elasticloadbalancing:eu-west-1:{PROD}:loadbalancer/app/orders-api/50dc6c495c0c9188",
            "load-balancer",
            "orders-api",
        ),
        (
            f"arn:aws:elasticloadbalancing:eu-west-1:{PROD}:targetgroup/orders-api/73e2d6bc24d8a067",
            "target-group",
            "orders-api",
        ),
        (f"arn:aws:elasticloadbalancing:eu-west-1:{PROD}:loadbalancer/classic-web", "load-balancer", "classic-web"),
        (f"arn:aws:cloudwatch:eu-west-1:{PROD}:alarm:orders-api 5xx", "cloudwatch-alarm", "orders-api 5xx"),
    ],
)
def test_the_type_and_name_come_from_the_arn(arn, spec_type, short_name):
    parsed = parse_arn(arn)

    assert resource_type(parsed)[0] == spec_type
    assert parsed.short_name == short_name
    name = entity_name(parsed)
    assert is_valid_name(name) and name.startswith(re.sub(r"[^A-Za-z0-9]+", "-", short_name))
    assert entity_name(parse_arn(arn)) == name  # deterministic


def test_names_stay_valid_and_unique_for_long_names_and_other_regions():
    long_name = "x" * 80 + "..__weird  name"
    here = parse_arn(f"arn:aws:sqs:eu-west-1:{PROD}:{long_name}")
    there = parse_arn(f"arn:aws:sqs:us-east-1:{PROD}:{long_name}")

    assert is_valid_name(entity_name(here)) and len(entity_name(here)) == 63
    assert entity_name(here) != entity_name(there)
    assert parse_arn(f"arn:aws:sns:eu-west-1:{PROD}:order-events:5f1c-subscription") is None
    assert parse_arn("not-an-arn") is None


# --- against the seeded sandbox ------------------------------------------------------------------


def test_discovery_keeps_a_resource_entity_per_tagged_resource_with_owner_and_component(estate):
    with count_aws_calls() as calls:
        outcome = run(prod(), "eu-west-1")

    assert outcome.status == "ok" and outcome.error == ""
    found = discovered(PROD, "eu-west-1")
    assert outcome.found == outcome.created == len(found)
    # A call a page and nothing per resource. (moto also ends a page at 100 tags, about 30 of the
    # estate's resources, where AWS would give up to 100 resources.) The resources whose ARN has an id for a
    # name get their names from one listing per type: the estate has one page of each.
    tagging = boto3.client("resourcegroupstaggingapi", region_name="eu-west-1", endpoint_url=estate,
                           **SANDBOX_CREDENTIALS)  # fmt: skip
    pages = len(list(tagging.get_paginator("get_resources").paginate(ResourcesPerPage=100)))
    assert dict(calls) == {
        ("resourcegroupstaggingapi", "GetResources"): pages,
        ("apigateway", "GetRestApis"): 1,
        ("servicediscovery", "ListNamespaces"): 1,
        ("servicediscovery", "ListServices"): 1,
    }
    assert pages <= len(found) / 10
    assert {e.spec["type"] for e in found.values()} >= {
        "ecs-service",
        "ecs-cluster",
        "lambda-function",
        "dynamodb-table",
        "sqs-queue",
        "sns-topic",
        "state-machine",
        "event-bus",
        "vpc",
        # Listed by the sandbox's tagging extension, as AWS lists them (moto alone does not).
        "api-gateway",
        "cloud-map-namespace",
        "cloud-map-service",
        "eventbridge-rule",
        # Each ECS service's ALB and target group, and the alarms on golden signals.
        "load-balancer",
        "target-group",
        "cloudwatch-alarm",
    }
    assert not any(":task-definition/" in arn for arn in found)  # revisions, not resources

    table = found[ORDERS_TABLE]
    assert table.spec == {
        "type": "dynamodb-table",
        "owner": "group:default/team-orders",
        "dependencyOf": ["component:default/orders-api"],
    }
    assert table.owner_team == Team.objects.get(slug="team-orders")
    assert table.annotations["amazonaws.com/account-id"] == PROD
    assert table.annotations["meridian.io/aws-region"] == "eu-west-1"
    assert "service=orders-api" in table.annotations["meridian.io/aws-tags"]
    orders_api = Entity.objects.get(ref_key="component:default/orders-api")
    link = Relation.objects.get(source=table, type="dependencyOf")
    assert (link.target_key, link.target) == ("component:default/orders-api", orders_api)

    ecs = found[ORDERS_ECS]
    assert ecs.annotations["aws.amazon.com/amazon-ecs-service-arn"] == ORDERS_ECS
    function = found[f"arn:aws:lambda:eu-west-1:{PROD}:function:cart-service"]
    assert (function.annotations["aws.com/lambda-function-name"], function.spec["type"]) == (
        "cart-service",
        "lambda-function",
    )
    assert by_arn(ORDERS_TABLE) == table
    # An API Gateway ARN names no account: the API is in the account it was discovered in.
    (rest_api,) = [e for arn, e in found.items() if ":apigateway:" in arn and "/restapis/" in arn]
    assert rest_api.annotations["amazonaws.com/account-id"] == PROD
    # Its ARN has only a generated id: the title is the API's own name, the entity name stays from the ARN.
    assert rest_api.title == "meridian-storefront (API Gateway REST API)"
    assert not rest_api.name.startswith("meridian-storefront")
    titles = {e.title for e in found.values() if e.spec["type"].startswith("cloud-map-")}
    assert {"commerce.meridian.local (Cloud Map namespace)", "orders-api (Cloud Map service)"} <= titles


def test_the_assumed_role_account_is_discovered_too(estate):
    payments = AwsAccount.objects.get(account_id=PAYMENTS)

    with count_aws_calls() as calls:
        outcome = run(payments, "us-east-1")

    assert outcome.status == "ok"
    assert calls[("resourcegroupstaggingapi", "GetResources")] == 1
    assert calls.total - calls[("sts", "AssumeRole")] == 1  # the role once, then one page
    assert set(discovered(PAYMENTS, "us-east-1")) == {
        f"arn:aws:dynamodb:us-east-1:{PAYMENTS}:table/fraud-scores",
        f"arn:aws:lambda:us-east-1:{PAYMENTS}:function:fraud-scorer",
        f"arn:aws:cloudwatch:us-east-1:{PAYMENTS}:alarm:fraud-scorer p99 duration",
    }
    assert all(e.spec["owner"] == "group:default/team-payments" for e in discovered(PAYMENTS, "us-east-1").values())


def test_a_failed_name_listing_costs_those_resources_their_names_not_the_run(estate, settings):
    with failing_json_api(estate, fail={"ListServices": THROTTLING}) as (url, failed):
        settings.AWS_ENDPOINT_URL = url
        outcome = run(prod(), "eu-west-1")
    assert outcome.status == "ok" and failed["ListServices"] >= 1
    services = [e for e in discovered(PROD, "eu-west-1").values() if e.spec["type"] == "cloud-map-service"]
    assert services and all(e.title.startswith("srv-") for e in services)  # the id, as the ARN gives it
    namespaces = [e for e in discovered(PROD, "eu-west-1").values() if e.spec["type"] == "cloud-map-namespace"]
    assert "commerce.meridian.local (Cloud Map namespace)" in {e.title for e in namespaces}


def test_get_resources_is_called_once_per_page(estate):
    with count_aws_calls() as calls:
        listed = tagged_resources(prod(), "eu-west-1", page_size=5)

    assert len(listed) > 10
    assert dict(calls) == {("resourcegroupstaggingapi", "GetResources"): -(-len(listed) // 5)}


def test_running_again_changes_nothing(estate):
    run(prod(), "eu-west-1")
    before = dict(Entity.objects.filter(kind_key="resource").values_list("pk", "etag"))

    again = run(prod(), "eu-west-1")

    assert (again.status, again.created, again.updated, again.orphaned) == ("ok", 0, 0, 0)
    assert dict(Entity.objects.filter(kind_key="resource").values_list("pk", "etag")) == before


def test_a_vanished_resource_is_marked_orphaned_not_deleted(estate):
    run(prod(), "eu-west-1")
    sqs = boto3.client("sqs", region_name="eu-west-1", endpoint_url=estate, **SANDBOX_CREDENTIALS)
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName="inventory-reservations-dlq")["QueueUrl"])
    gone = f"arn:aws:sqs:eu-west-1:{PROD}:inventory-reservations-dlq"

    outcome = run(prod(), "eu-west-1")

    assert (outcome.status, outcome.orphaned) == ("ok", 1)
    entity = by_arn(gone)
    assert entity.orphaned is True
    assert entity.annotations["backstage.io/orphan"] == "true"
    assert Entity.objects.filter(kind_key="resource", orphaned=False).count() == outcome.found


def test_a_component_annotation_selects_its_ecs_service_as_aws_plugins_do(estate):
    entities_apply(
        actor=Actor.for_system("test"),
        location=location_for(type=Location.Type.FILE, target="/legacy.yaml"),
        incoming=[
            Incoming(
                document={
                    "apiVersion": "backstage.io/v1alpha1",
                    "kind": "Component",
                    "metadata": {
                        "name": name,
                        "annotations": {annotation: value},
                    },
                    "spec": {"type": "service", "lifecycle": "production", "owner": "team-orders"},
                },
                source="/legacy.yaml",
                index=i,
            )
            for i, (name, annotation, value) in enumerate(
                [
                    ("orders-by-arn", "aws.amazon.com/amazon-ecs-service-arn", ORDERS_ECS),
                    ("orders-by-tags", "aws.amazon.com/amazon-ecs-service-tags", "service=orders-api,env=prod"),
                    ("nothing-by-tags", "aws.amazon.com/amazon-ecs-service-tags", "service=orders-api,env=dev"),
                ]
            )
        ],
        complete=False,
    )

    run(prod(), "eu-west-1")

    assert by_arn(ORDERS_ECS).spec["dependencyOf"] == [
        "component:default/orders-api",
        "component:default/orders-by-arn",
        "component:default/orders-by-tags",
    ]
    # The plugin annotations select ECS services only; the table keeps its tag's component.
    assert by_arn(ORDERS_TABLE).spec["dependencyOf"] == ["component:default/orders-api"]


def test_without_a_team_tag_the_owner_is_unowned_and_the_service_tag_is_configurable(estate, settings):
    settings.CATALOG_DISCOVERY_SERVICE_TAG = "app"
    sqs = boto3.client("sqs", region_name="eu-west-1", endpoint_url=estate, **SANDBOX_CREDENTIALS)
    sqs.create_queue(QueueName="stray-queue", tags={"app": "cart-service"})

    run(prod(), "eu-west-1")

    stray = by_arn(f"arn:aws:sqs:eu-west-1:{PROD}:stray-queue")
    assert stray.spec == {"type": "sqs-queue", "owner": UNOWNED, "dependencyOf": ["component:default/cart-service"]}
    assert "dependencyOf" not in by_arn(ORDERS_TABLE).spec  # the `service` tag no longer links


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_outage_is_recorded_and_the_last_entities_are_kept(estate, settings):
    first = run(prod(), "eu-west-1")
    kept = dict(Entity.objects.filter(kind_key="resource").values_list("pk", "etag"))
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{_closed_port()}"
    settings.AWS_CONNECT_TIMEOUT = settings.AWS_READ_TIMEOUT = 0.5
    settings.AWS_MAX_ATTEMPTS = 1

    outcome = run(prod(), "eu-west-1")

    assert (outcome.status, outcome.error_code) == ("error", "endpoint_unreachable")
    assert "Cannot connect to the AWS endpoint" in outcome.error
    assert outcome.last_success_at == first.last_success_at and outcome.found == first.found
    assert dict(Entity.objects.filter(kind_key="resource").values_list("pk", "etag")) == kept
    assert not Entity.objects.filter(orphaned=True).exists()


def test_the_orphan_guard_refuses_a_run_that_would_orphan_most_resources(estate):
    run(prod(), "us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=estate, **SANDBOX_CREDENTIALS)
    sns = boto3.client("sns", region_name="us-east-1", endpoint_url=estate, **SANDBOX_CREDENTIALS)
    for queue in ("notifications-outbox", "shipping-requests", "shipping-requests-dlq"):
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"])
    for topic in ("customer-notifications", "shipment-updates"):
        sns.delete_topic(TopicArn=f"arn:aws:sns:us-east-1:{PROD}:{topic}")

    refused = run(prod(), "us-east-1")

    assert (refused.status, refused.error_code) == ("refused", "orphan_guard")
    assert not Entity.objects.filter(orphaned=True).exists()

    tasks.catalog_discover(prod().pk, "us-east-1", force=True)
    assert Entity.objects.filter(orphaned=True).count() == 5


def test_the_periodic_task_fans_out_one_task_per_enabled_account_and_region(estate):
    AwsAccount.objects.create(name="retired", account_id="444444444444", regions=["eu-west-1"], enabled=False)
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    try:
        with count_aws_calls() as calls:
            tasks.catalog_discover_all()
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous

    # 2 accounts x 2 regions, each listed once: as many pages as listing each of them takes.
    with count_aws_calls() as listing:
        for account in AwsAccount.objects.filter(enabled=True):
            for region in account.regions:
                tagged_resources(account, region)
    assert calls[("resourcegroupstaggingapi", "GetResources")] == listing[("resourcegroupstaggingapi", "GetResources")]
    assert listing[("resourcegroupstaggingapi", "GetResources")] < 10
    assert sorted(DiscoveryRun.objects.values_list("account__name", "region", "status")) == [
        ("meridian-payments", "eu-west-1", "ok"),
        ("meridian-payments", "us-east-1", "ok"),
        ("meridian-prod", "eu-west-1", "ok"),
        ("meridian-prod", "us-east-1", "ok"),
    ]


def test_a_missing_or_disabled_account_is_skipped(db):
    with count_aws_calls() as calls:
        tasks.catalog_discover(424242, "eu-west-1")

    assert calls.total == 0 and not DiscoveryRun.objects.exists()
