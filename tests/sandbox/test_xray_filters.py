"""GetTraceSummaries' FilterExpression: the X-Ray filter language over the shop's traces (xray_shop)."""

from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sandbox.seed import SANDBOX_CREDENTIALS
from tests.sandbox.xray_shop import REGION, T0, put_shop

WINDOW = {"StartTime": datetime.fromtimestamp(T0, UTC), "EndTime": datetime.fromtimestamp(T0 + 60, UTC)}


@pytest.fixture
def shop(sandbox_endpoint):
    """The sandbox holding the shop's traces: (client, trace number by id)."""
    xray = boto3.client("xray", region_name=REGION, endpoint_url=sandbox_endpoint, **SANDBOX_CREDENTIALS)
    ids = put_shop(xray)
    return xray, {trace: number for number, trace in ids.items()}


def matching(shop, expression):
    xray, numbers = shop
    return {numbers[s["Id"]] for s in xray.get_trace_summaries(**WINDOW, FilterExpression=expression)["TraceSummaries"]}


# Trace 1 is fine and calls the PSP; 2 faults in payments-api and the client gets a 502 (POST);
# 3 has a throttled DynamoDB call it retried; 4 has a payments-api fault orders-api handled.
@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("fault", {2}),
        ("!fault", {1, 3, 4}),
        ("NOT fault", {1, 3, 4}),
        ("fault = false", {1, 3, 4}),
        ("fault != true", {1, 3, 4}),
        ("error", set()),
        ("throttle", {3}),
        ("ok", {1, 3, 4}),
        ("partial", set()),
        ("duration > 1", {2}),
        ("responsetime <= 0.12", {1, 3, 4}),
        ("duration >= 0.1 AND duration < 1", {1, 3, 4}),
        ("responsetime = 1.2941", set()),  # 1.294 once rounded, but compared unrounded
        ("http.status = 502", {2}),
        ("http.status != 200", {2}),
        ("http.status >= 500", {2}),
        ('http.url CONTAINS "/orders/"', {1, 2, 3, 4}),
        ('http.url BEGINSWITH "https://shop.example.com/orders/o-1"', {1}),
        ('http.url ENDSWITH "o-3"', {3}),
        ('http.url = "https://shop.example.com/orders/o-4"', {4}),
        ('http.url != "https://shop.example.com/orders/o-4"', {1, 2, 3}),
        ('http.method = "POST"', {2}),
        ('http.clientip = "10.0.0.7"', {1, 2, 3, 4}),
        ('user = "alice"', {1}),
        ('user != "alice"', {3}),  # traces without a user have no user to differ
        ('user BEGINSWITH "b"', {3}),
        ('service("payments-api")', {1, 2, 3, 4}),
        ('service("psp.example.com")', {1}),
        ('service("payments-api") {fault}', {2, 4}),
        ('service("payments-api") { ok }', {1, 3}),
        ('service("orders-api") {error}', set()),
        ('service(id(name: "orders", type: "AWS::DynamoDB::Table")) {throttle}', {3}),
        ('service(id(name: "orders", type: "AWS::DynamoDB::Table")) {error}', {3}),  # a 429 is an error too
        ('service(id(type: "remote"))', {1}),
        ('service(id(name: "orders-api", type: "AWS::Lambda::Function"))', set()),
        ("service() {fault}", {2, 4}),
        ('service("nope")', set()),
        ('service("payments-api") { responsetime > 1 }', {2}),
        ('edge("orders-api", "payments-api") {fault}', {2, 4}),
        ('edge("storefront-gateway", "orders-api") { responsetime > 1 }', {2}),
        ('edge(id(name: "orders-api"), id(name: "orders", type: "AWS::DynamoDB::Table")) {throttle}', {3}),
        ('edge("payments-api", "orders-api")', set()),
        ('annotation.order_id = "o-3"', {3}),
        ("annotation[order_id] BEGINSWITH 'o-'", {1, 2, 3, 4}),
        ('annotation.order_id != "o-3"', {1, 2, 4}),
        ("annotation.amount > 40", {1}),
        ("annotation.amount = 10", {2, 3, 4}),
        ("annotation.express = true", {3}),
        ("annotation.express", {3}),
        ('annotation.amount = "10"', set()),  # a number annotation never equals a string
        ('annotation.missing = "x"', set()),
        ('annotation.missing != "x"', set()),
        ('SERVICE("payments-api") {FAULT} and Not throttle', {2, 4}),
        ('fault OR throttle AND annotation.order_id = "o-1"', {2}),  # AND binds tighter than OR
        ('(fault OR throttle) AND NOT annotation.order_id = "o-2"', {3}),
        ("((ok))", {1, 3, 4}),
        ("", {1, 2, 3, 4}),  # no filter
    ],
)
def test_filter_expressions_select_traces(shop, expression, expected):
    assert matching(shop, expression) == expected


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("duration >", "'duration' compares with a number, found the end of the expression at character 11."),
        ('duration > "slow"', """'duration' compares with a number, found '"slow"' at character 12."""),
        ("http.status CONTAINS 5", "operator 'CONTAINS' does not apply to the number keyword 'http.status'"),
        ('http.url > "a"', "operator '>' does not apply to the string keyword 'http.url'"),
        ("http.url = 5", "'http.url' compares with a quoted string, found '5'"),
        ("latency > 1", "unknown keyword 'latency' (expected one of annotation, duration, edge, error, fault,"),
        ("(fault OR error", "expected ')' to close the '(' at character 1, found the end of the expression"),
        ('service("a") {fault', "expected '}' to close the '{' at character 14"),
        ('annotation.order_id = "o-1', "unterminated string at character 23."),
        ("fault fault", "unexpected 'fault' at character 7."),
        ('service("a") { http.status = 500 }', "'http.status' cannot be used inside {...} of service() or edge()"),
        ("fault = maybe", "'fault' compares with true or false, found 'maybe'"),
        ("fault && error", "unexpected character '&' at character 7."),
        ("fault < true", "operator '<' does not apply to the boolean keyword 'fault'"),
        ('edge("a")', "expected ',' between the two services of edge(), found ')'"),
        ('service(id(nam: "x"))', "id() takes name: and type:, found 'nam'"),
        ("service(orders)", """expected a service as "name" or id(name: "...", type: "..."), found 'orders'"""),
        ("annotation.amount CONTAINS 4", "operator 'CONTAINS' does not apply to a number annotation value"),
        ("AND fault", "expected a keyword, found 'AND'"),
        ("   ", None),  # blank: no filter, not an error
    ],
)
def test_malformed_expressions_are_invalid_requests_naming_the_problem(shop, expression, problem):
    xray, _ = shop
    if problem is None:
        assert len(xray.get_trace_summaries(**WINDOW, FilterExpression=expression)["TraceSummaries"]) == 4
        return

    with pytest.raises(ClientError) as raised:
        xray.get_trace_summaries(**WINDOW, FilterExpression=expression)

    error = raised.value.response["Error"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Code"] == "InvalidRequestException"
    assert error["Message"].startswith(f'Invalid filter expression "{expression}": ')
    assert problem in error["Message"]


@mock_aws
def test_filters_work_under_mock_aws_too():
    xray = boto3.client("xray", region_name=REGION)
    numbers = {trace: number for number, trace in put_shop(xray).items()}

    found = xray.get_trace_summaries(**WINDOW, FilterExpression='service("payments-api") {fault} AND !fault')
    with pytest.raises(ClientError) as raised:
        xray.get_trace_summaries(**WINDOW, FilterExpression="fault AND")

    assert [numbers[s["Id"]] for s in found["TraceSummaries"]] == [4]
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"
