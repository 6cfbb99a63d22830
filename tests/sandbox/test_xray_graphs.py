"""X-Ray service graphs, trace graphs, trace summaries and traces computed from the segments put (xray_graphs)."""

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sandbox.seed import SANDBOX_CREDENTIALS
from sandbox.server import reset
from tests.sandbox.xray_shop import ECS, REGION, T0, order_trace, put, put_shop, trace_id

WINDOW = {"StartTime": datetime.fromtimestamp(T0, UTC), "EndTime": datetime.fromtimestamp(T0 + 60, UTC)}


@pytest.fixture(params=["sandbox server", "mock_aws"])
def xray(request):
    """An X-Ray client on the in-process sandbox server, or under mock_aws: both must answer the same."""
    if request.param == "sandbox server":
        endpoint = request.getfixturevalue("sandbox_endpoint")
        yield boto3.client("xray", region_name=REGION, endpoint_url=endpoint, **SANDBOX_CREDENTIALS)
    else:
        with mock_aws():
            yield boto3.client("xray", region_name=REGION)


@pytest.fixture
def sandbox_xray(sandbox_endpoint):
    return boto3.client("xray", region_name=REGION, endpoint_url=sandbox_endpoint, **SANDBOX_CREDENTIALS)


def at(offset):
    return datetime.fromtimestamp(T0 + offset, UTC)


def statistics(*, ok=0, error=0, throttle=0, fault=0, total_time):
    return {
        "OkCount": ok,
        "ErrorStatistics": {"ThrottleCount": throttle, "OtherCount": error, "TotalCount": throttle + error},
        "FaultStatistics": {"OtherCount": fault, "TotalCount": fault},
        "TotalCount": ok + error + throttle + fault,
        "TotalResponseTime": total_time,
    }


def histogram(*buckets):
    return [{"Value": value, "Count": count} for value, count in buckets]


def edge(reference_id, start, end, stats, buckets):
    return {
        "ReferenceId": reference_id,
        "StartTime": at(start),
        "EndTime": at(end),
        "SummaryStatistics": stats,
        "ResponseTimeHistogram": histogram(*buckets),
        "Aliases": [],
    }


def service(reference_id, name, type_, start, end, stats, buckets, *, edges=(), root=False, inferred=False):
    found = {"ReferenceId": reference_id, "Name": name, "Names": [name]}
    if root:
        found["Root"] = True
    found.update(Type=type_, State="unknown" if inferred else "active", StartTime=at(start), EndTime=at(end))
    found["Edges"] = list(edges)
    found.update(
        SummaryStatistics=stats, DurationHistogram=histogram(*buckets), ResponseTimeHistogram=histogram(*buckets)
    )
    return found


def by_name(services):
    return {(s["Name"], s.get("Type")): s for s in services}


def test_the_service_graph_has_every_node_edge_count_and_histogram(xray):
    put_shop(xray)

    graph = xray.get_service_graph(**WINDOW)

    gateway = statistics(ok=3, fault=1, total_time=1.654)
    gateway_buckets = [(0.12, 3), (1.29, 1)]
    orders_api = statistics(ok=3, fault=1, total_time=1.574)
    table = statistics(ok=3, throttle=1, total_time=0.048)
    payments = statistics(ok=2, fault=2, total_time=1.414)
    psp = statistics(ok=1, total_time=0.04)
    assert graph["Services"] == [
        service(0, "orders", "AWS::DynamoDB::Table", 10, 41, table, [(0.012, 4)], inferred=True),
        service(
            1,
            "orders-api",
            ECS,
            10,
            41,
            orders_api,
            [(0.1, 3), (1.27, 1)],
            edges=[
                edge(0, 10, 41, table, [(0.012, 4)]),
                edge(2, 10, 41, payments, [(0.06, 3), (1.23, 1)]),
            ],
        ),
        service(
            2, "payments-api", ECS, 10, 41, payments, [(0.06, 3), (1.23, 1)], edges=[edge(3, 10, 11, psp, [(0.04, 1)])]
        ),
        service(3, "psp.example.com", "remote", 10, 11, psp, [(0.04, 1)], inferred=True),
        {
            "ReferenceId": 4,
            "Name": "storefront-gateway",
            "Names": ["storefront-gateway"],
            "Type": "client",
            "State": "unknown",
            "StartTime": at(10),
            "EndTime": at(41),
            "Edges": [edge(5, 10, 41, gateway, gateway_buckets)],
        },
        service(
            5,
            "storefront-gateway",
            ECS,
            10,
            41,
            gateway,
            gateway_buckets,
            root=True,
            edges=[edge(1, 10, 41, orders_api, [(0.1, 3), (1.27, 1)])],
        ),
    ]
    assert graph["StartTime"] == WINDOW["StartTime"]
    assert graph["EndTime"] == WINDOW["EndTime"]
    assert graph["ContainsOldGroupVersions"] is False
    assert "NextToken" not in graph


