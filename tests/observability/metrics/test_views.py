"""Observability pages for each role: the Metrics tab, the team and system dashboards, the overview; the alarm
state on entity and team pages; bad time ranges; AWS faults; AWS calls per view and query counts that do not
grow with the number of services."""

import json
import math
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Entity
from observability.metrics import services
from portal.aws.accounting import count_aws_calls
from tests.observability.conftest import put_alarm, put_points, set_alarm_state
from tests.observability.estate import (
    REGION,
    components,
    discover,
    lambda_arn,
    lambda_services,
    queue_arn,
    system,
    table_arn,
    target_group_arn,
)
from tests.observability.faults import ACCESS_DENIED, THROTTLING, closed_port_url, failing_cloudwatch

pytestmark = pytest.mark.django_db

SIGNED_IN = ["viewer", "maintainer", "outsider", "portal_admin"]


def tab_url(name: str, tab: str = "metrics", kind: str = "component") -> str:
    return reverse("catalog:entity_tab", args=["default", kind, name, tab])


@pytest.fixture
def orders_api(aws, account, orders):
    """orders-api: a Lambda function, a table and a queue, with traffic, and an alarm on its errors."""
    (component,) = components("orders-api")
    system("commerce")
    discover(
        (lambda_arn("orders-api"), "orders-api"),
        (table_arn("orders"), "orders-api"),
        (queue_arn("orders-dlq"), "orders-api"),
    )
    put_points("AWS/Lambda", "Invocations", {"FunctionName": "orders-api"}, [10, 12, 9, 14])
    put_points("AWS/Lambda", "Errors", {"FunctionName": "orders-api"}, [0, 1, 3, 0])
    put_points("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": "orders-dlq"}, [0, 2], every=300)
    put_alarm("orders-api errors", "AWS/Lambda", "Errors", {"FunctionName": "orders-api"}, threshold=2)
    set_alarm_state("orders-api errors", "ALARM")
    services.cloudwatch_sync(account=account, region=REGION)
    return component


def fixed_hour() -> str:
    """The last whole hour as a custom range: every view with it asks for the same window, so two views a
    test expects to share the cache cannot be split by a minute boundary the way "the last hour" can."""
    end = timezone.now().replace(second=0, microsecond=0)
    return f"range=custom&start={end - timedelta(hours=1):%Y-%m-%dT%H:%M}&end={end:%Y-%m-%dT%H:%M}"


def panels(response) -> dict[str, dict]:
    """Panel title -> its plotly figure, as the page carries them."""
    return {
        p.title: json.loads(
            response.content.decode().split(f'id="{p.figure_id}" type="application/json">')[1].split("</script>")[0]
        )
        for section in response.context["view"].sections
        for p in section.panels
    }


# --- the Metrics tab ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", SIGNED_IN)
def test_every_signed_in_person_sees_the_metrics_tab_with_its_golden_signals(client_as, people, orders_api, who):
    response = client_as(who).get(tab_url("orders-api"))

    assert response.status_code == 200
    view = response.context["view"]
    assert [s.signal for s in view.sections] == ["traffic", "errors", "latency", "saturation"]
    figures = panels(response)
    assert figures["orders-api · Invocations"]["data"][0]["y"] == [10.0, 12.0, 9.0, 14.0]
    assert "orders-dlq · ApproximateNumberOfMessagesVisible" in figures
    assert "orders · ThrottledRequests" in figures  # the table's metrics, with no data yet: charted empty
    # The alarm's threshold is drawn on its metric's chart, in the colour of its state.
    errors = figures["orders-api · Errors"]["layout"]
    assert [s["y0"] for s in errors["shapes"]] == [2.0]
    assert errors["annotations"][0]["text"] == "orders-api errors: Sum > 2 (In alarm)"
    body = response.content.decode()
    assert body.count('data-testid="metric-chart"') == sum(len(s.panels) for s in view.sections)
    assert 'data-testid="fetched-at"' in body and "Fetched " in body
    assert "vendor/plotly/plotly.min.js" in body and "observability/charts.js" in body
    assert [a.name for a in view.alarms] == ["orders-api errors"]


def test_anonymous_visitors_are_sent_to_sign_in(client_as, people, orders_api):
    for url in (
        tab_url("orders-api"),
        reverse("observability:index"),
        reverse("observability:team", args=["team-orders"]),
    ):
        response = client_as("anonymous").get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_resource_has_its_own_metrics_tab(client_as, people, orders_api):
    table = Entity.objects.get(kind_key="resource", spec_type="dynamodb-table")

    response = client_as("viewer").get(tab_url(table.name, kind="resource"))

    assert response.status_code == 200
    assert set(panels(response)) == {
        "orders · ConsumedReadCapacityUnits",
        "orders · ConsumedWriteCapacityUnits",
        "orders · ThrottledRequests",
    }


