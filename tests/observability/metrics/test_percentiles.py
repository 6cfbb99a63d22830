"""Charts that need percentiles (p50, p99) from CloudWatch.

moto 5.2.5 cannot answer a percentile statistic over stored data (its GetMetricData fails as a whole), and
the sandbox's CloudWatch extension that answers them is being written in parallel (issue 4). Until it is
merged these tests are skipped, each saying why; they run as soon as moto (with the sandbox's extensions,
installed for every test by sandbox.testing) answers p99.
"""

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from django.urls import reverse

from observability.metrics import services
from tests.observability.conftest import put_alarm
from tests.observability.estate import REGION, components, discover
from tests.observability.metrics.test_sync import load_balanced_service
from tests.observability.metrics.test_views import panels

pytestmark = pytest.mark.django_db


def put_distribution(
    namespace: str, metric: str, dimensions: dict, values: list[float], counts: list[float], unit: str
):
    """One datapoint a minute for the last 5 minutes, each a distribution (Values + Counts), as the agent puts it."""
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    now = datetime.now(UTC)
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                "Values": values,
                "Counts": counts,
                "Unit": unit,
                "Timestamp": now - timedelta(minutes=minute),
            }
            for minute in range(1, 6)
        ],
    )


def answers_percentiles() -> bool:
    put_distribution("Meridian/Probe", "Latency", {}, [1.0, 2.0], [1.0, 1.0], "Milliseconds")
    now = datetime.now(UTC)
    query = {"Namespace": "Meridian/Probe", "MetricName": "Latency", "Dimensions": []}
    try:
        boto3.client("cloudwatch", region_name=REGION).get_metric_data(
            StartTime=now - timedelta(minutes=10),
            EndTime=now,
            MetricDataQueries=[{"Id": "p", "MetricStat": {"Metric": query, "Period": 60, "Stat": "p99"}}],
        )
    except Exception:  # whatever moto raises, it cannot answer
        return False
    return True


@pytest.fixture(autouse=True)
def _percentiles(aws):
    if not answers_percentiles():
        pytest.skip("moto cannot answer p50/p99 until the sandbox's CloudWatch percentile extension is merged")


@pytest.fixture
def orders_api(account, orders, client_as, people):
    group_arn, balancer = load_balanced_service("orders-api")
    components("orders-api")
    discover((group_arn, "orders-api"))
    dimensions = {"TargetGroup": group_arn.split(":", 5)[5], "LoadBalancer": balancer}
    # 90 fast requests (0.05 s) and 10 slow ones (1.2 s) a minute: p50 0.05 s, p99 1.2 s.
    put_distribution("AWS/ApplicationELB", "TargetResponseTime", dimensions, [0.05, 1.2], [90, 10], "Seconds")
    put_alarm(
        "orders-api p99 latency", "AWS/ApplicationELB", "TargetResponseTime", dimensions, threshold=1.0, stat="p99"
    )
    services.cloudwatch_sync(account=account, region=REGION)
    return client_as("viewer")


def test_the_metrics_tab_charts_latency_percentiles_with_the_alarm_threshold(orders_api):
    response = orders_api.get(reverse("catalog:entity_tab", args=["default", "component", "orders-api", "metrics"]))

    latency = panels(response)["orders-api · TargetResponseTime"]
    lines = {line["name"]: line["y"] for line in latency["data"]}
    assert set(lines) == {"Average", "p50", "p99"}
    assert lines["p50"] and all(v == pytest.approx(0.05, rel=0.2) for v in lines["p50"])
    assert lines["p99"] and all(v == pytest.approx(1.2, rel=0.2) for v in lines["p99"])
    assert [shape["y0"] for shape in latency["layout"]["shapes"]] == [1.0]


def test_the_dashboard_draws_every_services_latency_in_milliseconds(orders_api):
    response = orders_api.get(reverse("observability:team", args=["team-orders"]))

    latency = panels(response)["Latency"]
    (line,) = latency["data"]
    assert line["name"] == "orders-api · TargetResponseTime p99"
    assert line["y"] and all(v == pytest.approx(1200, rel=0.2) for v in line["y"])
    assert latency["layout"]["yaxis"]["title"]["text"] == "ms"
