"""CloudWatch golden signals: AWS calls per view, render times with warm caches, and GetMetricData's cost.

    python bench/metrics_bench.py [--services 50] [--requests 30] [--database-url sqlite:///... | postgres://...]

Steps: (re)create the benchmark database (SQLite file var/bench_metrics.sqlite3 by default) and
migrate it; start the embedded AWS sandbox in this process (moto's server on a free loopback port,
reached over HTTP as under `make run`); build N services, each a Component with a Lambda function
found by AWS discovery's own document builder, one datapoint every 5 minutes for the last hour of
Invocations, Errors and ConcurrentExecutions, and an alarm on every other service's errors (synced by
the real sync); then, signed in as a viewer through Django's test client (in process, no HTTP server):

- the Metrics tab of one service and the team dashboard of all N: GetMetricData calls on the first
  (cold) view and on a second view within the period (warm), and database queries per view;
- render time of each with warm caches (median and p95 of --requests views);
- the cost of GetMetricData per 1,000 views.

Duration's p50/p99 are requested like every other series but get no datapoints here (none are put), so
the bench also runs on a moto without the sandbox's CloudWatch percentile extension.
Nothing here asserts a time; the tests assert the call and query counts.
"""

import argparse
import math
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# GetMetricData is priced per metric requested: $0.01 per 1,000 metrics
# (https://aws.amazon.com/cloudwatch/pricing/, "API requests": GetMetricData, $0.01 per 1,000 metrics requested;
# the same in every commercial region as of 2025). GetMetricStatistics, which the portal never uses, is per request.
PRICE_PER_METRIC = 0.01 / 1000
SERIES_PER_SERVICE = (
    4  # a dashboard's traffic, errors, latency and saturation series (observability.metrics.golden_signals)
)
ACCOUNT, REGION = "123456789012", "eu-west-1"
SANDBOX_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAMERIDIANSANDBOX1", "AWS_SECRET_ACCESS_KEY": "meridian-sandbox"}


def _setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["CACHE_URL"] = "locmemcache://bench"  # this process's own cache, not `make run`'s var/cache
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.update(SANDBOX_KEYS)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    elif database_url.startswith("postgres"):
        import psycopg

        name = database_url.rsplit("/", 1)[1]
        with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # so that the test client's responses carry their template context

    call_command("migrate", verbosity=0)


def _build(services: int, endpoint: str) -> None:
    import boto3

    from catalog.aws import TaggedResource
    from catalog.discovery import ComponentSelectors, location_target, resource_document
    from catalog.models import Location
    from catalog.services import Incoming, entities_apply, location_for
    from observability.metrics.services import cloudwatch_sync
    from portal.actors import Actor
    from portal.aws.models import AwsAccount
    from portal.models import Membership, Role, Team, User

    actor = Actor.for_system("bench")
    team = Team.objects.create(slug="team-orders", name="Orders")
    user = User.objects.create_user(username="bench-viewer")  # signed in with force_login: no password
    Membership.objects.create(user=user, team=team, role=Role.VIEWER)
    account = AwsAccount.objects.create(name="meridian-prod", account_id=ACCOUNT, regions=[REGION])
    names = [f"svc-{i:03d}" for i in range(services)]

    def apply(location, documents):
        incoming = [Incoming(document=d, source=location.target, index=i) for i, d in enumerate(documents)]
        result = entities_apply(actor=actor, location=location, incoming=incoming, complete=False)
        assert not result.problems, result.problems

    apply(
        location_for(type=Location.Type.FILE, target="/bench/services.yaml"),
        [
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {"name": name, "description": f"Bench service {name}."},
                "spec": {"type": "service", "lifecycle": "production", "owner": "group:team-orders"},
            }
            for name in names
        ],
    )
    no_selectors = ComponentSelectors(by_arn={}, by_tags=[])
    apply(
        location_for(type=Location.Type.DISCOVERY, target=location_target(ACCOUNT, REGION)),
        [
            resource_document(
                TaggedResource(arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}", tags={"service": name}),
                selectors=no_selectors,
            )
            for name in names
        ],
    )
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=endpoint)
    now = datetime.now(UTC)
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": "FunctionName", "Value": name}],
            "Value": float(value + step),
            "Unit": "Count",
            "Timestamp": now - timedelta(minutes=5 * step + 1),
        }
        for name in names
        for metric, value in (("Invocations", 100), ("Errors", 1), ("ConcurrentExecutions", 5))
        for step in range(12)
    ]
    for start in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=data[start : start + 1000])
    for name in names[::2]:
        cloudwatch.put_metric_alarm(
            AlarmName=f"{name} errors",
            Namespace="AWS/Lambda",
            MetricName="Errors",
            Dimensions=[{"Name": "FunctionName", "Value": name}],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=5,
            ComparisonOperator="GreaterThanThreshold",
        )
    cloudwatch_sync(account=account, region=REGION)
    return user, names