def test_a_component_without_resources_says_there_is_nothing_to_chart(client_as, people, aws, account):
    components("lonely")
    with count_aws_calls() as calls:
        response = client_as("viewer").get(tab_url("lonely"))
    assert b'data-testid="metrics-empty"' in response.content
    assert calls.total == 0


def test_the_annotation_adds_metrics_and_reports_its_mistakes(client_as, people, aws, account):
    annotation = "Meridian/Orders OrdersPlaced{Env=prod} Sum Count\nMeridian/Orders Oops{Env=prod} Median"
    components("orders-api", annotations={"meridian.io/cloudwatch-metrics": annotation})
    discover((lambda_arn("orders-api"), "orders-api"))
    put_points("Meridian/Orders", "OrdersPlaced", {"Env": "prod"}, [3, 4])

    response = client_as("viewer").get(tab_url("orders-api"))

    assert panels(response)["OrdersPlaced"]["data"][0]["y"] == [3.0, 4.0]
    assert response.context["view"].sections[-1].label == "More metrics"
    (problem,) = response.context["view"].problems
    assert "line 2 ('Meridian/Orders Oops{Env=prod} Median'): 'Median' is not a statistic" in problem
    assert b'data-testid="metric-problems"' in response.content


def test_a_target_group_waits_for_the_sync_to_learn_its_load_balancer(client_as, people, aws, account):
    components("orders-api")
    discover((target_group_arn("orders-api"), "orders-api"))

    response = client_as("viewer").get(tab_url("orders-api"))

    assert "The load balancer of target group orders-api is not known yet" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("range=fortnight", "Unknown time range &#x27;fortnight&#x27;"),
        ("range=custom&start=2025-03-01T10:00&end=2025-02-01T10:00", "must be before the end"),
        ("range=custom&start=nope&end=2025-02-01T10:00", "is not a date and time"),
    ],
)
def test_a_bad_time_range_is_explained_and_nothing_is_fetched(client_as, people, orders_api, query, message):
    with count_aws_calls() as calls:
        tab = client_as("viewer").get(f"{tab_url('orders-api')}?{query}")
        board = client_as("viewer").get(f"{reverse('observability:team', args=['team-orders'])}?{query}")

    assert tab.status_code == 400 and message in tab.content.decode()  # the entity page frames the tab
    assert board.status_code == 400 and message in board.content.decode()
    assert b'data-testid="range-error"' in tab.content and b'data-testid="range-error"' in board.content
    assert calls[("cloudwatch", "GetMetricData")] == 0


def test_each_preset_range_is_charted(client_as, people, orders_api):
    for key, period in (("1h", 60), ("6h", 60), ("24h", 300), ("7d", 1800)):
        response = client_as("viewer").get(f"{tab_url('orders-api')}?range={key}")
        assert response.status_code == 200
        assert response.context["window"].period == period
        assert f'data-testid="range-{key}"' in response.content.decode()


def test_when_aws_throttles_the_tab_renders_at_once_with_the_last_good_data_and_a_notice(
    client_as, people, orders_api, settings, page_faults
):
    client = client_as("viewer")
    hour = f"{tab_url('orders-api')}?{fixed_hour()}"
    first = panels(client.get(hour))
    with failing_cloudwatch(*THROTTLING) as endpoint:
        settings.AWS_ENDPOINT_URL = endpoint
        response = client.get(f"{tab_url('orders-api')}?range=6h")  # nothing cached for this range: AWS is asked
        cached = client.get(hour)  # the hour is still in the cache: AWS is not asked

    assert response.status_code == 200
    assert b'data-testid="aws-notice"' in response.content
    assert "AWS is throttling cloudwatch GetMetricData calls" in response.content.decode()
    assert cached.status_code == 200 and b'data-testid="aws-notice"' not in cached.content
    assert panels(cached)["orders-api · Invocations"]["data"] == first["orders-api · Invocations"]["data"]


