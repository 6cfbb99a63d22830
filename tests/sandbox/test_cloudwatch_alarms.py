"""CloudWatch alarms in the sandbox: evaluated from the stored data when described, with reasons and history.

An alarm looks at its last complete periods before now. These tests use one-hour periods and
put their datapoints in the hour before the current one, so the window they assert on holds
still while a test runs; `previous_hour` waits out the last seconds of an hour first.
"""

import json
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sandbox.server import reset

HOUR = 3600
NAMESPACE = "AWS/ApplicationELB"
TARGET_GROUP = [
    {"Name": "TargetGroup", "Value": "targetgroup/orders-api/0123456789abcdef"},
    {"Name": "LoadBalancer", "Value": "app/storefront/fedcba9876543210"},
]


def previous_hour(clear_of: int = HOUR, margin: float = 5.0) -> datetime:
    """The start of the hour before the current one, never within `margin` s of a `clear_of` boundary."""
    now = time.time()
    left = clear_of - now % clear_of
    if left < margin:
        time.sleep(left + 0.2)
        now = time.time()
    return datetime.fromtimestamp(now - now % HOUR - HOUR, UTC)


def day(moment: datetime) -> str:
    return moment.strftime("%d/%m/%y %H:%M:%S")


def put(cw, at, name="TargetResponseTime", dimensions=TARGET_GROUP, namespace=NAMESPACE, **member):
    cw.put_metric_data(
        Namespace=namespace, MetricData=[{"MetricName": name, "Dimensions": dimensions, "Timestamp": at, **member}]
    )


def put_alarm(cw, name="orders-api p99 latency", **overrides):
    settings = {
        "AlarmName": name,
        "Namespace": NAMESPACE,
        "MetricName": "TargetResponseTime",
        "Dimensions": TARGET_GROUP,
        "Statistic": "Average",
        "Period": HOUR,
        "EvaluationPeriods": 1,
        "Threshold": 500.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "Tags": [{"Key": "service", "Value": "orders-api"}],
        **overrides,
    }
    cw.put_metric_alarm(**settings)


def alarm(cw, name="orders-api p99 latency"):
    return cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


@pytest.fixture
def cw(aws):
    return aws("cloudwatch")


