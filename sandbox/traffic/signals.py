"""The golden signals of each resource type, as the observability contract fixes them.

One table, read by the seed (alarms on exactly these metrics and dimensions) and by the
generator (what it puts). The readers in observability/ follow the same contract
(/work/notes/obs-contract.md, summarised in docs/sandbox.md).

Kinds of signal, and how the generator puts them:
- `count`: one `Value` a datapoint, the number of things in its period (Sum);
- `gauge`: `StatisticValues` (SampleCount, Sum, Minimum, Maximum) of one reading a minute,
  so Average and Maximum are both right for any period;
- `latency`: `Values` + `Counts`, a summary of the distribution (see metrics.py), so
  percentiles can be answered from what is stored.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Signal:
    namespace: str
    metric: str
    unit: str
    kind: str  # count | gauge | latency


def _signals(namespace: str, *rows: tuple[str, str, str]) -> dict[str, Signal]:
    return {metric: Signal(namespace, metric, unit, kind) for metric, unit, kind in rows}


# Resource type (the catalog's Resource spec.type) -> metric name -> Signal.
SIGNALS: dict[str, dict[str, Signal]] = {
    "ecs-service": _signals(
        "AWS/ECS", ("CPUUtilization", "Percent", "gauge"), ("MemoryUtilization", "Percent", "gauge")
    ),
    "target-group": _signals(
        "AWS/ApplicationELB",
        ("RequestCount", "Count", "count"),
        ("HTTPCode_Target_5XX_Count", "Count", "count"),
        ("TargetResponseTime", "Seconds", "latency"),
    ),
    "lambda-function": _signals(
        "AWS/Lambda",
        ("Invocations", "Count", "count"),
        ("Errors", "Count", "count"),
        ("Throttles", "Count", "count"),
        ("Duration", "Milliseconds", "latency"),
        ("ConcurrentExecutions", "Count", "gauge"),
    ),
    "api-gateway": _signals(
        "AWS/ApiGateway",
        ("Count", "Count", "count"),
        ("4XXError", "Count", "count"),
        ("5XXError", "Count", "count"),
        ("Latency", "Milliseconds", "latency"),
    ),
    "dynamodb-table": _signals(
        "AWS/DynamoDB",
        ("ConsumedReadCapacityUnits", "Count", "count"),
        ("ConsumedWriteCapacityUnits", "Count", "count"),
        ("ThrottledRequests", "Count", "count"),
    ),
    "sqs-queue": _signals(
        "AWS/SQS",
        ("ApproximateNumberOfMessagesVisible", "Count", "gauge"),
        ("ApproximateAgeOfOldestMessage", "Seconds", "gauge"),
    ),
    "state-machine": _signals(
        "AWS/States",
        ("ExecutionsStarted", "Count", "count"),
        ("ExecutionsSucceeded", "Count", "count"),
        ("ExecutionsFailed", "Count", "count"),
        ("ExecutionTime", "Milliseconds", "latency"),
    ),
}


def signal(resource_type: str, metric: str) -> Signal:
    try:
        return SIGNALS[resource_type][metric]
    except KeyError:
        raise ValueError(f"{resource_type} has no golden signal {metric!r} in the observability contract") from None


def arn_suffix(arn: str) -> str:
    """What ALB metrics name a load balancer or target group by: `app/<name>/<id>`, `targetgroup/<name>/<id>`."""
    resource = arn.split(":", 5)[5]
    return resource.removeprefix("loadbalancer/")


def dimensions(resource_type: str, ids: dict[str, str]) -> list[dict[str, str]]:
    """The contract's dimensions of one resource.

    `ids` names it: ecs-service {cluster, service}; target-group {target_group_arn,
    load_balancer_arn}; lambda-function {function}; api-gateway {api}; dynamodb-table
    {table}; sqs-queue {queue}; state-machine {state_machine_arn}.
    """
    match resource_type:
        case "ecs-service":
            pairs = [("ClusterName", ids["cluster"]), ("ServiceName", ids["service"])]
        case "target-group":
            pairs = [
                ("TargetGroup", arn_suffix(ids["target_group_arn"])),
                ("LoadBalancer", arn_suffix(ids["load_balancer_arn"])),
            ]
        case "lambda-function":
            pairs = [("FunctionName", ids["function"])]
        case "api-gateway":
            pairs = [("ApiName", ids["api"])]
        case "dynamodb-table":
            pairs = [("TableName", ids["table"])]
        case "sqs-queue":
            pairs = [("QueueName", ids["queue"])]
        case "state-machine":
            pairs = [("StateMachineArn", ids["state_machine_arn"])]
        case _:
            raise ValueError(f"no golden signals for resource type {resource_type!r}")
    return [{"Name": name, "Value": value} for name, value in pairs]
