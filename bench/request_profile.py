"""Where one API request's time goes: counts and a profile, in process, through the WSGI application.

    python bench/request_profile.py --database-url postgres://postgres@127.0.0.1:5432/bench10k \
        [--cache-url redis://127.0.0.1:6379/5] [--requests 300] [--only by-ref] [--html var/profiles]

Run it on a database catalog_bench.py imported (it signs in with a token of the `bench` user it made).
For each request it prints, per request: SQL queries, cache round trips (commands sent to Redis, or calls
to the cache for other backends), Python function calls, the in-process p50, and the pyinstrument profile
of the repeated request (the relative shares are what matters on a shared machine). The request goes
through `portal.wsgi.application`, the same callable gunicorn calls, so middleware, authentication, the
throttle, the view, serialization and rendering are all in it; only gunicorn's HTTP parsing is not.
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _environ(path: str, query: str, token: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8765",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8765",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_ACCEPT": "application/json",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


# Where a sample of the profile belongs: the first of these found on its stack names the step of the request...
_STEPS = [
    ("token authentication", ("portal/api/authentication.py",)),
    ("throttle", ("portal/api/throttling.py",)),
    ("permission checks", ("portal/api/permissions.py", "portal/permissions.py")),
    ("relations (query + views)", ("entity_relations",)),
    ("serialization", ("rest_framework/serializers.py", "rest_framework/fields.py", "rest_framework/relations.py")),
    ("JSON rendering", ("rest_framework/renderers.py",)),
    ("the entity / page query", ("catalog/selectors.py", "catalog/api/pagination.py", "catalog/filters.py")),
    ("closing the response (DB connection)", ("Response.close", "close_old_connections")),
    ("DRF request setup, view, negotiation", ("rest_framework/",)),
]
# ...and the first of these what it was waiting on.
_KINDS = [
    ("DB connect", ("psycopg/connection.py\x00connect", "\x00connect\x00", "get_new_connection")),
    ("DB query", ("psycopg/cursor.py", "psycopg/connection.py", "psycopg/")),
    ("Redis", ("redis/",)),
]


def _breakdown(session) -> dict:
    table, total = {}, 0.0
    for stack, seconds in session.frame_records:
        joined = "\x02".join(stack)
        step = next(
            (name for name, marks in _STEPS if any(mark in joined for mark in marks)),
            "middleware and Django's handler",
        )
        kind = next((name for name, marks in _KINDS if any(mark in joined for mark in marks)), "Python")
        table[(step, kind)] = table.get((step, kind), 0.0) + seconds
        total += seconds
    return {key: value / total for key, value in sorted(table.items(), key=lambda item: -item[1])}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench10k")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--only", help="profile only the request whose label contains this")
    parser.add_argument("--flat", action="store_true", help="print self time per function instead of the tree")
    parser.add_argument("--html", type=Path, help="also write each profile as HTML into this folder")
    args = parser.parse_args()

    os.environ.update(
        {
            "DATABASE_URL": args.database_url,
            "CACHE_URL": args.cache_url,
            "DJANGO_ENV": "development",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "API_THROTTLE_TOKEN": "100000000/hour",
            "API_THROTTLE_USER": "100000000/hour",
            "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.cache import caches
    from django.db import connection
    from pyinstrument import Profiler

    from catalog.models import Entity
    from portal.actors import Actor
    from portal.models import User
    from portal.tokens.services import token_create
    from portal.wsgi import application

    user = User.objects.get(username="bench")
    token = token_create(actor=Actor(user=user), user=user, name="profile", scopes=["read"], expires_in_days=1)[1]
    name = Entity.objects.filter(kind_key="component").order_by("id").values_list("name", flat=True).first()

    cache_calls, commands = [0], []
    cache = caches["default"]
    backend = type(cache).__name__
    if backend == "RedisCache":
        import redis

        original = redis.Redis.execute_command

        def counted(self, *a, **k):
            cache_calls[0] += 1
            commands.append(a[0])
            return original(self, *a, **k)

        redis.Redis.execute_command = counted
        execute_pipeline = redis.client.Pipeline.execute

        def counted_pipeline(self, *a, **k):  # its commands are sent together: one round trip
            cache_calls[0] += 1
            commands.append("(" + " ".join(str(command[0][0]) for command in self.command_stack) + ")")
            return execute_pipeline(self, *a, **k)

        redis.client.Pipeline.execute = counted_pipeline
    else:
        for method in ("get", "set", "add", "incr", "get_many", "set_many", "delete", "touch", "has_key"):
            original = getattr(type(cache), method)

            def counted(self, *a, _original=original, **k):
                cache_calls[0] += 1
                return _original(self, *a, **k)

            setattr(type(cache), method, counted)

    checks = [
        ("API entity by ref", f"/api/v1/entities/by-ref/component:default/{name}", ""),
        ("API list, 50, filtered", "/api/v1/entities/", "kind=component&lifecycle=production&tag=java&limit=50"),
        ("API full-text search", "/api/v1/entities/", "q=orders&limit=50"),
        ("API facets (reused)", "/api/v1/entities/facets/", "kind=component"),
    ]
    if args.only:
        checks = [check for check in checks if args.only in check[0]]

    def call(path, query):
        status = []
        body = application(_environ(path, query, token), lambda s, h, exc_info=None: status.append(s))
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        if not status[0].startswith("200"):
            raise SystemExit(f"{path}?{query} answered {status[0]}: {data[:300]!r}")
        return data

    queries, calls = [], [0]

    def record(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    def tracer(frame, event, arg):
        if event == "call":
            calls[0] += 1

    print(f"cache backend: {backend}; database: {connection.vendor}; {os.cpu_count()} cores", flush=True)
    for label, path, query in checks:
        for _ in range(20):
            call(path, query)
        queries.clear()
        with connection.execute_wrapper(record):
            cache_calls[0] = 0
            commands.clear()
            call(path, query)
        counted = f"{len(queries)} queries, {cache_calls[0]} cache round trips ({' '.join(map(str, commands))})"
        calls[0] = 0
        sys.setprofile(tracer)
        call(path, query)
        sys.setprofile(None)
        samples = []
        for _ in range(args.requests):
            started = time.perf_counter()
            call(path, query)
            samples.append((time.perf_counter() - started) * 1000)
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(args.requests):
            call(path, query)
        profiler.stop()
        print(f"\n=== {label}: {counted}, "
              f"{calls[0]:,} Python calls, in-process p50 {statistics.median(samples):.2f} ms "
              f"(min {min(samples):.2f})")  # fmt: skip
        for sql in queries:
            print(f"    SQL: {sql[:160]}")
        print("    share of the request's time, by step and what it waited on:")
        for (step, kind), share in _breakdown(profiler.last_session).items():
            if share >= 0.005:
                print(f"    {share:6.1%}  {step:40} {kind}")
        if args.flat:
            print(profiler.output_text(flat=True, show_all=True)[:6000])
        else:
            print(profiler.output_text(unicode=True, color=False, show_all=False, short_mode=False)[:12000])
        if args.html:
            args.html.mkdir(parents=True, exist_ok=True)
            (args.html / f"{label.replace(' ', '_').replace(',', '')}.html").write_text(profiler.output_html())


if __name__ == "__main__":
    main()
