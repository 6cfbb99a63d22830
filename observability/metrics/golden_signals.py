"""The golden-signal table: for each AWS resource type, which CloudWatch metrics show its traffic, errors,
latency and saturation, with which statistics and dimensions.

One table, so the Metrics tab, the dashboards, the alarm matching and the scorecard rule all read the
same thing. It is the contract between the sandbox (what it emits) and the portal (what it asks for):
/work/notes/obs-contract.md, reproduced in docs/observability.md. Resource types are the catalog's
Resource `spec.type` (catalog/discovery.py).

`dashboard` marks the one series per signal a team or system dashboard draws for a service (its
priority: the first resource type of RESOURCE_SIGNALS, in table order, that has the signal), so a
dashboard asks for at most four series a service, not every metric of every resource.
"""

from dataclasses import dataclass

TRAFFIC = "traffic"
ERRORS = "errors"
LATENCY = "latency"
SATURATION = "saturation"
OTHER = "other"  # metrics added by the annotation
SIGNALS = (TRAFFIC, ERRORS, LATENCY, SATURATION)
SIGNAL_LABELS = {
    TRAFFIC: "Traffic",
    ERRORS: "Errors",
    LATENCY: "Latency",
    SATURATION: "Saturation",
    OTHER: "More metrics",
}


@dataclass(frozen=True)
class SignalMetric:
    signal: str
    metric: str
    stats: tuple[str, ...]
    unit: str  # CloudWatch's unit name: Percent, Count, Milliseconds, Seconds
    dashboard: str = ""  # the statistic a dashboard draws for this signal, if this is its series


@dataclass(frozen=True)
class ResourceSignals:
    resource_type: str  # the Resource's spec.type
    namespace: str
    dimensions: tuple[str, ...]  # the dimension names that identify one resource
    metrics: tuple[SignalMetric, ...]


RESOURCE_SIGNALS: tuple[ResourceSignals, ...] = (
    ResourceSignals(
        "target-group",
        "AWS/ApplicationELB",
        ("TargetGroup", "LoadBalancer"),
        (
            SignalMetric(TRAFFIC, "RequestCount", ("Sum",), "Count", dashboard="Sum"),
            SignalMetric(ERRORS, "HTTPCode_Target_5XX_Count", ("Sum",), "Count", dashboard="Sum"),
            SignalMetric(LATENCY, "TargetResponseTime", ("Average", "p50", "p99"), "Seconds", dashboard="p99"),
        ),
    ),
    ResourceSignals(
        "api-gateway",
        "AWS/ApiGateway",
        ("ApiName",),
        (
            SignalMetric(TRAFFIC, "Count", ("Sum",), "Count", dashboard="Sum"),
            SignalMetric(ERRORS, "4XXError", ("Sum",), "Count"),
            SignalMetric(ERRORS, "5XXError", ("Sum",), "Count", dashboard="Sum"),
            SignalMetric(LATENCY, "Latency", ("p99",), "Milliseconds", dashboard="p99"),
        ),
    ),
    ResourceSignals(
        "lambda-function",
        "AWS/Lambda",
        ("FunctionName",),
        (
            SignalMetric(TRAFFIC, "Invocations", ("Sum",), "Count", dashboard="Sum"),
            SignalMetric(ERRORS, "Errors", ("Sum",), "Count", dashboard="Sum"),
            SignalMetric(LATENCY, "Duration", ("p50", "p99"), "Milliseconds", dashboard="p99"),
            SignalMetric(SATURATION, "Throttles", ("Sum",), "Count"),
            SignalMetric(SATURATION, "ConcurrentExecutions", ("Maximum",), "Count", dashboard="Maximum"),
        ),
    ),
    ResourceSignals(
        "state-machine",
        "AWS/States",
        ("StateMachineArn",),
        (
            SignalMetric(TRAFFIC, "ExecutionsStarted", ("Sum",), "Count", dashboard="Sum"),
            SignalMetric(TRAFFIC, "ExecutionsSucceeded", ("Sum",), "Count"),
            SignalMetric(ERRORS, "ExecutionsFailed", ("Sum",), "Count", dashboard="Sum"),
            SignalMetric(LATENCY, "ExecutionTime", ("Average", "p99"), "Milliseconds", dashboard="p99"),
        ),
    ),
    ResourceSignals(
        "ecs-service",
        "AWS/ECS",
        ("ClusterName", "ServiceName"),
        (
            SignalMetric(SATURATION, "CPUUtilization", ("Average", "Maximum"), "Percent", dashboard="Maximum"),
            SignalMetric(SATURATION, "MemoryUtilization", ("Average", "Maximum"), "Percent"),
        ),
    ),
    ResourceSignals(
        "sqs-queue",
        "AWS/SQS",
        ("QueueName",),
        (
            SignalMetric(SATURATION, "ApproximateNumberOfMessagesVisible", ("Maximum",), "Count", dashboard="Maximum"),
            SignalMetric(LATENCY, "ApproximateAgeOfOldestMessage", ("Maximum",), "Seconds", dashboard="Maximum"),
        ),
    ),
    ResourceSignals(
        "dynamodb-table",
        "AWS/DynamoDB",
        ("TableName",),
        (
            SignalMetric(TRAFFIC, "ConsumedReadCapacityUnits", ("Sum",), "Count", dashboard="Sum"),
            SignalMetric(TRAFFIC, "ConsumedWriteCapacityUnits", ("Sum",), "Count"),
            # Real AWS publishes ThrottledRequests per TableName *and Operation*; the sandbox emits it with
            # TableName only, which is what this asks for (docs/observability.md, "ThrottledRequests").
            SignalMetric(SATURATION, "ThrottledRequests", ("Sum",), "Count", dashboard="Sum"),
        ),
    ),
)

BY_TYPE: dict[str, ResourceSignals] = {row.resource_type: row for row in RESOURCE_SIGNALS}
BY_NAMESPACE: dict[str, ResourceSignals] = {row.namespace: row for row in RESOURCE_SIGNALS}
TYPE_PRIORITY: dict[str, int] = {row.resource_type: i for i, row in enumerate(RESOURCE_SIGNALS)}


def signals_for(resource_type: str) -> ResourceSignals | None:
    return BY_TYPE.get(resource_type)


def is_golden_metric(namespace: str, metric: str) -> bool:
    row = BY_NAMESPACE.get(namespace)
    return row is not None and any(m.metric == metric for m in row.metrics)
