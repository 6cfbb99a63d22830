"""CloudWatch metrics in the sandbox: percentiles, exact series, GetMetricData's limits and pages, ListMetrics."""

import json
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sandbox.server import reset

NAMESPACE = "AWS/Lambda"
ORDERS = [{"Name": "FunctionName", "Value": "orders-api"}]


def recent_hour(hours_ago: int = 3) -> datetime:
    """A whole hour a few hours back: inside the 15 days in which CloudWatch keeps minute periods."""
    now = datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_ago)


def put(cw, name="Duration", dimensions=ORDERS, namespace=NAMESPACE, **member):
    cw.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": name, "Dimensions": dimensions, **member}])


def stat_query(query_id, stat, period=60, name="Duration", dimensions=ORDERS, namespace=NAMESPACE, **extra):
    metric = {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions}
    return {"Id": query_id, "MetricStat": {"Metric": metric, "Period": period, "Stat": stat}, **extra}


def series_of(cw, queries, start, end, **kwargs):
    """Every page of a GetMetricData call merged by Id: {id: [(timestamp, value), ...]} in the order answered."""
    merged: dict[str, list] = {}
    while True:
        answer = cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end, **kwargs)
        for result in answer["MetricDataResults"]:
            merged.setdefault(result["Id"], []).extend(zip(result["Timestamps"], result["Values"], strict=True))
        if not answer.get("NextToken"):
            return merged
        kwargs["NextToken"] = answer["NextToken"]


def values_of(cw, queries, start, end, **kwargs):
    return {key: [value for _, value in points] for key, points in series_of(cw, queries, start, end, **kwargs).items()}


@pytest.fixture
def cw(aws):
    return aws("cloudwatch")


@pytest.fixture
def latency(cw):
    """Three minutes of Duration put three ways; the expected statistics are worked out by hand below."""
    base = recent_hour()
    # Minute 1: the values 1..100 once each.
    put(cw, Timestamp=base + timedelta(seconds=10), Values=[float(v) for v in range(1, 101)], Unit="Milliseconds")
    # Minute 2: 90 requests of 10 ms, 9 of 20 ms, 1 of 1000 ms (a value with count 90 weighs 90).
    put(
        cw,
        Timestamp=base + timedelta(seconds=70),
        Values=[10.0, 20.0, 1000.0],
        Counts=[90.0, 9.0, 1.0],
        Unit="Milliseconds",
    )
    # Minute 3: three single Values and a Values list without Counts: samples 1, 2, 5, 5, 5.
    for second in (121, 122, 123):
        put(cw, Timestamp=base + timedelta(seconds=second), Value=5.0, Unit="Milliseconds")
    put(cw, Timestamp=base + timedelta(seconds=130), Values=[1.0, 2.0], Unit="Milliseconds")
    return base


def test_percentiles_are_nearest_rank_over_every_sample_of_the_period(cw, latency):
    stats = ["p50", "p90", "p91", "p99", "p99.5", "p99.9", "p100", "p0"]
    queries = [stat_query(f"q{n}", stat) for n, stat in enumerate(stats)]

    answered = values_of(cw, queries, latency, latency + timedelta(minutes=3), ScanBy="TimestampAscending")

    by_stat = {stat: answered[f"q{n}"] for n, stat in enumerate(stats)}
    # Minute 1 (1..100): rank ceil(p x 100). Minute 2 (10 x90, 20 x9, 1000 x1). Minute 3 (1, 2, 5, 5, 5).
    assert by_stat == {
        "p50": [50.0, 10.0, 5.0],
        "p90": [90.0, 10.0, 5.0],
        "p91": [91.0, 20.0, 5.0],
        "p99": [99.0, 20.0, 5.0],
        "p99.5": [100.0, 1000.0, 5.0],
        "p99.9": [100.0, 1000.0, 5.0],
        "p100": [100.0, 1000.0, 5.0],
        "p0": [1.0, 10.0, 1.0],
    }


def test_the_other_statistics_weigh_values_by_their_counts(cw, latency):
    stats = ["Sum", "SampleCount", "Average", "Minimum", "Maximum"]
    queries = [stat_query(stat.lower(), stat) for stat in stats]

    answered = series_of(cw, queries, latency, latency + timedelta(minutes=3), ScanBy="TimestampAscending")

    minutes = [latency + timedelta(minutes=m) for m in range(3)]
    assert {key: [t for t, _ in points] for key, points in answered.items()} == {s.lower(): minutes for s in stats}
    assert {key: [v for _, v in points] for key, points in answered.items()} == {
        "sum": [5050.0, 900.0 + 180.0 + 1000.0, 18.0],
        "samplecount": [100.0, 100.0, 5.0],
        "average": [50.5, 20.8, 3.6],
        "minimum": [1.0, 10.0, 1.0],
        "maximum": [100.0, 1000.0, 5.0],
    }