@pytest.mark.parametrize("fault", ["throttled", "access_denied", "timeout", "endpoint_unreachable"])
def test_a_dashboard_renders_with_a_notice_whatever_aws_does(client_as, people, orders_api, page_faults, fault):
    settings = page_faults
    url = reverse("observability:team", args=["team-orders"])
    if fault == "endpoint_unreachable":
        settings.AWS_ENDPOINT_URL = closed_port_url()
        response = client_as("viewer").get(url)
    else:
        answer = {"throttled": THROTTLING, "access_denied": ACCESS_DENIED, "timeout": THROTTLING}[fault]
        with failing_cloudwatch(*answer, delay=1 if fault == "timeout" else 0) as endpoint:
            settings.AWS_ENDPOINT_URL = endpoint
            response = client_as("viewer").get(url)

    assert response.status_code == 200
    (notice,) = response.context["view"].notices
    assert notice.error_code == fault and notice.account == "meridian-prod (123456789012)"
    assert b'data-testid="aws-notice"' in response.content
    # The alarm states come from the database, so they still show.
    assert {r.service.name: r.alarms.worst for r in response.context["view"].rows} == {"orders-api": "ALARM"}


# --- calls per view and queries per page ---------------------------------------------------------------------


def test_a_dashboard_of_n_services_uses_ceil_n_k_over_500_calls_and_a_second_view_none(
    client_as, people, aws, account, orders
):
    lambda_services(130)  # k = 4 series a service (traffic, errors, latency, saturation): 520 queries
    client = client_as("viewer")
    url = f"{reverse('observability:team', args=['team-orders'])}?{fixed_hour()}"

    with count_aws_calls() as first:
        response = client.get(url)
    with count_aws_calls() as second:
        client.get(url)

    assert response.status_code == 200 and response.context["view"].queries == 520
    assert first[("cloudwatch", "GetMetricData")] == math.ceil(130 * 4 / 500) == 2
    assert second.total == 0
    assert len(response.context["view"].rows) == 130


def test_the_metrics_tab_makes_one_call_then_none(client_as, people, orders_api):
    client = client_as("viewer")
    url = f"{tab_url('orders-api')}?{fixed_hour()}"
    with count_aws_calls() as first:
        response = client.get(url)
    with count_aws_calls() as second:
        client.get(url)

    # 6 Lambda series (Duration's p50 and p99), 3 DynamoDB, 2 SQS: one call.
    assert response.context["view"].queries == 11
    assert first[("cloudwatch", "GetMetricData")] == 1 and second.total == 0


def test_the_dashboard_costs_the_same_queries_for_3_or_30_services(
    client_as, people, aws, account, orders, django_assert_num_queries
):
    client = client_as("viewer")
    url = f"{reverse('observability:team', args=['team-orders'])}?{fixed_hour()}"

    def view(expected_services):
        client.get(url)  # warm: the AWS account lookup is only made when series are missing from the cache
        # 1 session, 2 user, 3 the team, 4 the services' relations with their resources' fields, 5 their alarms,
        # 6 the user menu's memberships.
        with django_assert_num_queries(6):
            response = client.get(url)
        assert len(response.context["view"].rows) == expected_services

    lambda_services(3)
    view(3)
    lambda_services(30, prefix="more")
    view(33)


def test_the_metrics_tab_costs_the_same_queries_for_1_or_10_resources(
    client_as, people, aws, account, orders, django_assert_num_queries
):
    components("orders-api")
    discover((lambda_arn("orders-api"), "orders-api"))
    client = client_as("viewer")

    url = f"{tab_url('orders-api')}?{fixed_hour()}"

    def view(resources):
        client.get(url)  # warm: the AWS account lookup is only made when series are missing from the cache
        # 1 session, 2 user, 3 the entity, 4 can(): the viewer's role, 5-6 the header's alarm badge (resources,
        # alarms), 7 the header's open saga alerts, 8-9 the tab (resources, alarms), 10 the user menu's memberships.
        with django_assert_num_queries(10):
            response = client.get(url)
        assert len({p.title.split(" · ")[0] for s in response.context["view"].sections for p in s.panels}) == resources

    view(1)
    discover(*((lambda_arn(f"worker-{i}"), "orders-api") for i in range(9)))
    view(10)


# --- dashboards, the overview, the team and entity pages ---------------------------------------------------------


@pytest.mark.parametrize("who", SIGNED_IN)
def test_team_and_system_dashboards_chart_one_line_per_service_and_signal(client_as, people, orders_api, who):
    lambda_services(2)
    for url in (
        reverse("observability:team", args=["team-orders"]),
        reverse("observability:system", args=["default", "commerce"]),
    ):
        response = client_as(who).get(url)
        assert response.status_code == 200, url
        figures = panels(response)
        assert [line["name"] for line in figures["Traffic"]["data"]] == [
            "orders-api · Invocations Sum",
            "svc-000 · Invocations Sum",
            "svc-001 · Invocations Sum",
        ]
        assert figures["Traffic"]["data"][0]["y"] == [10.0, 12.0, 9.0, 14.0]
        rows = {r.service.name: r for r in response.context["view"].rows}
        assert rows["orders-api"].alarms.worst == "ALARM" and rows["svc-000"].alarms.total == 0


