"""The observability gateway: CloudWatch GetMetricData and DescribeAlarms, and the two lookups for dimensions.

Batched and paged to the APIs' limits:

- GetMetricData: at most 500 queries and 100,800 datapoints a call, so a call carries
  min(500, 100,800 // datapoints-a-series) queries; every call goes to one client of the account
  and region (`metric_data` is called once per account and region). Only GetMetricData reads
  metrics: GetMetricStatistics would cost a call per metric.
- DescribeAlarms: 100 alarms a page (MaxRecords' maximum), metric alarms only.
- DescribeTargetGroups: 400 a page (PageSize's maximum), every target group of the region, for
  their load balancers.
- GetRestApis: 500 a page (limit's maximum), for the REST APIs' names.

It returns plain dataclasses and raises portal.aws.errors.AwsError subclasses.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from portal.aws.clients import Timeouts, client
from portal.aws.errors import aws_errors

MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800
ALARMS_PAGE_SIZE = 100
TARGET_GROUPS_PAGE_SIZE = 400
REST_APIS_PAGE_SIZE = 500


@dataclass(frozen=True)
class MetricStatQuery:
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str


@dataclass(frozen=True)
class MetricSeries:
    timestamps: tuple[datetime, ...]  # oldest first
    values: tuple[float, ...]
    status: str = "Complete"  # or PartialData, Forbidden, InternalError (per query)
    message: str = ""


def queries_per_call(points_per_series: int) -> int:
    """How many queries one GetMetricData call may carry when each series has `points_per_series` datapoints."""
    return max(1, min(MAX_QUERIES_PER_CALL, MAX_DATAPOINTS_PER_CALL // max(points_per_series, 1)))


def batches(count: int, points_per_series: int) -> list[range]:
    """The index ranges of `count` queries, one per GetMetricData call."""
    size = queries_per_call(points_per_series)
    return [range(i, min(i + size, count)) for i in range(0, count, size)]


def metric_data(
    account,
    region: str,
    queries: Sequence[MetricStatQuery],
    *,
    start: datetime,
    end: datetime,
    period: int,
    timeouts: Timeouts | None = None,
) -> list[MetricSeries]:
    """The series of `queries` (one account and region) over [start, end), in the same order.

    `period` must make `(end - start) / period` datapoints a series; the calls are split so none
    exceeds 500 queries or 100,800 datapoints. Raises AwsError; nothing partial is returned.
    """
    points = max(1, int((end - start).total_seconds() // period))
    results: list[MetricSeries] = []
    with aws_errors(account=account, service="cloudwatch"):
        cloudwatch = client("cloudwatch", account=account, region=region, timeouts=timeouts)
        for batch in batches(len(queries), points):
            results.extend(_one_call(cloudwatch, [queries[i] for i in batch], start, end, period))
    return results


def _one_call(cloudwatch, queries: list[MetricStatQuery], start, end, period) -> list[MetricSeries]:
    request = {
        "MetricDataQueries": [
            {
                "Id": f"q{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": q.namespace,
                        "MetricName": q.metric,
                        "Dimensions": [{"Name": n, "Value": v} for n, v in q.dimensions],
                    },
                    "Period": period,
                    "Stat": q.stat,
                },
                "ReturnData": True,
            }
            for i, q in enumerate(queries)
        ],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }
    found: dict[str, tuple[list, list, str, str]] = {}
    while True:
        # A NextToken only comes when an answer outgrows the datapoint limit, which the batching prevents;
        # following it anyway keeps a surprise from losing data (each page is a call, and is counted).
        answer = cloudwatch.get_metric_data(**request)
        for result in answer.get("MetricDataResults", []):
            stamps, values, _, _ = found.setdefault(result["Id"], ([], [], "", ""))
            stamps.extend(result.get("Timestamps", []))
            values.extend(result.get("Values", []))
            messages = "; ".join(m.get("Value", "") for m in result.get("Messages", []) if m.get("Value"))
            found[result["Id"]] = (stamps, values, result.get("StatusCode", "Complete"), messages)
        token = answer.get("NextToken")
        if not token:
            break
        request["NextToken"] = token
    return [_series(*found.get(f"q{i}", ([], [], "Complete", ""))) for i in range(len(queries))]


def _series(stamps: list, values: list, status: str, message: str) -> MetricSeries:
    pairs = sorted(zip((_utc(s) for s in stamps), (float(v) for v in values), strict=False))
    return MetricSeries(
        timestamps=tuple(p[0] for p in pairs), values=tuple(p[1] for p in pairs), status=status, message=message
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- alarms ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlarmInfo:
    name: str
    arn: str
    namespace: str
    metric_name: str
    dimensions: dict[str, str]
    statistic: str
    period: int | None
    evaluation_periods: int | None
    threshold: float | None
    comparison_operator: str
    unit: str
    state: str
    state_reason: str
    state_updated_at: datetime | None


def describe_alarms(account, region: str) -> list[AlarmInfo]:
    """Every metric alarm of the account and region (composite alarms watch alarms, not metrics)."""
    found = []
    with aws_errors(account=account, service="cloudwatch"):
        cloudwatch = client("cloudwatch", account=account, region=region)
        pages = cloudwatch.get_paginator("describe_alarms").paginate(
            AlarmTypes=["MetricAlarm"], PaginationConfig={"PageSize": ALARMS_PAGE_SIZE}
        )
        for page in pages:
            found.extend(_alarm(raw) for raw in page.get("MetricAlarms", []))
    return found


def _alarm(raw: dict) -> AlarmInfo:
    namespace, metric, dimensions, statistic = (
        raw.get("Namespace", ""),
        raw.get("MetricName", ""),
        raw.get("Dimensions") or [],
        raw.get("Statistic") or raw.get("ExtendedStatistic") or "",
    )
    period = raw.get("Period")
    if not metric:
        # A metric-math alarm: it is matched on its first metric (the one its expression is built on).
        stat = next((m["MetricStat"] for m in raw.get("Metrics") or [] if m.get("MetricStat")), None)
        if stat:
            namespace = stat["Metric"].get("Namespace", "")
            metric = stat["Metric"].get("MetricName", "")
            dimensions = stat["Metric"].get("Dimensions") or []
            statistic = stat.get("Stat", "")
            period = stat.get("Period")
    updated = raw.get("StateUpdatedTimestamp")
    return AlarmInfo(
        name=raw["AlarmName"],
        arn=raw["AlarmArn"],
        namespace=namespace,
        metric_name=metric,
        dimensions={d["Name"]: d.get("Value", "") for d in dimensions},
        statistic=statistic,
        period=period,
        evaluation_periods=raw.get("EvaluationPeriods"),
        threshold=raw.get("Threshold"),
        comparison_operator=raw.get("ComparisonOperator", ""),
        unit=raw.get("Unit", "") or "",
        state=raw.get("StateValue", "INSUFFICIENT_DATA"),
        state_reason=raw.get("StateReason", "") or "",
        state_updated_at=_utc(updated) if updated else None,
    )


# --- dimensions no ARN holds ----------------------------------------------------------------------------------


def target_group_load_balancers(account, region: str) -> dict[str, list[str]]:
    """Target group ARN -> the ARNs of the load balancers that route to it, for every target group of the region."""
    found: dict[str, list[str]] = {}
    with aws_errors(account=account, service="elbv2"):
        elbv2 = client("elbv2", account=account, region=region)
        pages = elbv2.get_paginator("describe_target_groups").paginate(
            PaginationConfig={"PageSize": TARGET_GROUPS_PAGE_SIZE}
        )
        for page in pages:
            for group in page.get("TargetGroups", []):
                found[group["TargetGroupArn"]] = sorted(group.get("LoadBalancerArns") or [])
    return found


def rest_api_names(account, region: str) -> dict[str, str]:
    """REST API id -> name, for every REST API of the region."""
    found: dict[str, str] = {}
    with aws_errors(account=account, service="apigateway"):
        apigateway = client("apigateway", account=account, region=region)
        pages = apigateway.get_paginator("get_rest_apis").paginate(PaginationConfig={"PageSize": REST_APIS_PAGE_SIZE})
        for page in pages:
            for api in page.get("items", []):
                found[api["id"]] = api.get("name", "")
    return found