def test_a_statistic_set_has_a_percentile_only_when_its_samples_are_equal(cw):
    base = recent_hour()
    # Minute 1: a set of 4 different samples (no distribution); minute 2: 3 samples of 7.
    put(cw, Timestamp=base, StatisticValues={"SampleCount": 4, "Sum": 40, "Minimum": 5, "Maximum": 20})
    put(
        cw,
        Timestamp=base + timedelta(minutes=1),
        StatisticValues={"SampleCount": 3, "Sum": 21, "Minimum": 7, "Maximum": 7},
    )
    end = base + timedelta(minutes=2)

    answered = series_of(cw, [stat_query("p", "p99"), stat_query("s", "Sum")], base, end, ScanBy="TimestampAscending")
    statistics = cw.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="Duration",
        Dimensions=ORDERS,
        StartTime=base,
        EndTime=end,
        Period=60,
        ExtendedStatistics=["p99"],
    )["Datapoints"]

    assert answered == {
        "p": [(base + timedelta(minutes=1), 7.0)],
        "s": [(base, 40.0), (base + timedelta(minutes=1), 21.0)],
    }
    assert [(d["Timestamp"], d.get("ExtendedStatistics")) for d in statistics] == [
        (base + timedelta(minutes=1), {"p99": 7.0})
    ]


def test_get_metric_statistics_answers_extended_statistics_per_period(cw, latency):
    common = {
        "Namespace": NAMESPACE,
        "MetricName": "Duration",
        "Dimensions": ORDERS,
        "StartTime": latency,
        "EndTime": latency + timedelta(minutes=3),
        "Period": 60,
    }

    extended = cw.get_metric_statistics(ExtendedStatistics=["p50", "p99"], **common)
    basic = cw.get_metric_statistics(Statistics=["SampleCount", "Sum", "Maximum"], **common)
    with pytest.raises(ClientError) as both:
        cw.get_metric_statistics(Statistics=["Sum"], ExtendedStatistics=["p99"], **common)

    assert extended["Label"] == "Duration"
    assert [(d["Timestamp"], d["ExtendedStatistics"], d["Unit"]) for d in extended["Datapoints"]] == [
        (latency, {"p50": 50.0, "p99": 99.0}, "Milliseconds"),
        (latency + timedelta(minutes=1), {"p50": 10.0, "p99": 20.0}, "Milliseconds"),
        (latency + timedelta(minutes=2), {"p50": 5.0, "p99": 5.0}, "Milliseconds"),
    ]
    assert [(d["SampleCount"], d["Sum"], d["Maximum"], "Average" in d) for d in basic["Datapoints"]] == [
        (100.0, 5050.0, 100.0, False),
        (100.0, 2080.0, 1000.0, False),
        (5.0, 18.0, 5.0, False),
    ]
    assert both.value.response["Error"]["Code"] == "InvalidParameterCombination"


def test_get_metric_statistics_periods_start_at_start_time_and_are_capped_at_1440(cw):
    base = recent_hour()
    put(cw, Timestamp=base + timedelta(minutes=7), Value=3.0)
    put(cw, Timestamp=base + timedelta(minutes=12), Value=4.0)

    datapoints = cw.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="Duration",
        Dimensions=ORDERS,
        StartTime=base,
        EndTime=base + timedelta(minutes=30),
        Period=600,
        Statistics=["Sum"],
    )["Datapoints"]
    with pytest.raises(ClientError) as too_many:
        cw.get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName="Duration",
            StartTime=base - timedelta(days=2),
            EndTime=base,
            Period=60,
            Statistics=["Sum"],
        )

    assert [(d["Timestamp"], d["Sum"]) for d in datapoints] == [(base, 3.0), (base + timedelta(minutes=10), 4.0)]
    assert too_many.value.response["Error"]["Code"] == "InvalidParameterCombination"
    assert too_many.value.response["Error"]["Message"].startswith(
        "You have requested up to 2880 datapoints, which exceeds the limit of 1440."
    )


