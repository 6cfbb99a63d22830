"""The X-Ray pages: who may read them, what they show, AWS calls and queries per view, and AWS trouble
(throttling, access denied, unreachable) shown as a notice with the last good data, never as an error."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from portal.actors import Actor
from portal.aws.accounting import count_aws_calls
from tests.observability.faults import closed_port_url
from tests.observability.xray.estate import estate_calls, estate_names, estate_trace, put, put_shop
from tests.observability.xray.faults import ACCESS_DENIED, THROTTLED, failing_xray

MAP = "/observability/xray/"
TRACES = "/observability/xray/traces/"


@pytest.fixture
def recent(xray, prod_account, shop):
    """The shop's traces five minutes ago, in the default account and region; their ids by number."""
    return put_shop(xray, float(int(time.time()) - 300))


def trace_url(trace_id: str) -> str:
    return f"/observability/xray/traces/meridian-prod/eu-west-1/{trace_id}/"


# --- who may read -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["viewer", "maintainer", "outsider", "portal_admin"])
def test_every_signed_in_person_reads_every_x_ray_page(client_as, who, recent):
    client = client_as(who)
    pages = [
        MAP,
        "/observability/xray/systems/default/commerce/",
        "/observability/xray/teams/team-payments/",
        TRACES,
        trace_url(recent[2]),
        "/catalog/default/component/orders-api/xray/",
        "/observability/xray/notice/default/component/orders-api/",
    ]
    for url in pages:
        assert client.get(url).status_code == 200, url


def test_anonymous_visitors_are_sent_to_sign_in(client_as, recent):
    client = client_as("anonymous")
    for url in (MAP, TRACES, trace_url(recent[2]), "/observability/xray/notice/default/component/orders-api/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


# --- the estate map -----------------------------------------------------------------------------------------


def test_the_estate_map_draws_every_service_links_entities_and_says_when_fetched(client_as, recent):
    client = client_as("viewer")

    with count_aws_calls() as first:
        response = client.get(MAP)
    with count_aws_calls() as second:
        again = client.get(MAP)

    assert first[("xray", "GetServiceGraph")] == 1 and first.total == 1
    assert second.total == 0
    html = response.content.decode()
    assert 'data-testid="service-map"' in html and 'id="xray-map-figure"' in html
    assert 'data-testid="fetched-at"' in html and "Fetched " in html
    rows = re.findall(r'data-testid="map-service" data-name="([^"]+)" data-health="(\w+)"', html)
    assert sorted(rows) == [
        ("Clients", "idle"),
        ("orders", "warning"),
        ("orders-api", "critical"),
        ("payments-api", "critical"),
        ("psp.example.com", "ok"),
        ("storefront-gateway", "critical"),
    ]
    assert 'href="/catalog/default/component/payments-api/"' in html
    assert 'href="/catalog/default/resource/orders-table/"' in html
    assert 'data-caller="orders-api" data-callee="payments-api" data-health="critical"' in html
    assert again.status_code == 200


def test_a_faulty_traces_link_asks_for_that_services_faults_in_its_account_and_region(client_as, recent):
    html = client_as("viewer").get(MAP).content.decode()

    row = re.search(r'data-name="payments-api".*?data-testid="service-faults"', html, re.S).group(0)
    link = re.findall(r'href="([^"]+)"', row)[-1].replace("&amp;", "&")
    query = parse_qs(urlsplit(link).query)
    assert urlsplit(link).path == TRACES
    assert query == {
        "account": ["meridian-prod"],
        "region": ["eu-west-1"],
        "filter": ['service("payments-api") { fault }'],
        "range": ["1h"],
    }


def test_map_queries_do_not_grow_with_the_number_of_services(client_as, xray, prod_account, orders):
    client = client_as("viewer")
    actor = Actor.for_system("tests")
    for name in estate_names(60):
        document = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name},
            "spec": {"type": "service", "lifecycle": "production", "owner": "team-orders"},
        }
        services.entity_create(actor=actor, document=document)
    now = float(int(time.time()) - 300)

    def queries_for(size: int) -> tuple[int, int]:
        cache.clear()
        calls = estate_calls(size)
        put(xray, *estate_trace(size, now + size, calls))
        with CaptureQueriesContext(connection) as queries:
            response = client.get(MAP)
        assert response.status_code == 200
        return len(queries.captured_queries), response.content.decode().count('data-testid="map-service"')

    small, small_rows = queries_for(12)
    large, large_rows = queries_for(60)

    # Session and user, the enabled accounts, entities by annotation, Components by name: the same at 12 and 60.
    assert small == large
    assert (small_rows, large_rows) == (13, 61)  # the services and the clients


