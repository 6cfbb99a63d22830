"""The X-Ray pages with warm caches: how long the estate service map takes to render at 12 and 60 services, and a
trace's waterfall, in this process (Django's test client: URL routing, middleware, the view, the template).

    python bench/xray_views_bench.py [--runs 30] [--traces 100]

Sets up a throwaway SQLite database and a local-memory cache, starts the sandbox server in this process,
writes a Component per synthetic service (svc-000...), then for each estate size puts `--traces` requests
through a layered estate (tests/observability/xray_estate.py: a gateway, tiers of services each calling two of
the next; every 10th request faults at a leaf) into the sandbox's X-Ray, spread over the last 10 minutes.
The first view of the map fetches the graph (printed as "cold", one GetServiceGraph); the next `--runs` views
find it in the cache (asserted: no AWS call) and are timed. The same for a trace page: a 6-span shop trace and
the longest synthetic trace of the 60-service estate. Prints a table: ms, p50 / min / max of the warm views.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = Path(tempfile.mkdtemp(prefix="meridian-xray-bench-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"sqlite:///{DATA / 'bench.sqlite3'}",
        "CACHE_URL": "locmemcache://xray-bench",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from catalog import services  # noqa: E402
from portal.actors import Actor  # noqa: E402
from portal.aws.accounting import count_aws_calls  # noqa: E402
from portal.aws.models import AwsAccount  # noqa: E402
from portal.models import Team, User  # noqa: E402
from sandbox.server import SandboxServer, reset  # noqa: E402
from tests.observability.xray.estate import (  # noqa: E402
    ACCOUNT_ID,
    REGION,
    estate_calls,
    estate_names,
    estate_trace,
    put,
    put_shop,
    xray_client,
)

SIZES = (12, 60)
MAP = "/observability/xray/"


def timed(client: Client, url: str, runs: int) -> tuple[float, list[float], int]:
    """(cold ms, warm ms per run, bytes): the first view may fetch; the warm ones must not call AWS."""
    began = time.perf_counter()
    first = client.get(url)
    cold = (time.perf_counter() - began) * 1000
    assert first.status_code == 200, (url, first.status_code)
    warm = []
    for _ in range(runs):
        with count_aws_calls() as calls:
            began = time.perf_counter()
            response = client.get(url)
            warm.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200 and calls.total == 0, (url, calls)
    return cold, warm, len(first.content)


def row(label: str, cold: float, warm: list[float], size: int) -> None:
    print(
        f"| {label} | {cold:.0f} | {statistics.median(warm):.1f} | {min(warm):.1f} | {max(warm):.1f} | "
        f"{size / 1024:.0f} KiB |"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--traces", type=int, default=100)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    actor = Actor.for_system("bench")
    Team.objects.create(slug="team-bench", name="Bench")
    for name in estate_names(max(SIZES)):
        services.entity_create(
            actor=actor,
            document={
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {"name": name},
                "spec": {"type": "service", "lifecycle": "production", "owner": "group:team-bench"},
            },
        )
    AwsAccount.objects.create(name="bench", account_id=ACCOUNT_ID, regions=[REGION])
    user = User.objects.create_user(username="bench")  # no password: the client signs in with force_login
    client = Client()
    client.force_login(user)

    with SandboxServer() as endpoint:
        settings.AWS_ENDPOINT_URL = endpoint
        xray = xray_client(endpoint)
        print(f"{args.traces} traces a size, {args.runs} warm views each (ms)")
        print("| page | cold | warm p50 | warm min | warm max | HTML |\n|---|---|---|---|---|---|")
        longest = None
        for size in SIZES:
            reset()
            cache.clear()
            calls = estate_calls(size)
            now = time.time() - 600
            documents = []
            for number in range(args.traces):
                trace = estate_trace(number + 1, now + number * 600 / args.traces, calls, fault_every=10)
                documents += trace
                longest = trace[0]["trace_id"]
            put(xray, *documents)
            cold, warm, size_bytes = timed(client, MAP, args.runs)
            row(f"Estate service map, {size} services ({len(calls) + 1} calls)", cold, warm, size_bytes)
        shop = put_shop(xray, time.time() - 300)
        for label, trace_id in (("Trace waterfall, 6 spans", shop[2]), ("Trace waterfall, 60-service trace", longest)):
            url = f"/observability/xray/traces/bench/{REGION}/{trace_id}/"
            cold, warm, size_bytes = timed(client, url, args.runs)
            spans = client.get(url).content.decode().count('data-testid="span"')
            row(f"{label} ({spans} rows)", cold, warm, size_bytes)


if __name__ == "__main__":
    main()