def _view(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portal.aws.accounting import count_aws_calls

    with count_aws_calls() as calls, CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")
    return calls[("cloudwatch", "GetMetricData")], len(queries), elapsed, response


def _early_in_a_period(period: int = 60, margin: int = 20) -> None:
    """Wait for the start of the next 1-minute period unless this one has just begun, so that a cold view and
    the warm view after it fall in the same period (the cache answers for the window of one period)."""
    into = time.time() % period
    if into > margin:
        time.sleep(period - into + 0.5)


def _timings(client, url, n):
    samples = sorted(_view(client, url)[2] for _ in range(n))
    return statistics.median(samples), samples[max(0, int(n * 0.95) - 1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=50)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--page-read-timeout",
        type=float,
        default=None,
        help="AWS_PAGE_READ_TIMEOUT for the run (default: the portal's, 2 s). Raise it on a moto without the "
        "sandbox's CloudWatch metric index, where a 500-query call takes seconds: with 2 s its cold dashboard of "
        "over ~100 services shows the timeout notice instead of charts",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench_metrics.sqlite3'}"),
    )
    args = parser.parse_args()
    _setup(args.database_url)

    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from sandbox.server import SandboxServer

    with SandboxServer(port=0) as endpoint:
        settings.AWS_ENDPOINT_URL = endpoint
        if args.page_read_timeout is not None:
            settings.AWS_PAGE_READ_TIMEOUT = args.page_read_timeout
            settings.AWS_PAGE_BUDGET = max(settings.AWS_PAGE_BUDGET, args.page_read_timeout)
        started = time.perf_counter()
        user, names = _build(args.services, endpoint)
        built = time.perf_counter() - started
        client = Client()
        client.force_login(user)
        tab = reverse("catalog:entity_tab", args=["default", "component", names[0], "metrics"])
        board = reverse("observability:team", args=["team-orders"])
        rows = []
        for label, url in (("Metrics tab (1 service)", tab), (f"Team dashboard ({args.services} services)", board)):
            _early_in_a_period()
            cold_calls, _, cold_ms, response = _view(client, url)
            warm_calls, warm_queries, _, _ = _view(client, url)
            p50, p95 = _timings(client, url, args.requests)
            metrics = response.context["view"].queries
            rows.append((label, metrics, cold_calls, warm_calls, warm_queries, cold_ms, p50, p95))

    print(f"Meridian observability bench: {args.services} services, {args.requests} warm views each, "
          f"{'SQLite' if args.database_url.startswith('sqlite') else 'PostgreSQL'}, built in {built:.1f}s, "
          f"page read timeout {settings.AWS_PAGE_READ_TIMEOUT:g}s, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    print()
    print("| View | Metrics requested | GetMetricData calls, cold | warm | DB queries | cold ms | warm p50 ms | "
          "warm p95 ms | $ per 1,000 views, all cold | $ per 1,000 views in one hour, cached |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, metrics, cold_calls, warm_calls, queries, cold_ms, p50, p95 in rows:
        every_view = 1000 * metrics * PRICE_PER_METRIC
        # With the cache, views within one 60 s period share one fetch: an hour of views fetches at most 60 times.
        cached_hour = min(1000, 60) * metrics * PRICE_PER_METRIC
        print(f"| {label} | {metrics} | {cold_calls} | {warm_calls} | {queries} | {cold_ms:.0f} | {p50:.1f} | "
              f"{p95:.1f} | {every_view:.3f} | {cached_hour:.3f} |")  # fmt: skip
    expected = math.ceil(args.services * SERIES_PER_SERVICE / 500)
    print()
    print(f"Dashboard: ceil({args.services} x {SERIES_PER_SERVICE} / 500) = {expected} GetMetricData call(s) expected "
          f"for the 1 h range; second view within the period: 0.")  # fmt: skip


if __name__ == "__main__":
    main()
