"""One generated minute in the seeded sandbox, read back as a client would: every golden signal of the
contract with its dimensions and unit, sums that are the model's, traces whose segments link up, the
daily burst's faults; and the command that runs it all."""

import json
import re
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from django.core.management import call_command

from sandbox.clients import SANDBOX_CREDENTIALS
from sandbox.seed import seed_estate
from sandbox.server import reset
from sandbox.traffic import rates
from sandbox.traffic.generator import Generator
from sandbox.traffic.traces import TraceWriter

SEED = "test"
MINUTE = datetime(2026, 6, 10, 15, 30, tzinfo=UTC)  # a Wednesday afternoon, near the daily peak
PAYMENTS_ADMIN = "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole"


@pytest.fixture(scope="module")
def traffic(sandbox_server):
    """The seeded estate with MINUTE and the busiest minute of the day's payments burst generated."""
    reset()
    endpoint = sandbox_server.endpoint_url
    seed_estate(endpoint)
    generator = Generator(endpoint, seed=SEED)
    minute, emitted, executions = generator.live_minute(MINUTE)
    payments = generator.model.components["payments-api"]
    start, end = rates.burst_window(SEED, "payments-api", MINUTE.date(), payments.burst)
    candidates = [start + timedelta(minutes=i) for i in range(int((end - start).total_seconds() // 60))]
    burst_minute = max(candidates, key=lambda m: generator.simulate(m).components["payments-api"].faults)
    burst, _, _ = generator.live_minute(burst_minute)
    yield {
        "endpoint": endpoint,
        "generator": generator,
        "minute": minute,
        "emitted": emitted,
        "executions": executions,
        "burst": burst,
    }
    # The command's sagas may still be running (a stuck one for hours): stop them before moto forgets them.
    stepfunctions = _client({"endpoint": endpoint}, "stepfunctions")
    for execution in stepfunctions.list_executions(stateMachineArn=generator.state_machine_arn)["executions"]:
        if execution["status"] == "RUNNING":
            stepfunctions.stop_execution(executionArn=execution["executionArn"])
    reset()


def _client(traffic, service, region="eu-west-1", account="prod"):
    credentials = SANDBOX_CREDENTIALS
    if account == "payments":
        sts = boto3.client("sts", region_name=region, endpoint_url=traffic["endpoint"], **SANDBOX_CREDENTIALS)
        role = sts.assume_role(RoleArn=PAYMENTS_ADMIN, RoleSessionName="test")["Credentials"]
        credentials = {
            "aws_access_key_id": role["AccessKeyId"],
            "aws_secret_access_key": role["SecretAccessKey"],
            "aws_session_token": role["SessionToken"],
        }
    return boto3.client(service, region_name=region, endpoint_url=traffic["endpoint"], **credentials)


def _sum(cloudwatch, namespace, metric, dimensions, minute, statistic="Sum"):
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=dimensions,
        StartTime=minute,
        EndTime=minute + timedelta(minutes=1),
        Period=60,
        Statistics=[statistic],
    )["Datapoints"]
    # CloudWatch rounds an old StartTime down (to the hour beyond 63 days), so earlier minutes may come too.
    points = [point for point in points if point["Timestamp"] == minute]
    assert len(points) == 1, (namespace, metric, dimensions, points)
    return points[0][statistic], points[0]["Unit"]


def _target_group_dimensions(traffic, name, **where):
    elbv2 = _client(traffic, "elbv2", **where)
    (group,) = elbv2.describe_target_groups(Names=[name])["TargetGroups"]
    return [
        {"Name": "TargetGroup", "Value": group["TargetGroupArn"].split(":")[-1]},
        {"Name": "LoadBalancer", "Value": group["LoadBalancerArns"][0].split(":loadbalancer/")[-1]},
    ]


def test_a_minute_puts_every_golden_signal_of_the_contract_with_its_dimensions(traffic):
    cloudwatch = _client(traffic, "cloudwatch")
    listed = {
        (m["Namespace"], m["MetricName"], tuple(sorted(d["Name"] for d in m["Dimensions"])))
        for page in cloudwatch.get_paginator("list_metrics").paginate()
        for m in page["Metrics"]
    }
    payments_us = _client(traffic, "cloudwatch", "us-east-1", "payments").list_metrics(Namespace="AWS/Lambda")

    assert {
        ("AWS/ECS", "CPUUtilization", ("ClusterName", "ServiceName")),
        ("AWS/ECS", "MemoryUtilization", ("ClusterName", "ServiceName")),
        ("AWS/ApplicationELB", "RequestCount", ("LoadBalancer", "TargetGroup")),
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", ("LoadBalancer", "TargetGroup")),
        ("AWS/ApplicationELB", "TargetResponseTime", ("LoadBalancer", "TargetGroup")),
        ("AWS/Lambda", "Invocations", ("FunctionName",)),
        ("AWS/Lambda", "Errors", ("FunctionName",)),
        ("AWS/Lambda", "Throttles", ("FunctionName",)),
        ("AWS/Lambda", "Duration", ("FunctionName",)),
        ("AWS/Lambda", "ConcurrentExecutions", ("FunctionName",)),
        ("AWS/ApiGateway", "Count", ("ApiName",)),
        ("AWS/ApiGateway", "4XXError", ("ApiName",)),
        ("AWS/ApiGateway", "5XXError", ("ApiName",)),
        ("AWS/ApiGateway", "Latency", ("ApiName",)),
        ("AWS/DynamoDB", "ConsumedReadCapacityUnits", ("TableName",)),
        ("AWS/DynamoDB", "ConsumedWriteCapacityUnits", ("TableName",)),
        ("AWS/DynamoDB", "ThrottledRequests", ("TableName",)),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", ("QueueName",)),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage", ("QueueName",)),
        ("AWS/States", "ExecutionsStarted", ("StateMachineArn",)),
        ("AWS/States", "ExecutionsSucceeded", ("StateMachineArn",)),
        ("AWS/States", "ExecutionsFailed", ("StateMachineArn",)),
        ("AWS/States", "ExecutionTime", ("StateMachineArn",)),
    } <= listed
    # Each resource's metrics are in its own account and region: fraud-scorer runs in payments, us-east-1.
    assert {d["Value"] for m in payments_us["Metrics"] for d in m["Dimensions"]} == {"fraud-scorer"}


def test_the_minute_sums_are_the_models(traffic):
    minute, window = MINUTE, traffic["minute"]
    cloudwatch = _client(traffic, "cloudwatch")
    api = [{"Name": "ApiName", "Value": "meridian-storefront"}]
    orders = _target_group_dimensions(traffic, "orders-api")
    saga = [{"Name": "StateMachineArn", "Value": traffic["generator"].state_machine_arn}]

    assert _sum(cloudwatch, "AWS/ApiGateway", "Count", api, minute) == (window.front_door, "Count")
    assert window.components["storefront-gateway"].requests == window.front_door > 200
    assert (
        _sum(cloudwatch, "AWS/ApiGateway", "4XXError", api, minute)[0] == window.components["storefront-gateway"].errors
    )
    assert _sum(cloudwatch, "AWS/ApplicationELB", "RequestCount", orders, minute) == (
        window.components["orders-api"].requests,
        "Count",
    )
    invocations = _sum(cloudwatch, "AWS/Lambda", "Invocations", [{"Name": "FunctionName", "Value": "cart-service"}],
                       minute)  # fmt: skip
    assert invocations == (window.functions["cart-service"].requests, "Count")
    reads = _sum(cloudwatch, "AWS/DynamoDB", "ConsumedReadCapacityUnits", [{"Name": "TableName", "Value": "inventory"}],
                 minute)  # fmt: skip
    assert reads[0] == pytest.approx(window.tables["inventory"].read_units)
    assert _sum(cloudwatch, "AWS/States", "ExecutionsStarted", saga, minute) == (len(window.sagas), "Count")
    assert len(traffic["executions"]) == len(window.sagas) > 0
    # Latencies: seconds behind the ALB, milliseconds for Lambda; percentiles from the stored distribution.
    response, unit = _sum(cloudwatch, "AWS/ApplicationELB", "TargetResponseTime", orders, minute, "Average")
    assert unit == "Seconds" and 0.005 < response < 2
    ecs = [{"Name": "ClusterName", "Value": "meridian-commerce"}, {"Name": "ServiceName", "Value": "orders-api"}]
    cpu, unit = _sum(cloudwatch, "AWS/ECS", "CPUUtilization", ecs, minute, "Maximum")
    assert unit == "Percent" and 0 < cpu <= 100


def _segments(traffic, trace_ids):
    """Every segment of the traces, from the X-Ray of every account and region of the estate."""
    found = []
    for region in ("eu-west-1", "us-east-1"):
        for account in ("prod", "payments"):
            xray = _client(traffic, "xray", region, account)
            for first in range(0, len(trace_ids), 5):
                for trace in xray.batch_get_traces(TraceIds=trace_ids[first : first + 5])["Traces"]:
                    found.extend(json.loads(s["Document"]) for s in trace["Segments"])
    return found


def test_traces_follow_the_call_graph_parent_to_child(traffic):
    writer = TraceWriter(traffic["generator"].model, SEED)
    traces = writer.traces(traffic["minute"])
    segments = _segments(traffic, [t.id for t in traces])
    components = set(traffic["generator"].model.components)

    assert len(traces) >= 3 and len(segments) == sum(len(t.segments) for t in traces)
    assert all(re.fullmatch(r"1-[0-9a-f]{8}-[0-9a-f]{24}", t.id) for t in traces)
    by_subsegment = {sub["id"]: (segment, sub) for segment in segments for sub in segment.get("subsegments", [])}
    roots = [s for s in segments if "parent_id" not in s]
    assert {s["name"] for s in roots} == {"storefront-gateway"}
    assert len(roots) == len(traces)
    for segment in segments:
        assert segment["name"] in components
        assert segment["origin"].startswith("AWS::")
        assert segment["start_time"] <= segment["end_time"]
        if "parent_id" in segment:
            parent, subsegment = by_subsegment[segment["parent_id"]]
            assert parent["trace_id"] == segment["trace_id"]
            if subsegment["namespace"] == "remote":
                assert subsegment["name"] == segment["name"]
                assert subsegment["http"]["response"]["status"] == segment["http"]["response"]["status"]
            else:  # a queue's consumer or the saga, after an SQS, SNS or EventBridge call
                assert subsegment["namespace"] == "aws" and subsegment["name"] in ("SQS", "SNS", "EventBridge")
    aws_calls = [sub for s in segments for sub in s.get("subsegments", []) if sub["namespace"] == "aws"]
    assert {"DynamoDB", "SQS", "SNS", "EventBridge"} <= {sub["name"] for sub in aws_calls}
    assert all(sub["aws"]["table_name"] for sub in aws_calls if sub["name"] == "DynamoDB")
    # Every checkout is traced (the front door's sampling rule), with its saga.
    sagas = [s for s in segments if s["name"] == "order-saga"]
    assert {s["annotations"]["order_id"] for s in sagas} == {run.order_id for run in traffic["minute"].sagas}


def test_the_burst_minute_has_faults_in_metrics_traces_and_sagas(traffic):
    burst = traffic["burst"]
    cloudwatch = _client(traffic, "cloudwatch", account="payments")
    payments = _target_group_dimensions(traffic, "payments-api", account="payments")
    faults, _ = _sum(cloudwatch, "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", payments, burst.start)
    segments = _segments(traffic, [t.id for t in TraceWriter(traffic["generator"].model, SEED).traces(burst)])

    assert faults == burst.components["payments-api"].faults >= 2
    assert any(s["name"] == "payments-api" and s.get("fault") for s in segments)
    assert any(s["name"] == "order-saga" and s["annotations"]["saga_outcome"] == "compensated" for s in segments)
    quiet, _ = _sum(_client(traffic, "cloudwatch", account="payments"), "AWS/ApplicationELB",
                    "HTTPCode_Target_5XX_Count", payments, MINUTE)  # fmt: skip
    assert quiet == traffic["minute"].components["payments-api"].faults


def test_seeding_again_after_traffic_creates_nothing(traffic):
    assert seed_estate(traffic["endpoint"]).created == []


def test_the_command_puts_the_last_minute_and_history_once(traffic, capsys):
    now = rates.minute_floor(datetime.now(UTC))

    call_command("sandbox_traffic", endpoint_url=traffic["endpoint"], once=True, history_days=0.05, seed=SEED)

    output = capsys.readouterr().out
    assert re.search(r"traffic: minute \d\d:\d\d UTC: \d+ requests", output)
    assert re.search(r"traffic: history done in [\d.]+ s: \d+ windows", output)
    cloudwatch = _client(traffic, "cloudwatch")
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/ApiGateway",
        MetricName="Count",
        Dimensions=[{"Name": "ApiName", "Value": "meridian-storefront"}],
        StartTime=now - timedelta(minutes=80),
        EndTime=now,
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    assert len(points) >= 10  # the last minute, then the hour before in 1- and 5-minute windows
