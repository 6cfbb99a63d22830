"""The gateway: GetMetricData batched to its limits (500 queries, 100,800 datapoints a call), answers mapped back
to their queries, and DescribeAlarms read in full. Real boto3 calls against moto, counted by the client factory."""

from datetime import UTC, datetime, timedelta

import pytest

from observability.metrics import aws as gateway
from observability.metrics.aws import MetricStatQuery
from observability.timeranges import CHART_RANGES
from portal.aws.accounting import count_aws_calls
from tests.observability.conftest import put_alarm, put_points
from tests.observability.estate import REGION

pytestmark = pytest.mark.django_db


def queries(count: int) -> list[MetricStatQuery]:
    return [MetricStatQuery("AWS/Lambda", "Invocations", (("FunctionName", f"fn-{i}"),), "Sum") for i in range(count)]


def get(account, count: int, range_key: str = "1h"):
    window = CHART_RANGES.preset(range_key)
    with count_aws_calls() as calls:
        series = gateway.metric_data(
            account, REGION, queries(count), start=window.start, end=window.end, period=window.period
        )
    assert len(series) == count
    return calls[("cloudwatch", "GetMetricData")]


@pytest.mark.parametrize(("count", "calls"), [(1, 1), (50, 1), (500, 1), (501, 2), (1000, 2), (1001, 3)])
def test_one_call_carries_up_to_500_queries(aws, account, count, calls):
    assert get(account, count) == calls


def test_over_7_days_the_datapoint_limit_splits_the_calls_sooner(aws, account):
    # 7 d at 1800 s = 336 datapoints a series; 100,800 // 336 = 300 queries a call.
    assert get(account, 300, "7d") == 1
    assert get(account, 301, "7d") == 2
    assert get(account, 301, "1h") == 1  # the same queries over an hour fit one call
    assert get(account, 501, "7d") == 2
    assert get(account, 901, "7d") == 4


def test_answers_come_back_to_their_queries_across_calls(aws, account):
    for name, values in (("fn-0", [1, 2, 3]), ("fn-499", [10]), ("fn-500", [7, 8])):
        put_points("AWS/Lambda", "Invocations", {"FunctionName": name}, values)
    window = CHART_RANGES.preset("1h")

    series = gateway.metric_data(
        account, REGION, queries(501), start=window.start, end=window.end, period=window.period
    )

    assert series[0].values == (1.0, 2.0, 3.0)
    assert series[499].values == (10.0,)
    assert series[500].values == (7.0, 8.0)
    assert series[1].values == () and series[1].status == "Complete"
    assert all(t.tzinfo is not None for t in series[0].timestamps)
    assert list(series[0].timestamps) == sorted(series[0].timestamps)


def test_batches_are_index_ranges_within_both_limits():
    assert [len(b) for b in gateway.batches(1201, 60)] == [500, 500, 201]
    assert [len(b) for b in gateway.batches(700, 336)] == [300, 300, 100]
    assert gateway.queries_per_call(200_000) == 1  # never zero, whatever the points


def test_describe_alarms_reads_every_metric_alarm_with_its_metric_threshold_and_state(aws, account):
    for i in range(120):
        put_alarm(f"fn-{i} errors", "AWS/Lambda", "Errors", {"FunctionName": f"fn-{i}"}, threshold=5)
    put_alarm("fn-0 p99", "AWS/Lambda", "Duration", {"FunctionName": "fn-0"}, threshold=800, stat="p99")

    with count_aws_calls() as calls:
        alarms = gateway.describe_alarms(account, REGION)

    # moto 5.2.5 answers every alarm in one page whatever MaxRecords says; AWS would page them 100 at a time.
    assert calls[("cloudwatch", "DescribeAlarms")] >= 1
    assert len(alarms) == 121
    p99 = next(a for a in alarms if a.name == "fn-0 p99")
    assert (p99.namespace, p99.metric_name, p99.dimensions, p99.statistic, p99.threshold) == (
        "AWS/Lambda",
        "Duration",
        {"FunctionName": "fn-0"},
        "p99",
        800.0,
    )
    assert p99.state == "OK" or p99.state == "INSUFFICIENT_DATA"
    assert p99.state_updated_at.tzinfo is not None and p99.state_updated_at <= datetime.now(UTC) + timedelta(seconds=5)
