"""The catalog at scale: import rate and page/API latencies over HTTP against gunicorn, on PostgreSQL.

    python bench/catalog_bench.py [--entities 100000] [--requests 200] [--database-url postgres://...]
    python bench/catalog_bench.py --reuse-database   # latencies again, on the catalog a previous run imported
    python bench/catalog_bench.py --entities 10000 --database-url postgres://postgres@127.0.0.1:5432/bench10k

Steps: (re)create the benchmark database, migrate, generate the catalog
(bench/generate_catalog.py), start gunicorn with the README's production
settings (PostgreSQL, a Redis cache, persistent database connections; 2 workers
as on a 2-core machine, of the worker class and keep-alive given), import the
files through the REST API (POST /api/v1/entities/import,
one file of 1,000 entities a request, as CI pipelines would), then time the
requests people and automation make, sequentially on one keep-alive
connection, and print a table (p50, p95, max in ms). The figures quoted in
docs/benchmarks.md come from this script.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import urllib3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate_catalog import generate, write  # noqa: E402

PORT = 8765


def _run(*args, env):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


def _recreate_database(url: str):
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = url.replace(f"/{name}", "/postgres")
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _token(env) -> str:
    code = (
        "from portal.models import User\n"
        "from portal.actors import Actor\n"
        "from portal.tokens.services import token_create\n"
        "u = User.objects.filter(username='bench').first() or "
        "User.objects.create_superuser('bench', 'bench@example.com', 'bench-password-1')\n"
        "print(token_create(actor=Actor(user=u), user=u, name='bench', scopes=['read', 'write'], "
        "expires_in_days=1)[1])\n"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return out.stdout.decode().strip().splitlines()[-1]


def _wait_for(http, base):
    for _ in range(100):
        try:
            http.request("GET", f"{base}/healthz", retries=False)
            return
        except urllib3.exceptions.HTTPError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def _time(http, method, url, *, headers, body=None, n):
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = http.request(method, url, headers=headers, body=body)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status >= 400:
            raise SystemExit(f"{method} {url} answered {response.status}: {response.data[:300]!r}")
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p95": samples[max(0, int(len(samples) * 0.95) - 1)],
        "max": samples[-1],
        "n": n,
    }


def _time_after_change(http, url, *, headers, entity_url, n):
    """`url` right after a change to the catalog (a PATCH of one entity), so nothing derived is cached."""
    samples = []
    for i in range(n):
        change = http.request(
            "PATCH", entity_url, body=json.dumps({"metadata": {"description": f"Changed {i}"}}),
            headers={**headers, "Content-Type": "application/json", "If-Match": "*"},
        )  # fmt: skip
        if change.status != 200:
            raise SystemExit(f"PATCH {entity_url} answered {change.status}: {change.data[:300]!r}")
        started = time.perf_counter()
        response = http.request("GET", url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status >= 400:
            raise SystemExit(f"GET {url} answered {response.status}: {response.data[:300]!r}")
    samples.sort()
    return {"p50": statistics.median(samples), "p95": samples[max(0, int(n * 0.95) - 1)], "max": samples[-1], "n": n}


def _session_cookie(http, base, env) -> dict:
    """Sign in through the login form, as a person would, for the HTML pages."""
    page = http.request("GET", f"{base}/accounts/login/")
    cookie = page.headers.get("Set-Cookie", "")
    csrf = cookie.split("csrftoken=")[1].split(";")[0]
    body = f"username=bench&password=bench-password-1&csrfmiddlewaretoken={csrf}"
    response = http.request(
        "POST",
        f"{base}/accounts/login/",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}",
                 "Referer": f"{base}/accounts/login/"},
        redirect=False,
    )  # fmt: skip
    session = response.headers["Set-Cookie"].split("sessionid=")[1].split(";")[0]
    return {"Cookie": f"sessionid={session}; csrftoken={csrf}"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/meridian_bench"),
    )
    parser.add_argument("--parallel", type=int, default=1, help="files imported at the same time (default 1)")
    parser.add_argument("--skip-latencies", action="store_true", help="measure the import only")
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="keep the database a previous run imported (migrating it) and measure the latencies only",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--cache-url",
        default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/7"),
        help="the shared cache, as production's CACHE_URL (default Redis); filecache://<dir> for make run's",
    )
    parser.add_argument("--worker-class", default="sync", help="gunicorn's worker class (README: sync)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--keep-alive", type=int, default=5, help="gunicorn's --keep-alive, seconds")
    parser.add_argument("--conn-max-age", type=int, default=300, help="DATABASE_CONN_MAX_AGE (production: 300)")
    args = parser.parse_args()

    # The README's production settings, less HTTPS (DJANGO_ENV=production would redirect plain HTTP).
    env = {**os.environ, "DATABASE_URL": args.database_url, "LOG_LEVEL": "WARNING", "DJANGO_ENV": "development",
           "DEBUG": "false", "CACHE_URL": args.cache_url, "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
           "API_THROTTLE_TOKEN": "1000000/hour", "API_THROTTLE_USER": "1000000/hour"}  # fmt: skip
    if args.cache_url.startswith("redis://"):
        import redis

        redis.Redis.from_url(args.cache_url).flushdb()  # the cache of a previous run names rows that are gone
    if args.reuse_database:
        print(f"database {args.database_url}: reused, migrating…", flush=True)
        _run("migrate", "--no-input", env=env)
        docs, files = [], []
    else:
        print(f"database {args.database_url}: recreating and migrating…", flush=True)
        _recreate_database(args.database_url)
        _run("migrate", "--no-input", env=env)
        workdir = Path(tempfile.mkdtemp(prefix="meridian-bench-"))
        docs = generate(args.entities, seed=7)
        files = write(docs, workdir, per_file=1000)
        print(f"generated {len(docs)} entities in {len(files)} files", flush=True)

    token = _token(env)
    base = f"http://127.0.0.1:{PORT}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{PORT}", "--workers", "2",
         "--timeout", "600", "--worker-class", args.worker_class, "--threads", str(args.threads),
         "--keep-alive", str(args.keep_alive)],
        cwd=ROOT, env=env,
    )  # fmt: skip
    http = urllib3.PoolManager(maxsize=max(1, args.parallel), timeout=urllib3.Timeout(total=600))
    results = {}
    try:
        _wait_for(http, base)
        api = {"Authorization": f"Bearer {token}"}

        def import_file(path):
            response = http.request(
                "POST",
                f"{base}/api/v1/entities/import/?name={path.name}",
                body=path.read_bytes(),
                headers={**api, "Content-Type": "application/yaml"},
            )
            if response.status != 200:
                raise SystemExit(f"import of {path.name} answered {response.status}: {response.data[:500]!r}")

        if files:
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.parallel) as pool:
                list(pool.map(import_file, files))
            seconds = time.perf_counter() - started
            results["import"] = {
                "entities": len(docs),
                "seconds": seconds,
                "per_second": len(docs) / seconds,
                "parallel": args.parallel,
            }
            print(f"imported {len(docs)} entities in {seconds:.1f} s, {args.parallel} file(s) at a time: "
                  f"{len(docs) / seconds:.0f} entities/s", flush=True)  # fmt: skip

        kinds = json.loads(http.request("GET", f"{base}/api/v1/entities/facets/?facet=kind", headers=api).data)
        entities = len(docs) or sum(item["count"] for item in kinds["facets"]["kind"])
        if args.skip_latencies:
            return print_results(results, entities)
        subprocess.run(
            ["psql", args.database_url, "-qc", "VACUUM ANALYZE"], check=True, capture_output=True
        )  # fresh statistics, as autovacuum would give a live system
        html = _session_cookie(http, base, env)
        component = json.loads(
            http.request("GET", f"{base}/api/v1/entities/?kind=component&limit=1", headers=api).data
        )["results"][0]
        name = component["name"]
        resource = json.loads(http.request("GET", f"{base}/api/v1/entities/?kind=resource&limit=1", headers=api).data)[
            "results"
        ][0]
        arn = resource["document"]["metadata"]["annotations"]["aws.amazon.com/arn"]
        by_arn = urlencode({"annotation": f"aws.amazon.com/arn={arn}", "limit": 50})
        filtered = "kind=component&lifecycle=production&tag=java"
        checks = [
            ("API list, 50, filtered", f"{base}/api/v1/entities/?{filtered}&limit=50", api),
            ("API facets", f"{base}/api/v1/entities/facets/?kind=component", api),
            ("API full-text search", f"{base}/api/v1/entities/?q=orders&limit=50", api),
            ("API entity by ref", f"{base}/api/v1/entities/by-ref/component:default/{name}", api),
            ("Catalog page, 50, filtered", f"{base}/catalog/?{filtered}", html),
            ("Catalog page, facets", f"{base}/catalog/?kind=component", html),
            ("Catalog page, search", f"{base}/catalog/?q=orders", html),
            ("Entity page", f"{base}/catalog/default/component/{name}/", html),
            ("API list, annotation key=value (one match)", f"{base}/api/v1/entities/?{by_arn}", api),
            (
                "API list, annotation key (~15,000 matches)",
                f"{base}/api/v1/entities/?annotation=meridian.io/runbook&limit=50",
                api,
            ),
            ("API list, recently updated first", f"{base}/api/v1/entities/?sort=-updated&limit=50", api),
        ]
        for label, url, headers in checks:
            results[label] = _time(http, "GET", url, headers=headers, n=args.requests)
        # Facet counts are cached until the catalog changes: also time them when they must be counted.
        entity_url = f"{base}/api/v1/entities/{component['id']}/"
        results["API facets, right after a change (counted)"] = _time_after_change(
            http, f"{base}/api/v1/entities/facets/?kind=component", headers=api, entity_url=entity_url, n=50
        )
        results["API facets, unfiltered, right after a change (counted)"] = _time_after_change(
            http, f"{base}/api/v1/entities/facets/", headers=api, entity_url=entity_url, n=50
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    print_results(results, entities)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def print_results(results: dict, entities: int) -> None:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    print()
    print(f"Machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
          f"{datetime.now(UTC):%Y-%m-%d}, {entities} entities, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| measure | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
    for label, figures in results.items():
        if label == "import":
            continue
        print(f"| {label} | {figures['p50']:.1f} | {figures['p95']:.1f} | {figures['max']:.1f} |")
    imported = results.get("import")
    if imported is None:
        return
    print(f"| Import over the API, {imported['parallel']} file(s) at a time | {imported['per_second']:.0f} entities/s "
          f"({imported['seconds']:.1f} s for {entities}) | | |")  # fmt: skip


if __name__ == "__main__":
    main()
