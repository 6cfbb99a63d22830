"""The audit log at scale: bulk writes with and without content hashes, sealing, export and verification.

    python bench/audit_bench.py [--events 200000] [--database-url postgres://postgres@127.0.0.1:5432/audit_bench]

Steps: (re)create the benchmark database, migrate, then in this process:
- write `--events` events as a catalog import does (audit_record_many: one COPY of 1,000 events a batch, in
  one transaction each), first with content hashes (as the portal does), then the same rows through the same
  COPY without hashes (portal.bulk.insert_many alone): the difference is what the hashes cost writers;
- seal everything (seals of AUDIT_SEAL_MAX_EVENTS), events sealed a second;
- export everything as JSON Lines and CSV (the streamed response, consumed), MB a second;
- verify everything (audit.seals.verify), events a second.
The figures quoted in docs/benchmarks.md come from this script.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BATCH = 1000


def _recreate(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/audit_bench")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if args.database_url.startswith("postgres"):
        _recreate(args.database_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)

    from audit.log.export import export_response
    from audit.models import AuditEvent
    from audit.seals.services import seals_create
    from audit.seals.verify import verify_database
    from audit.services import audit_record_many
    from portal.actors import Actor
    from portal.bulk import insert_many
    from portal.models import Team

    team = Team.objects.create(slug="team-bench", name="Bench")
    actor = Actor.for_system("bench")
    after = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "orders-api", "annotations": {"backstage.io/source-location": "url:https://x/y"}},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-bench", "dependsOn": ["a", "b"]},
    }
    batches = args.events // BATCH

    started = time.perf_counter()
    for _ in range(batches):
        with transaction.atomic():
            audit_record_many(actor=actor, events=[("entity.create", team, None, after)] * BATCH)
    hashed = time.perf_counter() - started

    # The same rows through the same COPY, without the hash: what writing cost before content hashes. Written
    # and then rolled back, so the log keeps only the hashed events for the steps below.
    template = {
        "occurred_at": None,
        "actor_kind": "system",
        "actor_label": actor.label,
        "action": "entity.create",
        "target_type": "portal.team",
        "target_id": str(team.pk),
        "target_repr": "Bench",
        "before": None,
        "after": after,
        "request_id": "",
        "source": "system",
    }
    from django.utils import timezone

    started = time.perf_counter()
    with transaction.atomic():
        for _ in range(batches):
            now = timezone.now()
            with transaction.atomic():
                insert_many(AuditEvent, [{**template, "occurred_at": now} for _ in range(BATCH)])
        plain = time.perf_counter() - started
        transaction.set_rollback(True)

    started = time.perf_counter()
    sealed = 0
    while True:
        run = seals_create()
        sealed += run.events
        if not run.seals:
            break
    sealing = time.perf_counter() - started

    exports = {}
    for file_format in ("jsonl", "csv"):
        started = time.perf_counter()
        size = sum(len(chunk) for chunk in export_response(AuditEvent.objects.all(), file_format).streaming_content)
        exports[file_format] = (size, time.perf_counter() - started)

    started = time.perf_counter()
    result = verify_database()
    verifying = time.perf_counter() - started
    assert result.ok, result.first_problem

    n = batches * BATCH
    print(f"audit bench: {n} events, {platform.machine()}, Python {platform.python_version()}, {args.database_url}")
    print("| step | time | rate |\n|---|---|---|")
    print(f"| write, with content hashes (audit_record_many, COPY) | {hashed:.2f} s | {n / hashed:,.0f} events/s |")
    print(f"| write, same COPY without hashes | {plain:.2f} s | {n / plain:,.0f} events/s |")
    print(f"| seal | {sealing:.2f} s | {sealed / sealing:,.0f} events/s |")
    for file_format, (size, seconds) in exports.items():
        rate = size / 1e6 / seconds
        print(f"| export {file_format} ({size / 1e6:.0f} MB) | {seconds:.2f} s | {rate:.1f} MB/s |")
    print(f"| verify | {verifying:.2f} s | {result.events_checked / verifying:,.0f} events/s |")


if __name__ == "__main__":
    main()
