"""Traces: the list through GetTraceSummaries with X-Ray filter expressions, one trace's waterfall through
BatchGetTraces, and the time range of X-Ray pages."""

import time
from datetime import UTC, datetime

import pytest

from observability.timeranges import Window
from observability.xray.aws import Trace
from observability.xray.trace_waterfall import FAULT, SEGMENT, THROTTLE, waterfall, waterfall_figure
from observability.xray.traces import (
    MAX_EXPRESSION_LENGTH,
    TraceQueryError,
    choose_source,
    clean_expression,
    trace_detail,
    trace_list,
    trace_sources,
)
from portal.aws.accounting import count_aws_calls
from tests.observability.xray.estate import put, put_shop
from tests.sandbox.xray_shop import order_trace, trace_id


@pytest.fixture
def base():
    return float(int(time.time()) - 600)


def window_around(base: float, seconds: float = 60) -> Window:
    return Window("custom", datetime.fromtimestamp(base, UTC), datetime.fromtimestamp(base + seconds, UTC))


# --- the list -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("", [4, 3, 2, 1]),
        ("fault", [2]),
        ('service("payments-api") { fault }', [4, 2]),
        ('service("orders-api") AND throttle', [3]),
        ('annotation.order_id = "o-3"', [3]),
        ('http.method = "POST" OR user = "alice"', [2, 1]),
    ],
)
def test_the_expression_goes_to_x_ray_and_traces_come_newest_first(xray, prod_account, base, expression, expected):
    ids = put_shop(xray, base)
    source = choose_source(trace_sources(), "", "")

    with count_aws_calls() as aws_calls:
        found = trace_list(source, window_around(base), expression)

    assert [s.id for s in found.summaries] == [ids[n] for n in expected]
    assert aws_calls[("xray", "GetTraceSummaries")] == 1
    assert (found.filter_error, found.error, found.stale) == ("", "", False)
    assert found.fetched_at is not None


def test_summaries_carry_http_flags_annotations_and_services(xray, prod_account, base):
    ids = put_shop(xray, base)

    (faulty,) = trace_list(choose_source(trace_sources(), "", ""), window_around(base), "fault").summaries

    assert faulty.id == ids[2]
    assert (faulty.has_fault, faulty.has_error, faulty.has_throttle, faulty.http_status) == (True, False, False, 502)
    assert (faulty.http_method, faulty.http_url) == ("POST", "https://shop.example.com/orders/o-2")
    assert faulty.duration == pytest.approx(1.294)
    assert faulty.entry_point == "storefront-gateway"
    assert set(faulty.services) >= {"storefront-gateway", "orders-api", "payments-api"}
    assert dict(faulty.annotations)["order_id"] == ("o-2",)


def test_an_expression_x_ray_refuses_is_a_form_error_with_its_message(xray, prod_account, base):
    put_shop(xray, base)
    source = choose_source(trace_sources(), "", "")

    refused = trace_list(source, window_around(base), 'service("orders-api" AND fault')
    with count_aws_calls() as again:
        trace_list(source, window_around(base), 'service("orders-api" AND fault')

    assert refused.filter_error.startswith('Invalid filter expression "service("orders-api" AND fault"')
    assert refused.summaries == [] and refused.error == "" and refused.stale is False
    assert again.total == 1  # a refusal is not remembered as an answer


def test_pages_follow_x_rays_next_token_and_a_page_is_cached(xray, prod_account, base):
    documents = [
        {
            "id": f"a{number:015x}",
            "trace_id": trace_id(number, base + number / 10),
            "name": "storefront-gateway",
            "start_time": base + number / 10,
            "end_time": base + number / 10 + 0.01,
        }
        for number in range(150)
    ]
    put(xray, *documents)
    source = choose_source(trace_sources(), "", "")

    first = trace_list(source, window_around(base), "")
    second = trace_list(source, window_around(base), "", page_token=first.next_token)
    with count_aws_calls() as reload:
        trace_list(source, window_around(base), "", page_token=first.next_token)

    assert len(first.summaries) == 100 and first.next_token
    assert [s.id for s in first.summaries][:2] == [trace_id(149, base + 14.9), trace_id(148, base + 14.8)]
    assert len(second.summaries) == 50 and second.next_token == ""
    assert second.summaries[0].id == trace_id(49, base + 4.9)
    assert reload.total == 0


def test_expressions_are_bounded_and_sources_must_exist(prod_account):
    assert clean_expression("  fault  ") == "fault"
    with pytest.raises(TraceQueryError, match=f"at most {MAX_EXPRESSION_LENGTH}"):
        clean_expression("x" * (MAX_EXPRESSION_LENGTH + 1))
    with pytest.raises(TraceQueryError, match="No enabled AWS account 'nope'"):
        choose_source(trace_sources(), "nope", "eu-west-1")
    assert choose_source(trace_sources(), "meridian-prod", "").region == "eu-west-1"


def test_without_accounts_there_is_nothing_to_list(db):
    with pytest.raises(TraceQueryError, match="No AWS account is configured"):
        choose_source(trace_sources(), "", "")


# --- one trace ----------------------------------------------------------------------------------------------