def test_only_segments_within_the_window_count(xray):
    put_shop(xray)

    later = by_name(xray.get_service_graph(StartTime=at(15), EndTime=at(60))["Services"])
    # Trace 4's gateway and orders-api segments end after T0 + 40.1, its payments-api segment before.
    cut = by_name(xray.get_service_graph(StartTime=at(0), EndTime=at(40.1))["Services"])
    before = by_name(xray.get_service_graph(StartTime=at(-7300), EndTime=at(-7000))["Services"])

    assert ("psp.example.com", "remote") not in later  # only trace 1 called the PSP
    assert later[("storefront-gateway", ECS)]["SummaryStatistics"]["TotalCount"] == 3
    assert later[("storefront-gateway", ECS)]["StartTime"] == at(20)
    assert cut[("storefront-gateway", ECS)]["SummaryStatistics"]["TotalCount"] == 3
    assert cut[("orders-api", ECS)]["SummaryStatistics"]["TotalCount"] == 3
    assert cut[("orders", "AWS::DynamoDB::Table")]["SummaryStatistics"]["TotalCount"] == 3
    assert cut[("payments-api", ECS)]["SummaryStatistics"]["TotalCount"] == 4
    assert cut[("storefront-gateway", ECS)]["EndTime"] == at(31)
    assert cut[("payments-api", ECS)]["EndTime"] == at(40.1)  # T0 + 40.095, in whole seconds, clamped to the window
    assert [s["SummaryStatistics"]["TotalCount"] for s in before.values() if "SummaryStatistics" in s] == [
        1,
        1,
        1,
        1,
        1,
    ]
    assert xray.get_service_graph(StartTime=at(100), EndTime=at(200))["Services"] == []


def test_the_trace_graph_is_the_graph_of_those_traces_only(xray):
    ids = put_shop(xray)

    services = xray.get_trace_graph(TraceIds=[ids[2]])["Services"]

    assert [(s["ReferenceId"], s["Name"], s["Type"]) for s in services] == [
        (0, "orders", "AWS::DynamoDB::Table"),
        (1, "orders-api", ECS),
        (2, "payments-api", ECS),
        (3, "storefront-gateway", "client"),
        (4, "storefront-gateway", ECS),
    ]
    assert services[2]["SummaryStatistics"] == statistics(fault=1, total_time=1.234)
    assert services[2]["ResponseTimeHistogram"] == histogram((1.23, 1))
    assert services[3]["Edges"][0]["SummaryStatistics"] == statistics(fault=1, total_time=1.294)
    assert services[4]["StartTime"] == at(20) and services[4]["EndTime"] == at(22)
    # Trace 5 is two hours old: GetTraceGraph has no window.
    assert len(xray.get_trace_graph(TraceIds=[ids[1], ids[5]])["Services"]) == 6
    assert xray.get_trace_graph(TraceIds=[trace_id(99, T0)])["Services"] == []


