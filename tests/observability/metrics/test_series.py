"""Series for pages: cached per query and period (a second view within the period makes no call), grouped per
account and region, and when AWS throttles, refuses, times out or is unreachable, the last good data, stale,
with a notice, at once (the breaker), never an exception."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from moto import mock_aws

from observability.metrics.series import SeriesQuery, fetch_series
from observability.timeranges import CHART_RANGES
from portal.aws.accounting import count_aws_calls
from portal.aws.clients import PageBudget
from portal.aws.models import AwsAccount
from tests.observability.conftest import put_points
from tests.observability.estate import ACCOUNT, REGION
from tests.observability.faults import ACCESS_DENIED, THROTTLING, closed_port_url, failing_cloudwatch

pytestmark = pytest.mark.django_db


def query(name: str, *, account: str = ACCOUNT, region: str = REGION, stat: str = "Sum") -> SeriesQuery:
    return SeriesQuery(account, region, "AWS/Lambda", "Invocations", (("FunctionName", name),), stat)


_MOMENT = {}


@pytest.fixture(autouse=True)
def _one_moment():
    """Every view of a test is made at the moment the test started, so a minute boundary crossed while it runs
    cannot move the window between two views (views within one period ask for the same window)."""
    _MOMENT["now"] = timezone.now()


def fetch(queries, range_key="1h", *, later=False, **kwargs):
    """`later`: a view one period later, when the first view's window has moved on (its cache entries no longer
    apply) but its last good data is still kept."""
    now = _MOMENT["now"] + (timedelta(minutes=1) if later else timedelta(0))
    with count_aws_calls() as calls:
        result = fetch_series(queries, CHART_RANGES.preset(range_key, now=now), **kwargs)
    return result, calls[("cloudwatch", "GetMetricData")]


def test_a_second_view_within_the_period_makes_no_aws_call(aws, account):
    put_points("AWS/Lambda", "Invocations", {"FunctionName": "orders"}, [1, 2, 3])
    wanted = [query("orders"), query("payments")]

    first, first_calls = fetch(wanted)
    second, second_calls = fetch(wanted)

    assert (first_calls, second_calls) == (1, 0)
    assert second.get(query("orders")).values == first.get(query("orders")).values == (1.0, 2.0, 3.0)
    assert second.get(query("orders")).fetched_at == first.get(query("orders")).fetched_at  # from the cache
    assert not second.notices and not second.get(query("orders")).stale


def test_the_cache_is_per_query_and_period(aws, account):
    fetch([query("orders")])

    _, another_query = fetch([query("orders"), query("payments")])
    _, another_period = fetch([query("orders")], "24h")
    _, same_again = fetch([query("orders"), query("payments")])

    assert (another_query, another_period, same_again) == (1, 1, 0)


def test_one_client_and_batch_per_account_and_region(aws, account):
    AwsAccount.objects.create(name="payments", account_id="222222222222", regions=["eu-west-1"])
    wanted = [query(f"fn-{i}") for i in range(3)] + [query("x", region="us-east-1"), query("y", account="222222222222")]

    result, calls = fetch(wanted)

    assert calls == 3  # eu-west-1 of the prod account (3 queries), its us-east-1, and the payments account
    assert not result.notices


def test_an_account_the_portal_does_not_read_is_a_notice_without_a_call(aws, account):
    result, calls = fetch([query("x", account="999999999999")])

    assert calls == 0
    assert result.notices[0].error_code == "unknown_account"
    assert "Account 999999999999 is not an enabled AWS account" in result.notices[0].message
    assert result.get(query("x", account="999999999999")).stale


def _warm(account):
    with mock_aws():
        put_points("AWS/Lambda", "Invocations", {"FunctionName": "orders"}, [4, 5])
        good, calls = fetch([query("orders")])
    assert calls == 1
    return good.get(query("orders"))


@pytest.mark.parametrize(
    ("fault", "code", "says"),
    [
        (THROTTLING, "throttled", "AWS is throttling cloudwatch GetMetricData calls"),
        (ACCESS_DENIED, "access_denied", "lacks the permission cloudwatch:GetMetricData"),
    ],
)
def test_throttling_and_access_denied_give_the_last_good_data_with_a_notice(
    settings, page_faults, account, fault, code, says
):
    good = _warm(account)
    with failing_cloudwatch(*fault) as endpoint:
        settings.AWS_ENDPOINT_URL = endpoint
        result, calls = fetch([query("orders")], later=True)

    stale = result.get(query("orders"))
    assert calls == 1
    assert (stale.values, stale.fetched_at, stale.stale) == (good.values, good.fetched_at, True)
    assert result.notices[0].error_code == code
    assert says in result.notices[0].message
    assert f"showing the data fetched at {good.fetched_at:%H:%M:%S} UTC" in result.notices[0].message


def test_a_timeout_gives_up_after_the_page_read_timeout(settings, page_faults, account):
    good = _warm(account)
    with failing_cloudwatch(*THROTTLING, delay=2) as endpoint:
        settings.AWS_ENDPOINT_URL = endpoint
        result, calls = fetch([query("orders")], later=True)

    assert calls == 1
    assert result.notices[0].error_code == "timeout"
    assert result.get(query("orders")).values == good.values


def test_unreachable_then_the_breaker_opens_and_pages_stop_trying(settings, page_faults, account):
    _warm(account)
    settings.AWS_ENDPOINT_URL = closed_port_url()
    for _ in range(2):  # AWS_BREAKER_FAILURES
        result, _ = fetch([query("orders")], later=True)
        assert result.notices[0].error_code == "endpoint_unreachable"

    with count_aws_calls() as calls:
        result = fetch_series([query("orders")], CHART_RANGES.preset("1h", now=_MOMENT["now"] + timedelta(minutes=1)))

    assert calls.total_attempts == 0  # refused by the breaker without touching the network
    assert result.notices[0].error_code == "circuit_open"
    assert result.get(query("orders")).values == (4.0, 5.0)


def test_with_nothing_remembered_a_failure_says_so(settings, page_faults, account):
    settings.AWS_ENDPOINT_URL = closed_port_url()

    result, _ = fetch([query("orders")])

    assert result.get(query("orders")).values == () and result.get(query("orders")).fetched_at is None
    assert "no earlier data to show" in result.notices[0].message


def test_once_the_page_has_spent_its_budget_on_aws_no_call_starts(settings, page_faults, account):
    AwsAccount.objects.create(name="payments", account_id="222222222222", regions=["eu-west-1"])
    with failing_cloudwatch(*THROTTLING, delay=0.2) as endpoint:
        settings.AWS_ENDPOINT_URL = endpoint
        started = time.monotonic()
        result, calls = fetch([query("a"), query("b", account="222222222222")], budget=PageBudget(0.1))

    assert calls == 1  # the first account's call took longer than the budget, so the second was not made
    assert [n.error_code for n in result.notices] == ["throttled", "page_budget"]
    assert "AWS was slow for this page" in result.notices[1].message
    assert time.monotonic() - started < 30  # sanity only: nothing waited on the second account