def test_the_waterfall_nests_segments_under_the_calls_that_made_them(xray, prod_account, base):
    ids = put_shop(xray, base)
    source = choose_source(trace_sources(), "", "")

    with count_aws_calls() as aws_calls:
        fetched = trace_detail(source, ids[2])
    fall = waterfall(fetched.trace)

    assert aws_calls[("xray", "BatchGetTraces")] == 1
    assert [(s.depth, s.label, s.outcome) for s in fall.spans] == [
        (0, "storefront-gateway", "fault"),
        (1, "orders-api (remote)", "ok"),
        (2, "orders-api", "fault"),
        (3, "DynamoDB (aws)", "ok"),
        (3, "payments-api (remote)", "ok"),
        (4, "payments-api", "fault"),
    ]
    gateway, _, _, dynamodb, _, payments = fall.spans
    assert (gateway.offset, gateway.duration) == (0.0, pytest.approx(1.2941, abs=1e-6))
    assert payments.offset == pytest.approx(0.035, abs=1e-6)
    assert payments.colour == FAULT
    assert dict(payments.http) == {"method": "POST", "url": "http://payments-api/charges", "response status": "500"}
    assert dict(payments.annotations) == {"amount": "10", "express": "false"}
    assert dict(dynamodb.aws) == {"operation": "GetItem", "region": "eu-west-1", "table_name": "orders"}
    assert fall.duration == pytest.approx(1.2941, abs=1e-6)
    assert fall.faults == 3


def test_a_trace_crossing_accounts_is_joined_from_each_accounts_x_ray(xray, prod_account, base):
    from portal.aws.models import AwsAccount
    from tests.observability.conftest import SECOND_ACCOUNT_ID, SECOND_ROLE_ARN
    from tests.observability.xray.estate import assumed_credentials, xray_client

    AwsAccount.objects.create(
        name="meridian-payments", account_id=SECOND_ACCOUNT_ID, role_arn=SECOND_ROLE_ARN, regions=["eu-west-1"]
    )
    payments, orders_api, gateway = order_trace(5, base + 10, payments_fault=True)
    put(xray, orders_api, gateway)
    put(
        xray_client(xray.meta.endpoint_url, "eu-west-1", assumed_credentials(xray.meta.endpoint_url, SECOND_ROLE_ARN)),
        payments,
    )
    prod = choose_source(trace_sources(), "meridian-prod", "eu-west-1")

    with count_aws_calls() as aws_calls:
        fetched = trace_detail(prod, gateway["trace_id"])
    fall = waterfall(fetched.trace)

    assert aws_calls[("xray", "BatchGetTraces")] == 2  # one an account and region
    assert fetched.sources_with_segments == ["meridian-prod eu-west-1", "meridian-payments eu-west-1"]
    assert [(s.depth, s.label) for s in fall.spans][-2:] == [(3, "payments-api (remote)"), (4, "payments-api")]
    assert fall.faults == 1


def test_the_waterfall_figure_has_one_bar_a_span_in_milliseconds(xray, prod_account, base):
    ids = put_shop(xray, base)
    fall = waterfall(trace_detail(choose_source(trace_sources(), "", ""), ids[3]).trace)

    figure = waterfall_figure(fall)

    bars = figure["data"][0]
    assert bars["orientation"] == "h"
    assert len(bars["y"]) == len(fall.spans) == 6
    assert bars["base"][0] == 0.0 and bars["x"][0] == pytest.approx(120.0, abs=1e-3)
    assert figure["layout"]["yaxis"]["ticktext"][3] == "\u00a0" * 6 + "DynamoDB (aws)"
    colours = bars["marker"]["color"]
    assert colours[0] == SEGMENT and colours[3] == THROTTLE  # the throttled DynamoDB call
    assert "table_name: orders" in bars["hovertext"][3]


def test_an_in_progress_segment_and_an_orphan_still_draw():
    start = 1_767_225_600.0
    documents = order_trace(7, start)
    payments, orders, gateway = documents
    orders = {**orders, "in_progress": True}
    orders.pop("end_time")
    orphan = {**payments, "parent_id": "ffffffffffffffff"}  # its caller's segment never arrived

    fall = waterfall(Trace(id=gateway["trace_id"], duration=None, segments=(gateway, orders, orphan)))

    assert [(s.depth, s.label, s.in_progress) for s in fall.spans] == [
        (0, "storefront-gateway", False),
        (1, "orders-api (remote)", False),
        (2, "orders-api", True),
        (3, "DynamoDB (aws)", False),
        (3, "payments-api (remote)", False),
        (0, "payments-api", False),  # a root of its own, in start order
    ]
    figure = waterfall_figure(fall)
    assert min(figure["data"][0]["x"]) > 0


def test_a_trace_x_ray_does_not_have_is_none_and_remembered(xray, prod_account):
    source = choose_source(trace_sources(), "", "")
    missing = trace_id(99, time.time())

    first = trace_detail(source, missing)
    with count_aws_calls() as again:
        second = trace_detail(source, missing)

    assert first.trace is None and second.trace is None and first.notices == []
    assert again.total == 0