def test_a_bad_time_range_is_a_400_with_the_reason_and_no_aws_call(client_as, recent):
    with count_aws_calls() as aws_calls:
        response = client_as("viewer").get(MAP, {"range": "custom", "start": "soon", "end": "later"})

    assert response.status_code == 400
    assert "is not a date and time" in response.content.decode()
    assert aws_calls.total == 0


def test_unknown_systems_and_teams_are_404(client_as, recent):
    client = client_as("viewer")
    assert client.get("/observability/xray/systems/default/nope/").status_code == 404
    assert client.get("/observability/xray/teams/nope/").status_code == 404


def test_a_system_map_shows_its_services_and_neighbours_only(client_as, recent):
    html = client_as("viewer").get("/observability/xray/systems/default/payments/").content.decode()

    names = sorted(re.findall(r'data-testid="map-service" data-name="([^"]+)"', html))
    assert names == ["orders-api", "payments-api", "psp.example.com"]


# --- AWS trouble --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "code", "words"),
    [
        (THROTTLED, "throttled", "AWS is throttling xray GetServiceGraph calls"),
        (ACCESS_DENIED, "access_denied", "lacks the permission xray:GetServiceGraph"),
    ],
)
def test_throttling_or_access_denied_shows_the_last_good_map_with_a_notice(
    client_as, recent, settings, page_faults, fault, code, words
):
    client = client_as("viewer")
    good = client.get(MAP).content.decode()
    assert 'data-testid="aws-notice"' not in good
    settings.OBSERVABILITY_XRAY_FRESH_SECONDS = 0  # the next view comes after the graph's minute

    with failing_xray(*fault) as (endpoint, seen):
        settings.AWS_ENDPOINT_URL = endpoint
        with count_aws_calls() as aws_calls:
            response = client.get(MAP)

    html = response.content.decode()
    assert response.status_code == 200
    assert seen and aws_calls[("xray", "GetServiceGraph")] == 1
    assert f'data-error-code="{code}"' in html and words in html
    assert "Showing the graph fetched" in html
    assert 'data-name="payments-api"' in html  # the last good map is still drawn


def test_a_slow_x_ray_costs_the_page_its_short_page_timeout_and_shows_the_last_good_map(
    client_as, recent, settings, page_faults
):
    client = client_as("viewer")
    client.get(MAP)
    settings.OBSERVABILITY_XRAY_FRESH_SECONDS = 0

    # Answers after 2 s; pages wait AWS_PAGE_READ_TIMEOUT (0.3 s here) and do not retry.
    with failing_xray(*THROTTLED, delay=2.0) as (endpoint, seen):
        settings.AWS_ENDPOINT_URL = endpoint
        with count_aws_calls() as aws_calls:
            response = client.get(MAP)

    html = response.content.decode()
    assert response.status_code == 200
    assert aws_calls.total_attempts == 1 and len(seen) == 1
    assert 'data-error-code="timeout"' in html and "Showing the graph fetched" in html
    assert 'data-name="payments-api"' in html


def test_once_the_page_budget_is_spent_other_accounts_get_their_last_good_graph_without_a_call(
    client_as, recent, settings
):
    from portal.aws.models import AwsAccount

    AwsAccount.objects.create(name="meridian-zz", account_id="333333333333", regions=["eu-west-1"])
    settings.AWS_PAGE_BUDGET = 0  # spent as soon as the first call returns

    with count_aws_calls() as aws_calls:
        response = client_as("viewer").get(MAP)

    html = response.content.decode()
    assert aws_calls[("xray", "GetServiceGraph")] == 1  # meridian-prod's; meridian-zz's was not started
    assert 'data-error-code="page_budget"' in html and "AWS was slow for this page" in html
    assert 'data-name="payments-api"' in html