def test_trace_summaries_are_computed_from_the_segments_newest_first(xray):
    ids = put_shop(xray)

    answer = xray.get_trace_summaries(**WINDOW)
    summaries = answer["TraceSummaries"]

    assert [s["Id"] for s in summaries] == [ids[4], ids[3], ids[2], ids[1]]
    assert [(s["HasFault"], s["HasError"], s["HasThrottle"], s["IsPartial"]) for s in summaries] == [
        (False, False, False, False),  # payments-api's fault was handled: the client got a 200
        (False, False, True, False),  # a throttled DynamoDB call, retried
        (True, False, False, False),
        (False, False, False, False),
    ]
    assert [(s["Duration"], s["ResponseTime"]) for s in summaries] == [
        (0.12, 0.12),
        (0.12, 0.12),
        (1.294, 1.294),
        (0.12, 0.12),
    ]
    assert [s["StartTime"] for s in summaries] == [at(40), at(30), at(20), at(10)]
    assert summaries[2]["Http"] == {
        "HttpURL": "https://shop.example.com/orders/o-2",
        "HttpMethod": "POST",
        "ClientIp": "10.0.0.7",
        "HttpStatus": 502,
    }
    first = summaries[3]
    gateway = {"Name": "storefront-gateway", "Names": ["storefront-gateway"], "Type": ECS}
    orders_api = {"Name": "orders-api", "Names": ["orders-api"], "Type": ECS}
    payments = {"Name": "payments-api", "Names": ["payments-api"], "Type": ECS}
    assert first["EntryPoint"] == gateway
    assert first["ServiceIds"] == [
        {"Name": "orders", "Names": ["orders"], "Type": "AWS::DynamoDB::Table"},
        orders_api,
        payments,
        {"Name": "psp.example.com", "Names": ["psp.example.com"], "Type": "remote"},
        gateway,
    ]
    assert first["Annotations"] == {
        "amount": [{"AnnotationValue": {"NumberValue": 42.5}, "ServiceIds": [payments]}],
        "express": [{"AnnotationValue": {"BooleanValue": False}, "ServiceIds": [payments]}],
        "order_id": [{"AnnotationValue": {"StringValue": "o-1"}, "ServiceIds": [orders_api]}],
    }
    assert first["Users"] == [{"UserName": "alice", "ServiceIds": [gateway]}]
    assert summaries[2]["Users"] == []
    assert first["Revision"] == 3
    assert answer["TracesProcessedCount"] == 4
    assert answer["ApproximateTime"] == WINDOW["StartTime"]
    assert "NextToken" not in answer


def test_an_in_progress_segment_makes_a_partial_trace_until_it_completes(xray):
    start = T0 + 5
    tid = trace_id(7, start)
    segment = {"id": "a000000000000007", "trace_id": tid, "name": "storefront-gateway", "start_time": start}
    put(xray, {**segment, "in_progress": True})

    partial = xray.get_trace_summaries(**WINDOW)["TraceSummaries"]
    put(xray, {**segment, "end_time": start + 0.25, "http": {"response": {"status": 404}}, "error": True})
    put(xray, {**segment, "in_progress": True})  # a late copy of the in-progress version changes nothing
    done = xray.get_trace_summaries(**WINDOW)["TraceSummaries"]
    traces = xray.batch_get_traces(TraceIds=[tid])["Traces"]

    assert [(s["Id"], s["IsPartial"], "Duration" in s) for s in partial] == [(tid, True, False)]
    assert [(s["IsPartial"], s["Duration"], s["HasError"], s["Http"]) for s in done] == [
        (False, 0.25, True, {"HttpStatus": 404})
    ]
    assert len(traces[0]["Segments"]) == 1
    assert json.loads(traces[0]["Segments"][0]["Document"])["end_time"] == start + 0.25