def test_a_query_names_one_series_by_namespace_name_and_every_dimension(cw):
    base = recent_hour()
    both = [{"Name": "TargetGroup", "Value": "tg-1"}, {"Name": "LoadBalancer", "Value": "lb-1"}]
    put(cw, "RequestCount", both, "AWS/ApplicationELB", Timestamp=base, Value=1.0)
    put(cw, "RequestCount", both[:1], "AWS/ApplicationELB", Timestamp=base, Value=10.0)
    put(cw, "RequestCount", [], "AWS/ApplicationELB", Timestamp=base, Value=100.0)
    put(cw, "RequestCount", both, "Custom/Other", Timestamp=base, Value=1000.0)
    reordered = list(reversed(both))

    answered = values_of(
        cw,
        [
            stat_query("both", "Sum", name="RequestCount", dimensions=reordered, namespace="AWS/ApplicationELB"),
            stat_query("one", "Sum", name="RequestCount", dimensions=both[:1], namespace="AWS/ApplicationELB"),
            stat_query("none", "Sum", name="RequestCount", dimensions=[], namespace="AWS/ApplicationELB"),
            stat_query("absent", "Sum", name="RequestCount", dimensions=both[1:], namespace="AWS/ApplicationELB"),
        ],
        base,
        base + timedelta(minutes=1),
    )

    assert answered == {"both": [1.0], "one": [10.0], "none": [100.0], "absent": []}


def test_a_unit_in_the_query_keeps_only_datapoints_put_with_it(cw):
    base = recent_hour()
    put(cw, Timestamp=base, Value=2.0, Unit="Seconds")
    put(cw, Timestamp=base + timedelta(seconds=1), Value=500.0, Unit="Milliseconds")

    in_seconds = stat_query("seconds", "Sum")
    in_seconds["MetricStat"]["Unit"] = "Seconds"
    in_bytes = stat_query("bytes", "Sum")
    in_bytes["MetricStat"]["Unit"] = "Bytes"

    answered = values_of(cw, [in_seconds, in_bytes, stat_query("all", "Sum")], base, base + timedelta(minutes=1))

    assert answered == {"seconds": [2.0], "bytes": [], "all": [502.0]}


def test_scan_by_orders_timestamps(cw):
    base = recent_hour()
    for minute in range(3):
        put(cw, Timestamp=base + timedelta(minutes=minute), Value=float(minute))
    query = [stat_query("m", "Maximum")]
    end = base + timedelta(minutes=3)

    default = values_of(cw, query, base, end)
    ascending = values_of(cw, query, base, end, ScanBy="TimestampAscending")

    assert default == {"m": [2.0, 1.0, 0.0]}  # TimestampDescending, as in CloudWatch
    assert ascending == {"m": [0.0, 1.0, 2.0]}


def test_labels_default_to_the_metric_name_and_expand_properties(cw, latency):
    queries = [
        stat_query("plain", "p99"),
        stat_query("named", "p99", Label="orders latency"),
        stat_query("dynamic", "p99", Label="${PROP('Dim.FunctionName')} ${PROP('Stat')} over ${PROP('Period')}s"),
    ]

    results = cw.get_metric_data(MetricDataQueries=queries, StartTime=latency, EndTime=latency + timedelta(minutes=1))

    assert [(r["Id"], r["Label"], r["StatusCode"]) for r in results["MetricDataResults"]] == [
        ("plain", "Duration", "Complete"),
        ("named", "orders latency", "Complete"),
        ("dynamic", "orders-api p99 over 60s", "Complete"),
    ]


def test_metric_math_arithmetic_combines_series_at_shared_timestamps(cw):
    base = recent_hour()
    for minute, (errors, requests) in enumerate([(1.0, 10.0), (0.0, 20.0), (5.0, 0.0)]):
        put(cw, "Errors", Timestamp=base + timedelta(minutes=minute), Value=errors)
        put(cw, "Invocations", Timestamp=base + timedelta(minutes=minute), Value=requests)
    queries = [
        stat_query("errors", "Sum", name="Errors", ReturnData=False),
        stat_query("requests", "Sum", name="Invocations", ReturnData=False),
        {"Id": "rate", "Expression": "100 * errors / requests", "Label": "error rate"},
        {"Id": "total", "Expression": "SUM(METRICS())"},
    ]

    answer = cw.get_metric_data(
        MetricDataQueries=queries, StartTime=base, EndTime=base + timedelta(minutes=3), ScanBy="TimestampAscending"
    )
    with pytest.raises(ClientError) as unknown:
        cw.get_metric_data(
            MetricDataQueries=[{"Id": "bad", "Expression": "missing * 2"}],
            StartTime=base,
            EndTime=base + timedelta(minutes=3),
        )

    results = {r["Id"]: r for r in answer["MetricDataResults"]}
    assert set(results) == {"rate", "total"}  # ReturnData false is left out
    assert results["rate"]["Label"] == "error rate"
    # The third minute divides by zero: CloudWatch leaves that timestamp out.
    assert list(zip(results["rate"]["Timestamps"], results["rate"]["Values"], strict=True)) == [
        (base, 10.0),
        (base + timedelta(minutes=1), 0.0),
    ]
    assert results["total"]["StatusCode"] == "InternalError"
    assert "does not evaluate" in results["total"]["Messages"][0]["Value"]
    assert unknown.value.response["Error"]["Code"] == "ValidationError"


