"""The golden-signal table is the contract's table (/work/notes/obs-contract.md, docs/observability.md), and every
row can be turned into dimensions from what the catalog knows."""

import pytest

from observability.metrics.dimensions import DimensionsUnknown, ResourceRef, alarm_resource_arn, metric_dimensions
from observability.metrics.golden_signals import RESOURCE_SIGNALS, SIGNALS, signals_for
from tests.observability.estate import (
    ACCOUNT,
    REGION,
    ecs_arn,
    lambda_arn,
    queue_arn,
    rest_api_arn,
    state_machine_arn,
    table_arn,
    target_group_arn,
)

# The contract, written out: type -> (namespace, {metric: stats}, dimension names).
CONTRACT = {
    "ecs-service": (
        "AWS/ECS",
        {"CPUUtilization": ("Average", "Maximum"), "MemoryUtilization": ("Average", "Maximum")},
        ("ClusterName", "ServiceName"),
    ),
    "target-group": (
        "AWS/ApplicationELB",
        {
            "RequestCount": ("Sum",),
            "HTTPCode_Target_5XX_Count": ("Sum",),
            "TargetResponseTime": ("Average", "p50", "p99"),
        },
        ("TargetGroup", "LoadBalancer"),
    ),
    "lambda-function": (
        "AWS/Lambda",
        {
            "Invocations": ("Sum",),
            "Errors": ("Sum",),
            "Throttles": ("Sum",),
            "Duration": ("p50", "p99"),
            "ConcurrentExecutions": ("Maximum",),
        },
        ("FunctionName",),
    ),
    "api-gateway": (
        "AWS/ApiGateway",
        {"Count": ("Sum",), "4XXError": ("Sum",), "5XXError": ("Sum",), "Latency": ("p99",)},
        ("ApiName",),
    ),
    "dynamodb-table": (
        "AWS/DynamoDB",
        {"ConsumedReadCapacityUnits": ("Sum",), "ConsumedWriteCapacityUnits": ("Sum",), "ThrottledRequests": ("Sum",)},
        ("TableName",),
    ),
    "sqs-queue": (
        "AWS/SQS",
        {"ApproximateNumberOfMessagesVisible": ("Maximum",), "ApproximateAgeOfOldestMessage": ("Maximum",)},
        ("QueueName",),
    ),
    "state-machine": (
        "AWS/States",
        {
            "ExecutionsStarted": ("Sum",),
            "ExecutionsSucceeded": ("Sum",),
            "ExecutionsFailed": ("Sum",),
            "ExecutionTime": ("Average", "p99"),
        },
        ("StateMachineArn",),
    ),
}
UNITS = {
    "TargetResponseTime": "Seconds",
    "ApproximateAgeOfOldestMessage": "Seconds",
    "Duration": "Milliseconds",
    "Latency": "Milliseconds",
    "ExecutionTime": "Milliseconds",
    "CPUUtilization": "Percent",
    "MemoryUtilization": "Percent",
}


def test_the_table_is_the_contracts_table():
    table = {
        row.resource_type: (row.namespace, {m.metric: m.stats for m in row.metrics}, row.dimensions)
        for row in RESOURCE_SIGNALS
    }
    assert table == CONTRACT
    for row in RESOURCE_SIGNALS:
        for metric in row.metrics:
            assert metric.unit == UNITS.get(metric.metric, "Count"), metric.metric
            assert metric.signal in SIGNALS


def test_a_dashboard_draws_at_most_one_series_per_signal_of_a_resource_and_with_one_of_its_statistics():
    for row in RESOURCE_SIGNALS:
        chosen = [m for m in row.metrics if m.dashboard]
        assert len({m.signal for m in chosen}) == len(chosen), row.resource_type
        assert all(m.dashboard in m.stats for m in chosen)


def ref(resource_type: str, arn: str) -> ResourceRef:
    return ResourceRef(1, "r", "r", resource_type, arn, ACCOUNT, REGION)


TG = target_group_arn("orders-api", "7cf0c481273e3f51")
ALB = "app/shop/704950541ebef557"
API = rest_api_arn("a1b2c3")
CASES = [
    ("ecs-service", ecs_arn("commerce", "orders-api"), {}, {"ClusterName": "commerce", "ServiceName": "orders-api"}),
    ("target-group", TG, {TG: {"LoadBalancer": ALB}}, {"TargetGroup": TG.split(":", 5)[5], "LoadBalancer": ALB}),
    ("lambda-function", lambda_arn("fraud-score"), {}, {"FunctionName": "fraud-score"}),
    ("api-gateway", API, {API: {"ApiName": "storefront"}}, {"ApiName": "storefront"}),
    ("dynamodb-table", table_arn("orders"), {}, {"TableName": "orders"}),
    ("sqs-queue", queue_arn("shipping-requests"), {}, {"QueueName": "shipping-requests"}),
    ("state-machine", state_machine_arn("order-saga"), {}, {"StateMachineArn": state_machine_arn("order-saga")}),
]


@pytest.mark.parametrize(("resource_type", "arn", "lookups", "expected"), CASES)
def test_dimensions_of_every_type_and_the_alarm_on_them_names_the_same_resource(resource_type, arn, lookups, expected):
    dimensions = metric_dimensions(ref(resource_type, arn), lookups)

    assert dimensions == expected
    assert tuple(dimensions) == signals_for(resource_type).dimensions  # in the contract's order (see panels._dims)
    back = alarm_resource_arn(
        account_id=ACCOUNT,
        region=REGION,
        namespace=signals_for(resource_type).namespace,
        dimensions={**dimensions, "Operation": "PutItem", "Stage": "prod"},  # extra dimensions narrow, same resource
        api_ids={"storefront": "a1b2c3"},
    )
    assert back == arn


def test_dimensions_that_are_not_known_yet_say_why():
    with pytest.raises(DimensionsUnknown, match="load balancer of target group orders-api is not known yet"):
        metric_dimensions(ref("target-group", TG), {})
    with pytest.raises(DimensionsUnknown, match="name of REST API a1b2c3 is not known yet"):
        metric_dimensions(ref("api-gateway", rest_api_arn("a1b2c3")), {})
    with pytest.raises(DimensionsUnknown, match="old-format ECS service ARN"):
        metric_dimensions(ref("ecs-service", f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/orders-api"), {})
    # An HTTP API is measured by its id, which its ARN holds.
    assert metric_dimensions(ref("api-gateway", f"arn:aws:apigateway:{REGION}::/apis/xyz9"), {}) == {"ApiId": "xyz9"}


def test_an_alarm_on_a_metric_of_no_known_resource_matches_nothing():
    assert (
        alarm_resource_arn(account_id=ACCOUNT, region=REGION, namespace="Custom/App", dimensions={}, api_ids={}) == ""
    )
    unknown_api = {"ApiName": "nobody"}
    assert (
        alarm_resource_arn(
            account_id=ACCOUNT, region=REGION, namespace="AWS/ApiGateway", dimensions=unknown_api, api_ids={}
        )
        == ""
    )