def test_an_alarm_goes_ok_then_alarm_then_ok_with_cloudwatchs_reasons(cw):
    hour = previous_hour()
    put_alarm(cw)
    created = alarm(cw)

    put(cw, hour + timedelta(minutes=1), Value=100.0)
    ok = alarm(cw)
    ok_again = alarm(cw)
    put(cw, hour + timedelta(minutes=2), Value=1124.0)  # the hour's average: (100 + 1124) / 2 = 612
    breached = alarm(cw)
    put(cw, hour + timedelta(minutes=3), Values=[0.0], Counts=[2.0])  # (100 + 1124 + 0 + 0) / 4 = 306
    recovered = alarm(cw)

    assert (created["StateValue"], created["StateReason"]) == ("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation")
    assert ok["StateValue"] == "OK"
    assert ok["StateReason"] == (
        f"Threshold Crossed: 1 out of the last 1 datapoints [100.0 ({day(hour)})] was not greater than the threshold"
        " (500.0) (minimum 1 datapoint for ALARM -> OK transition)."
    )
    assert ok_again["StateUpdatedTimestamp"] == ok["StateUpdatedTimestamp"]  # no change, no update
    assert breached["StateValue"] == "ALARM"
    assert breached["StateReason"] == (
        f"Threshold Crossed: 1 out of the last 1 datapoints [612.0 ({day(hour)})] was greater than the threshold"
        " (500.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    assert breached["StateUpdatedTimestamp"] > ok["StateUpdatedTimestamp"]
    assert breached["StateTransitionedTimestamp"] == breached["StateUpdatedTimestamp"]
    reason_data = json.loads(breached["StateReasonData"])
    assert reason_data["statistic"] == "Average"
    assert reason_data["period"] == HOUR
    assert reason_data["threshold"] == 500.0
    assert reason_data["recentDatapoints"] == [612.0]
    assert reason_data["startDate"] == hour.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    assert reason_data["evaluatedDatapoints"] == [
        {"timestamp": hour.strftime("%Y-%m-%dT%H:%M:%S.000+0000"), "sampleCount": 2.0, "value": 612.0}
    ]
    assert recovered["StateValue"] == "OK"
    assert "[306.0 (" in recovered["StateReason"]


def test_each_state_change_is_a_state_update_in_the_history(cw):
    hour = previous_hour()
    put_alarm(cw)
    alarm(cw)
    put(cw, hour, Value=900.0)
    alarm(cw)
    put(cw, hour + timedelta(minutes=1), Values=[0.0], Counts=[9.0])  # average 90
    alarm(cw)

    history = cw.describe_alarm_history(AlarmName="orders-api p99 latency")["AlarmHistoryItems"]
    updates = cw.describe_alarm_history(AlarmName="orders-api p99 latency", HistoryItemType="StateUpdate")

    assert [(item["HistoryItemType"], item["HistorySummary"]) for item in history] == [
        ("StateUpdate", "Alarm updated from ALARM to OK"),
        ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM"),
        ("ConfigurationUpdate", 'Alarm "orders-api p99 latency" created'),
    ]
    assert [item["AlarmType"] for item in history] == ["MetricAlarm"] * 3
    newest = json.loads(updates["AlarmHistoryItems"][0]["HistoryData"])
    assert newest["oldState"]["stateValue"] == "ALARM"
    assert newest["newState"]["stateValue"] == "OK"
    assert newest["newState"]["stateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [90.0 (")
    assert newest["newState"]["stateReasonData"]["recentDatapoints"] == [90.0]


def test_a_percentile_alarm_reads_the_distribution(cw):
    hour = previous_hour()
    cw.put_metric_alarm(
        AlarmName="orders-api p99 latency",
        Namespace=NAMESPACE,
        MetricName="TargetResponseTime",
        Dimensions=TARGET_GROUP,
        ExtendedStatistic="p99",
        Period=HOUR,
        EvaluationPeriods=1,
        Threshold=0.5,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    # 97 fast responses, 3 slow ones: p99 is rank 99 of 100, a slow one.
    put(cw, hour, Values=[0.05, 0.8], Counts=[97.0, 3.0], Unit="Seconds")

    described = alarm(cw)

    assert described["StateValue"] == "ALARM"
    assert described["StateReason"] == (
        f"Threshold Crossed: 1 out of the last 1 datapoints [0.8 ({day(hour)})] was greater than or equal to the"
        " threshold (0.5) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    assert json.loads(described["StateReasonData"])["extendedStatistic"] == "p99"


@pytest.mark.parametrize(
    ("treatment", "state", "reason"),
    [
        # A new alarm starts INSUFFICIENT_DATA: with no data it stays so, and keeps its first reason.
        (None, "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation"),
        ("missing", "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation"),
        (
            "notBreaching",
            "OK",
            "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as"
            " [NonBreaching].",
        ),
        (
            "breaching",
            "ALARM",
            "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as"
            " [Breaching].",
        ),
        ("ignore", "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation"),
    ],
)
def test_an_alarm_without_data_follows_treat_missing_data(cw, treatment, state, reason):
    previous_hour()
    put_alarm(cw, EvaluationPeriods=3, DatapointsToAlarm=2, **({"TreatMissingData": treatment} if treatment else {}))

    described = alarm(cw)

    assert (described["StateValue"], described["StateReason"]) == (state, reason)


@pytest.mark.parametrize(
    ("treatment", "state", "reason_end"),
    [
        # One breaching datapoint of the three periods, two missing; two are needed to alarm.
        ("missing", "OK", "was greater than the threshold (500.0) (minimum 2 datapoints for OK -> ALARM transition)."),
        (
            "breaching",
            "ALARM",
            "was greater than the threshold (500.0) and 2 missing datapoints were treated as [Breaching]"
            " (minimum 2 datapoints for OK -> ALARM transition).",
        ),
        ("notBreaching", "OK", "(minimum 2 datapoints for OK -> ALARM transition)."),
    ],
)
def test_missing_periods_among_received_ones_follow_treat_missing_data(cw, treatment, state, reason_end):
    hour = previous_hour()
    put_alarm(cw, EvaluationPeriods=3, DatapointsToAlarm=2, TreatMissingData=treatment)
    put(cw, hour - timedelta(hours=1), Value=700.0)

    described = alarm(cw)

    assert described["StateValue"] == state
    assert described["StateReason"].startswith(
        f"Threshold Crossed: 1 out of the last 1 datapoints [700.0 ({day(hour - timedelta(hours=1))})] "
    )
    assert described["StateReason"].endswith(reason_end)


def test_updating_an_alarm_keeps_its_state_and_ignore_keeps_it_without_data(cw):
    hour = previous_hour()
    put_alarm(cw, TreatMissingData="ignore")
    put(cw, hour, Value=900.0)
    assert alarm(cw)["StateValue"] == "ALARM"

    # The same alarm, now on a metric without data: ignore keeps ALARM, missing would not.
    put_alarm(cw, MetricName="HTTPCode_Target_5XX_Count", TreatMissingData="ignore")
    ignored = alarm(cw)
    put_alarm(cw, MetricName="HTTPCode_Target_5XX_Count", TreatMissingData="missing")
    missing = alarm(cw)

    assert (ignored["StateValue"], ignored["MetricName"]) == ("ALARM", "HTTPCode_Target_5XX_Count")
    assert (missing["StateValue"], missing["StateReason"]) == (
        "INSUFFICIENT_DATA",
        "Insufficient Data: 1 datapoint was unknown.",
    )
    summaries = [
        i["HistorySummary"] for i in cw.describe_alarm_history(AlarmName="orders-api p99 latency")["AlarmHistoryItems"]
    ]
    assert summaries[:3] == [
        "Alarm updated from ALARM to INSUFFICIENT_DATA",
        'Alarm "orders-api p99 latency" updated',
        'Alarm "orders-api p99 latency" updated',
    ]


def test_dynamodb_alarms_always_ignore_missing_data(cw):
    previous_hour()
    cw.put_metric_alarm(
        AlarmName="orders table throttles",
        Namespace="AWS/DynamoDB",
        MetricName="ThrottledRequests",
        Dimensions=[{"Name": "TableName", "Value": "orders"}],
        Statistic="Sum",
        Period=HOUR,
        EvaluationPeriods=1,
        Threshold=0.0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="breaching",
    )

    assert alarm(cw, "orders table throttles")["StateValue"] == "INSUFFICIENT_DATA"


def test_a_state_set_by_hand_holds_until_the_metric_gets_new_data(cw):
    hour = previous_hour(clear_of=60, margin=10.0)  # the hand-set state also holds until the next minute
    put_alarm(cw)
    put(cw, hour, Value=100.0)
    assert alarm(cw)["StateValue"] == "OK"

    cw.set_alarm_state(AlarmName="orders-api p99 latency", StateValue="ALARM", StateReason="testing the pager")
    held = alarm(cw)
    put(cw, hour + timedelta(minutes=5), Value=100.0)
    evaluated = alarm(cw)

    assert (held["StateValue"], held["StateReason"]) == ("ALARM", "testing the pager")
    assert evaluated["StateValue"] == "OK"
    updates = cw.describe_alarm_history(AlarmName="orders-api p99 latency", HistoryItemType="StateUpdate")
    assert [i["HistorySummary"] for i in updates["AlarmHistoryItems"]] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK",
    ]


def test_describe_alarms_for_metric_answers_evaluated_states_for_that_series(cw):
    hour = previous_hour()
    put_alarm(cw, "orders 5xx", MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum", Threshold=10.0)
    other = [{"Name": "TargetGroup", "Value": "targetgroup/payments-api/1"}, TARGET_GROUP[1]]
    put_alarm(
        cw, "payments 5xx", MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum", Threshold=10.0, Dimensions=other
    )
    for minute in range(3):
        put(cw, hour + timedelta(minutes=minute), name="HTTPCode_Target_5XX_Count", Value=5.0)

    for_orders = cw.describe_alarms_for_metric(
        Namespace=NAMESPACE, MetricName="HTTPCode_Target_5XX_Count", Dimensions=TARGET_GROUP
    )["MetricAlarms"]
    for_metric = cw.describe_alarms_for_metric(Namespace=NAMESPACE, MetricName="HTTPCode_Target_5XX_Count")[
        "MetricAlarms"
    ]

    assert [(a["AlarmName"], a["StateValue"]) for a in for_orders] == [("orders 5xx", "ALARM")]
    assert [(a["AlarmName"], a["StateValue"]) for a in for_metric] == [
        ("orders 5xx", "ALARM"),
        ("payments 5xx", "INSUFFICIENT_DATA"),
    ]
    assert "[15.0 (" in for_orders[0]["StateReason"]


def test_describe_alarms_combines_filters_and_pages(cw):
    hour = previous_hour()
    for number in range(5):
        put_alarm(cw, f"orders alarm {number}", Threshold=float(number * 100 + 50))
    put_alarm(cw, "payments alarm", Threshold=1000.0)
    put(cw, hour, Value=220.0)  # breaches the thresholds 50 and 150 only

    in_alarm = cw.describe_alarms(AlarmNamePrefix="orders", StateValue="ALARM")
    pages = list(cw.get_paginator("describe_alarms").paginate(PaginationConfig={"PageSize": 2}))
    composite = cw.describe_alarms(AlarmTypes=["CompositeAlarm"])

    assert [a["AlarmName"] for a in in_alarm["MetricAlarms"]] == ["orders alarm 0", "orders alarm 1"]
    assert in_alarm["CompositeAlarms"] == []
    assert [[a["AlarmName"] for a in page["MetricAlarms"]] for page in pages] == [
        ["orders alarm 0", "orders alarm 1"],
        ["orders alarm 2", "orders alarm 3"],
        ["orders alarm 4", "payments alarm"],
    ]
    assert (composite["MetricAlarms"], composite["CompositeAlarms"]) == ([], [])


def test_alarm_history_pages_newest_first(cw):
    previous_hour()
    for number in range(3):
        put_alarm(cw, f"alarm {number}")

    pages = list(cw.get_paginator("describe_alarm_history").paginate(PaginationConfig={"PageSize": 2}))
    oldest_first = cw.describe_alarm_history(ScanBy="TimestampAscending")["AlarmHistoryItems"]

    assert [[i["AlarmName"] for i in page["AlarmHistoryItems"]] for page in pages] == [
        ["alarm 2", "alarm 1"],
        ["alarm 0"],
    ]
    assert [i["AlarmName"] for i in oldest_first] == ["alarm 0", "alarm 1", "alarm 2"]
    with pytest.raises(ClientError) as bad:
        cw.describe_alarm_history(NextToken="not-a-token")
    assert bad.value.response["Error"]["Code"] == "InvalidNextToken"


def test_metric_math_alarms_are_not_evaluated(cw):
    hour = previous_hour()
    put(cw, hour, Value=900.0)
    metric = {"Namespace": NAMESPACE, "MetricName": "TargetResponseTime", "Dimensions": TARGET_GROUP}
    cw.put_metric_alarm(
        AlarmName="latency math",
        Metrics=[
            {"Id": "m1", "MetricStat": {"Metric": metric, "Period": HOUR, "Stat": "Average"}, "ReturnData": False},
            {"Id": "e1", "Expression": "m1 * 2", "ReturnData": True},
        ],
        EvaluationPeriods=1,
        Threshold=500.0,
        ComparisonOperator="GreaterThanThreshold",
    )

    described = alarm(cw, "latency math")

    assert (described["StateValue"], described["StateReason"]) == (
        "INSUFFICIENT_DATA",
        "Unchecked: Initial alarm creation",
    )


def test_moto_reset_forgets_the_alarm_history(cw):
    put_alarm(cw)

    reset()

    assert cw.describe_alarm_history()["AlarmHistoryItems"] == []


@mock_aws
def test_alarms_are_evaluated_under_mock_aws_too():
    cw = boto3.client("cloudwatch", region_name="eu-west-1")
    hour = previous_hour()
    put_alarm(cw)
    put(cw, hour, Value=501.0)

    assert alarm(cw)["StateValue"] == "ALARM"