def test_summaries_are_paged_by_100_newest_first(xray):
    documents = [
        {
            "id": f"a{number:015x}",
            "trace_id": trace_id(number, T0 + number),
            "name": "storefront-gateway",
            "start_time": T0 + number,
            "end_time": T0 + number + 0.01,
            "fault": number % 3 == 0,
        }
        for number in range(250)
    ]
    put(xray, *documents)
    window = {"StartTime": at(0), "EndTime": at(300)}

    pages = list(xray.get_paginator("get_trace_summaries").paginate(**window))
    faults = xray.get_trace_summaries(**window, FilterExpression="fault")

    assert [len(page["TraceSummaries"]) for page in pages] == [100, 100, 50]
    listed = [s["Id"] for page in pages for s in page["TraceSummaries"]]
    assert listed == [trace_id(number, T0 + number) for number in range(249, -1, -1)]
    assert [page["TracesProcessedCount"] for page in pages] == [250, 250, 250]
    assert pages[0]["ApproximateTime"] == at(150)  # the oldest trace on the page
    assert "NextToken" not in pages[-1]
    assert len(faults["TraceSummaries"]) == 84 and "NextToken" not in faults
    assert faults["TracesProcessedCount"] == 250


def test_time_range_types_find_traces_by_id_time_or_segment_time(xray):
    start = T0 + 100
    put(xray, *order_trace(8, start, payments_seconds=0.44))  # segments end at T0 + 100.5

    def found(**kwargs):
        answer = xray.get_trace_summaries(StartTime=at(100.2), EndTime=at(101), **kwargs)
        return [(s["Id"], s.get("MatchedEventTime")) for s in answer["TraceSummaries"]]

    assert found() == []  # the trace id says T0 + 100
    assert found(TimeRangeType="Event") == [(trace_id(8, start), at(100.5))]
    assert found(TimeRangeType="Service") == [(trace_id(8, start), at(100.5))]


def test_segments_arriving_separately_are_linked_when_the_caller_arrives(sandbox_xray):
    payments, orders, gateway = order_trace(1, T0 + 10)

    put(sandbox_xray, payments)
    alone = sandbox_xray.get_service_graph(**WINDOW)["Services"]
    put(sandbox_xray, orders)
    put(sandbox_xray, gateway)
    linked = sandbox_xray.get_service_graph(**WINDOW)["Services"]

    # Until its caller arrives, payments-api looks like an entry point.
    assert [(s["Name"], s["Type"]) for s in alone] == [("payments-api", "client"), ("payments-api", ECS)]
    assert [(s["Name"], s["Type"], s.get("Root", False)) for s in linked] == [
        ("orders", "AWS::DynamoDB::Table", False),
        ("orders-api", ECS, False),
        ("payments-api", ECS, False),
        ("storefront-gateway", "client", False),
        ("storefront-gateway", ECS, True),
    ]


def test_inferred_nodes_are_named_after_the_aws_resource_and_instrumented_callees_are_not_inferred(sandbox_xray):
    start = T0 + 10
    tid = trace_id(9, start)
    calls = [
        {"name": "SQS", "aws": {"queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/order-events"}},
        {"name": "SNS", "aws": {"topic_arn": "arn:aws:sns:eu-west-1:123456789012:orders"}},
        {"name": "S3", "aws": {"bucket_name": "invoices"}},
        {"name": "EventBridge", "aws": {"operation": "PutEvents"}},
        {"name": "Lambda", "aws": {"function_name": "notify", "operation": "Invoke"}},
    ]
    subsegments = [
        {"id": f"b{number:015x}", "namespace": "aws", "start_time": start + 0.01, "end_time": start + 0.02, **call}
        for number, call in enumerate(calls)
    ]
    caller = {
        "id": "a000000000000009",
        "trace_id": tid,
        "name": "orders-api",
        "origin": ECS,
        "start_time": start,
        "end_time": start + 0.05,
        "subsegments": subsegments,
    }
    notify = {
        "id": "c000000000000009",
        "trace_id": tid,
        "parent_id": subsegments[-1]["id"],
        "name": "notify",
        "origin": "AWS::Lambda::Function",
        "start_time": start + 0.011,
        "end_time": start + 0.019,
    }

    put(sandbox_xray, caller, notify)
    services = sandbox_xray.get_service_graph(**WINDOW)["Services"]

    assert sorted((s["Name"], s["Type"], s["State"]) for s in services) == [
        ("EventBridge", "AWS::EventBridge", "unknown"),
        ("arn:aws:sns:eu-west-1:123456789012:orders", "AWS::SNS", "unknown"),
        ("invoices", "AWS::S3::Bucket", "unknown"),
        ("notify", "AWS::Lambda::Function", "active"),
        ("order-events", "AWS::SQS::Queue", "unknown"),
        ("orders-api", ECS, "active"),
        ("orders-api", "client", "unknown"),
    ]