def test_more_than_500_queries_is_refused(cw):
    base = recent_hour()
    put(cw, Timestamp=base, Value=1.0)
    queries = [stat_query(f"q{n}", "Sum") for n in range(501)]

    with pytest.raises(ClientError) as raised:
        cw.get_metric_data(MetricDataQueries=queries, StartTime=base, EndTime=base + timedelta(minutes=1))
    at_limit = values_of(cw, queries[:500], base, base + timedelta(minutes=1))

    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert raised.value.response["Error"]["Message"] == (
        "The collection MetricDataQueries must not have a size greater than 500."
    )
    assert len(at_limit) == 500
    assert set(map(tuple, at_limit.values())) == {(1.0,)}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (stat_query("m", "Sum", period=61), "MetricStat.Period is invalid"),
        (
            stat_query("m", "Median"),
            "The value Median for parameter MetricDataQueries.member.1.MetricStat.Stat is not a valid",
        ),
        # A statistic CloudWatch has but the sandbox does not compute says so, not that it is invalid.
        (stat_query("m", "tm99"), "The sandbox does not compute the statistic tm99"),
        (stat_query("M1", "Sum"), "MetricDataQueries.member.1.Id is invalid"),
        ({"Id": "m"}, "The parameter MetricDataQueries.member.1.MetricStat is required."),
    ],
)
def test_bad_queries_are_validation_errors(cw, query, message):
    base = recent_hour()

    with pytest.raises(ClientError) as raised:
        cw.get_metric_data(MetricDataQueries=[query], StartTime=base, EndTime=base + timedelta(minutes=1))

    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert message in raised.value.response["Error"]["Message"]


def test_high_resolution_periods_are_accepted(cw):
    base = recent_hour()
    put(cw, Timestamp=base + timedelta(seconds=5), Value=1.0, StorageResolution=1)
    put(cw, Timestamp=base + timedelta(seconds=35), Value=2.0, StorageResolution=1)

    answered = values_of(cw, [stat_query("m", "Sum", period=30)], base, base + timedelta(minutes=1))

    assert answered == {"m": [2.0, 1.0]}


def test_pages_hold_at_most_max_datapoints_and_resume_where_they_stopped(cw):
    base = recent_hour()
    for minute in range(4):
        put(cw, Timestamp=base + timedelta(minutes=minute), Value=float(minute))
    queries = [stat_query(f"q{n}", "Sum") for n in range(3)]
    end = base + timedelta(minutes=4)

    first = cw.get_metric_data(MetricDataQueries=queries, StartTime=base, EndTime=end, MaxDatapoints=5)
    paged = values_of(cw, queries, base, end, MaxDatapoints=5)
    whole = values_of(cw, queries, base, end)
    with pytest.raises(ClientError) as foreign:
        cw.get_metric_data(
            MetricDataQueries=queries[:1], StartTime=base, EndTime=end, MaxDatapoints=5, NextToken=first["NextToken"]
        )

    assert [(r["Id"], len(r["Values"]), r["StatusCode"]) for r in first["MetricDataResults"]] == [
        ("q0", 4, "Complete"),
        ("q1", 1, "PartialData"),
    ]
    assert paged == whole == {f"q{n}": [3.0, 2.0, 1.0, 0.0] for n in range(3)}
    assert foreign.value.response["Error"]["Code"] == "InvalidNextToken"


def test_an_answer_over_100800_datapoints_is_paged(cw):
    # One datapoint a minute for 7 days: 10,080 periods; eleven queries of it ask for 110,880.
    start = recent_hour(hours_ago=7 * 24 + 1)
    members = [
        {"MetricName": "Invocations", "Timestamp": start + timedelta(minutes=m), "Value": 1.0} for m in range(10_080)
    ]
    for first in range(0, len(members), 1000):
        cw.put_metric_data(Namespace=NAMESPACE, MetricData=members[first : first + 1000])
    queries = [stat_query(f"q{n}", "Sum", name="Invocations", dimensions=[]) for n in range(11)]
    end = start + timedelta(days=7)

    first = cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)
    second = cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end, NextToken=first["NextToken"])

    assert sum(len(r["Values"]) for r in first["MetricDataResults"]) == 100_800
    assert [r["StatusCode"] for r in first["MetricDataResults"]] == ["Complete"] * 10
    assert [(r["Id"], len(r["Values"]), r["StatusCode"]) for r in second["MetricDataResults"]] == [
        ("q10", 10_080, "Complete")
    ]
    assert "NextToken" not in second