def test_an_unreachable_endpoint_with_nothing_remembered_renders_a_notice_not_a_500(
    client_as, prod_account, settings, page_faults
):
    settings.AWS_ENDPOINT_URL = closed_port_url()

    response = client_as("viewer").get(MAP)
    trace_list = client_as("viewer").get(TRACES)
    trace = client_as("viewer").get(trace_url("1-5f000000-000000000000000000000001"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-error-code="endpoint_unreachable"' in html and "Cannot connect to the AWS endpoint" in html
    assert "No graph of this account and region has been fetched yet." in html
    assert trace_list.status_code == 200 and 'data-testid="aws-notice"' in trace_list.content.decode()
    assert trace.status_code == 200 and "has not been fetched yet" in trace.content.decode()


def test_once_the_breaker_opens_the_map_is_served_without_touching_the_network(
    client_as, prod_account, settings, page_faults
):
    settings.AWS_ENDPOINT_URL = closed_port_url()
    client = client_as("viewer")
    for _ in range(2):  # AWS_BREAKER_FAILURES
        client.get(MAP)

    with count_aws_calls() as aws_calls:
        response = client.get(MAP)

    assert response.status_code == 200
    assert aws_calls.total_attempts == 0
    assert 'data-error-code="circuit_open"' in response.content.decode()


# --- traces -------------------------------------------------------------------------------------------------


def test_the_trace_list_filters_with_x_rays_language_newest_first(client_as, recent):
    response = client_as("viewer").get(TRACES, {"filter": 'service("payments-api") { fault }'})

    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'data-testid="trace-row" data-trace-id="([^"]+)"', html) == [recent[4], recent[2]]
    assert f'href="{trace_url(recent[2])}"' in html
    assert 'data-testid="fetched-at"' in html


def test_an_expression_x_ray_refuses_is_shown_on_the_form(client_as, recent):
    response = client_as("viewer").get(TRACES, {"filter": 'service("orders-api" AND fault'})

    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="filter-error"' in html
    assert "Invalid filter expression" in html and "is-invalid" in html


def test_older_pages_follow_x_rays_token(client_as, xray, prod_account):
    now = float(int(time.time()) - 900)
    put(
        xray,
        *(
            {
                "id": f"a{n:015x}",
                "trace_id": f"1-{int(now + n):08x}-{n:024x}",
                "name": "storefront-gateway",
                "start_time": now + n,
                "end_time": now + n + 0.01,
            }
            for n in range(120)
        ),
    )
    client = client_as("viewer")

    first = client.get(TRACES).content.decode()
    older = re.search(r'href="([^"]+)" data-testid="older-page"', first).group(1).replace("&amp;", "&")
    second = client.get(TRACES + older).content.decode()

    assert first.count('data-testid="trace-row"') == 100
    assert second.count('data-testid="trace-row"') == 20
    assert 'data-testid="newest-page"' in second and 'data-testid="older-page"' not in second


def test_the_trace_page_draws_the_waterfall_with_faults_http_and_annotations(client_as, recent):
    client = client_as("viewer")

    with count_aws_calls() as aws_calls:
        response = client.get(trace_url(recent[2]))

    html = response.content.decode()
    assert response.status_code == 200
    assert aws_calls[("xray", "BatchGetTraces")] == 1 and aws_calls.total == 1
    assert 'data-testid="waterfall"' in html and 'id="xray-waterfall-figure"' in html
    spans = re.findall(r'data-testid="span" data-name="([^"]+)" data-outcome="(\w+)"', html)
    assert spans[0] == ("storefront-gateway", "fault") and spans[-1] == ("payments-api", "fault")
    assert "http://payments-api/charges" in html and "<code>order_id</code> = o-2" in html
    assert "aws.table_name</span> orders" in html


def test_unknown_traces_accounts_and_ids_are_404(client_as, recent):
    client = client_as("viewer")
    assert client.get(trace_url("1-5f000000-000000000000000000000099")).status_code == 404
    assert client.get(trace_url("not-a-trace")).status_code == 404
    assert client.get(f"/observability/xray/traces/nope/eu-west-1/{recent[1]}/").status_code == 404


# --- the entity page ----------------------------------------------------------------------------------------


def test_the_entity_tab_says_what_is_called_but_not_declared_and_shows_its_map(client_as, recent):
    client = client_as("viewer")

    response = client.get("/catalog/default/component/orders-api/xray/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "orders-api calls payments-api, not declared in dependsOn" in html
    assert "orders-api declares a dependency on order-saga (dependsOn), never observed" in html
    names = sorted(re.findall(r'data-testid="map-service" data-name="([^"]+)"', html))
    assert names == ["orders", "orders-api", "payments-api", "storefront-gateway"]
    assert "observability/xray.js" in html


def test_a_bad_range_on_the_entity_tab_is_a_400_with_the_reason_and_no_aws_call(client_as, recent):
    with count_aws_calls() as aws_calls:
        response = client_as("viewer").get("/catalog/default/component/orders-api/xray/", {"range": "week"})

    assert response.status_code == 400
    assert "Unknown time range" in response.content.decode()
    assert aws_calls.total == 0


def test_the_overview_loads_a_compact_notice_after_the_page(client_as, recent):
    client = client_as("viewer")

    with count_aws_calls() as overview_calls:
        overview = client.get("/catalog/default/component/orders-api/").content.decode()
    notice = client.get("/observability/xray/notice/default/component/orders-api/").content.decode()

    assert overview_calls.total == 0  # the overview itself never waits on AWS
    assert 'hx-get="/observability/xray/notice/default/component/orders-api/"' in overview
    assert "X-Ray shows 1 call the catalog does not declare (orders-api calls payments-api" in notice
    assert "1 declared dependency never observed" in notice
    assert 'href="/catalog/default/component/orders-api/xray/"' in notice