def test_batch_get_traces_returns_the_documents_put_with_the_trace_duration(xray):
    ids = put_shop(xray)
    unknown = trace_id(99, T0)

    answer = xray.batch_get_traces(TraceIds=[ids[2], unknown])

    (trace,) = answer["Traces"]
    assert trace["Id"] == ids[2]
    assert trace["Duration"] == 1.294
    assert trace["LimitExceeded"] is False
    documents = [json.loads(segment["Document"]) for segment in trace["Segments"]]
    payments, orders, gateway = order_trace(
        2, T0 + 20, payments_seconds=1.2341, payments_fault=True, fault_propagates=True, method="POST"
    )
    assert documents == [gateway, orders, payments]  # by start time
    assert [segment["Id"] for segment in trace["Segments"]] == [gateway["id"], orders["id"], payments["id"]]
    assert answer["UnprocessedTraceIds"] == [unknown]


def test_moto_reset_forgets_the_index(sandbox_xray):
    put_shop(sandbox_xray)

    reset()
    empty = sandbox_xray.get_service_graph(**WINDOW)["Services"]
    put(sandbox_xray, *order_trace(1, T0 + 10))
    again = sandbox_xray.get_service_graph(**WINDOW)["Services"]

    assert empty == []
    assert sandbox_xray.get_trace_summaries(**WINDOW)["TraceSummaries"][0]["Id"] == trace_id(1, T0 + 10)
    assert [s.get("SummaryStatistics", {}).get("TotalCount") for s in again] == [1, 1, 1, None, 1]


@pytest.mark.parametrize(
    ("call", "kwargs", "message"),
    [
        ("get_service_graph", {"StartTime": at(60), "EndTime": at(0)}, "StartTime must be before EndTime."),
        ("get_trace_summaries", {"StartTime": at(60), "EndTime": at(0)}, "StartTime must be before EndTime."),
        ("get_service_graph", {**WINDOW, "NextToken": "bogus"}, "Invalid NextToken."),
        ("get_trace_summaries", {**WINDOW, "NextToken": "bogus"}, "Invalid NextToken."),
        ("get_trace_summaries", {**WINDOW, "TimeRangeType": "Wall"}, "TimeRangeType must be one of"),
        (
            "get_trace_summaries",
            {**WINDOW, "Sampling": True, "SamplingStrategy": {"Name": "FixedRate", "Value": 2.0}},
            "between 0 and 1",
        ),
    ],
)
def test_bad_requests_are_invalid_request_exceptions(sandbox_xray, call, kwargs, message):
    with pytest.raises(ClientError) as raised:
        getattr(sandbox_xray, call)(**kwargs)

    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert message in raised.value.response["Error"]["Message"]


def test_fixed_rate_sampling_keeps_a_stable_share(sandbox_xray):
    put(
        sandbox_xray,
        *(
            {
                "id": f"a{number:015x}",
                "trace_id": f"1-{int(T0):08x}-{number * 0x9E3779B1 % 2**96:024x}",
                "name": "storefront-gateway",
                "start_time": T0 + number / 1000,
                "end_time": T0 + number / 1000 + 0.01,
            }
            for number in range(200)
        ),
    )
    sampled = {"Sampling": True, "SamplingStrategy": {"Name": "FixedRate", "Value": 0.25}}

    first = sandbox_xray.get_trace_summaries(StartTime=at(0), EndTime=at(1), **sampled)
    second = sandbox_xray.get_trace_summaries(StartTime=at(0), EndTime=at(1), **sampled)

    assert 25 <= len(first["TraceSummaries"]) <= 75
    assert first["TraceSummaries"] == second["TraceSummaries"]