def test_unknown_team_or_system_is_a_404(client_as, people, aws, account):
    assert client_as("viewer").get(reverse("observability:team", args=["nope"])).status_code == 404
    assert client_as("viewer").get(reverse("observability:system", args=["default", "nope"])).status_code == 404


def test_the_overview_lists_firing_alarms_syncs_and_dashboards(client_as, people, orders_api):
    response = client_as("viewer").get(reverse("observability:index"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "orders-api errors" in body and reverse("observability:team", args=["team-orders"]) in body
    assert 'data-testid="syncs"' in body and "meridian-prod" in body


def test_the_overview_offers_dashboards_only_for_teams_with_something_to_chart(client_as, people, orders_api):
    body = client_as("viewer").get(reverse("observability:index")).content.decode()
    offered = body[body.index('data-testid="team-dashboards"') : body.index("</ul>", body.index("team-dashboards"))]
    assert reverse("observability:team", args=["team-orders"]) in offered
    # Payments owns no service linked to AWS resources: its dashboard would be empty, so it is not offered;
    # the page names the team and says what would give it one.
    assert reverse("observability:team", args=["team-payments"]) not in body
    assert 'data-testid="teams-without-dashboard"' in body and "Payments" in body


def test_the_team_page_shows_its_alarms_and_links_its_dashboard(client_as, people, orders_api):
    response = client_as("viewer").get(reverse("teams:detail", args=["team-orders"]))

    body = response.content.decode()
    assert 'data-testid="team-alarms"' in body and 'data-state="ALARM"' in body
    assert "orders-api errors" in body
    assert reverse("observability:team", args=["team-orders"]) in body


def test_the_home_page_lists_the_firing_alarms_of_the_users_teams_without_calling_aws(
    client_as, people, orders_api, payments, django_assert_num_queries
):
    from tests.factories import MembershipFactory

    client = client_as("viewer")
    with count_aws_calls() as calls:
        body = client.get("/").content.decode()
    assert calls.total == 0
    assert 'data-testid="home-alarm"' in body and "orders-api errors" in body
    assert reverse("catalog:entity", args=["default", "component", "orders-api"]) in body
    # Another team's alarms are not the viewer's; the outsider's team has none firing.
    assert "orders-api errors" not in client_as("outsider").get("/").content.decode()
    # The same queries for two teams as for one: 1 session, 2 user, 3 teams, 4 accounts, then the panels: the
    # teams' alarms (their components' resources, the alarms), saga alerts (one: none open), services (the rows),
    # then the menu's memberships.
    with django_assert_num_queries(9):
        client.get("/")
    MembershipFactory(team=payments, user=people["viewer"])
    with django_assert_num_queries(9):
        client.get("/")


def test_the_entity_page_header_shows_the_alarm_state(client_as, people, orders_api):
    body = client_as("viewer").get(reverse("catalog:entity", args=["default", "component", "orders-api"])).content
    assert b'data-testid="entity-alarms"' in body and b"1 in alarm" in body

    set_alarm_state("orders-api errors", "OK")
    from observability.metrics.services import cloudwatch_sync
    from portal.aws.models import AwsAccount

    cloudwatch_sync(account=AwsAccount.objects.get(), region=REGION)
    body = client_as("viewer").get(reverse("catalog:entity", args=["default", "component", "orders-api"])).content
    assert b'data-state="OK"' in body


def test_a_resource_without_golden_signals_shows_its_alarms_without_a_metrics_link(client_as, people, aws, account):
    (cluster,) = discover((f"arn:aws:ecs:{REGION}:123456789012:cluster/meridian-commerce", "compute-platform"))
    put_alarm("cluster cpu", "AWS/ECS", "CPUReservation", {"ClusterName": "meridian-commerce"}, threshold=80)
    services.cloudwatch_sync(account=account, region=REGION)

    body = client_as("viewer").get(reverse("catalog:entity", args=["default", "resource", cluster.name])).content

    assert b'data-testid="entity-alarms"' in body and b'data-testid="alarm-state"' in body
    assert b"/metrics/#alarms" not in body  # an ECS cluster has no Metrics tab to link to