def test_the_query_protocol_gets_percentiles_too(cw, sandbox_endpoint):
    """Older SDKs and the CLI v1 speak CloudWatch's query (XML) protocol; boto3 speaks JSON."""
    base = recent_hour()
    put(cw, Timestamp=base, Values=[1.0, 2.0, 3.0], Counts=[1, 1, 98])
    form = {
        "Action": "GetMetricData",
        "Version": "2010-08-01",
        "StartTime": base.isoformat(),
        "EndTime": (base + timedelta(minutes=1)).isoformat(),
        "MetricDataQueries.member.1.Id": "m1",
        "MetricDataQueries.member.1.MetricStat.Metric.Namespace": NAMESPACE,
        "MetricDataQueries.member.1.MetricStat.Metric.MetricName": "Duration",
        "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name": "FunctionName",
        "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value": "orders-api",
        "MetricDataQueries.member.1.MetricStat.Period": "60",
        "MetricDataQueries.member.1.MetricStat.Stat": "p2",
    }
    request = urllib.request.Request(
        sandbox_endpoint,
        data=urllib.parse.urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            # The credential scope names the service and region, as a signed request's would.
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAMERIDIANSANDBOX1/20260101/eu-west-1/monitoring/"
            "aws4_request, SignedHeaders=host, Signature=0",
        },
    )

    with urllib.request.urlopen(request, timeout=10) as response:
        body = "".join(response.read().decode().split())

    assert "<Values><member>2.0</member></Values>" in body
    assert "<StatusCode>Complete</StatusCode>" in body


def test_put_metric_data_refuses_more_than_150_distinct_values(cw):
    with pytest.raises(ClientError) as raised:
        put(cw, Values=[float(v) for v in range(151)])

    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_list_metrics_lists_each_series_once_with_filters_and_pages(cw):
    base = recent_hour()
    for _ in range(3):
        put(cw, "Invocations", [], Timestamp=base, Value=1.0)
    members = [
        {"MetricName": "Duration", "Dimensions": [{"Name": "FunctionName", "Value": f"fn-{n:03}"}], "Value": 1.0}
        for n in range(501)
    ]
    cw.put_metric_data(Namespace=NAMESPACE, MetricData=members)

    dimensionless = cw.list_metrics(MetricName="Invocations")["Metrics"]
    one = cw.list_metrics(Dimensions=[{"Name": "FunctionName", "Value": "fn-007"}])["Metrics"]
    first = cw.list_metrics(Namespace=NAMESPACE)
    second = cw.list_metrics(Namespace=NAMESPACE, NextToken=first["NextToken"])
    recent = cw.list_metrics(MetricName="Invocations", RecentlyActive="PT3H")["Metrics"]

    assert dimensionless == [{"Namespace": NAMESPACE, "MetricName": "Invocations", "Dimensions": []}]
    assert one == [
        {"Namespace": NAMESPACE, "MetricName": "Duration", "Dimensions": [{"Name": "FunctionName", "Value": "fn-007"}]}
    ]
    assert len(first["Metrics"]) == 500
    assert len(second["Metrics"]) == 2
    assert "NextToken" not in second
    assert recent == dimensionless  # put a moment ago


def test_moto_reset_forgets_the_metrics(cw):
    put(cw, Timestamp=recent_hour(), Value=1.0)

    reset()

    assert cw.list_metrics()["Metrics"] == []


@mock_aws
def test_percentiles_work_under_mock_aws_too():
    cw = boto3.client("cloudwatch", region_name="eu-west-1")
    base = recent_hour()
    put(cw, Timestamp=base, Values=[100.0, 200.0, 300.0, 400.0], Counts=[50, 40, 9, 1], Unit="Milliseconds")

    answered = values_of(cw, [stat_query("p99", "p99"), stat_query("p50", "p50")], base, base + timedelta(minutes=1))

    assert answered == {"p99": [300.0], "p50": [100.0]}
    assert json.dumps(answered)  # plain floats
    assert time.time() > base.timestamp()
