"""A real Celery worker process, consuming the configured broker (the file-system transport on a
laptop, Redis in CI), runs a task against the test database and the AWS sandbox, and the task's
log lines carry the request id of the request that enqueued it."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_celery_beat.models import PeriodicTask

from portal.aws.models import AwsAccount
from portal.aws.tasks import aws_account_verify
from portal.celery import app as celery_app
from portal.request_context import request_id_var

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(sandbox_endpoint, settings, tmp_path):
    """A worker on a queue of its own, so it takes only this test's messages."""
    settings.AWS_ENDPOINT_URL = sandbox_endpoint
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "AWS_ENDPOINT_URL": sandbox_endpoint,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "LOG_FORMAT": "json",
    }
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        env["CELERY_FILESYSTEM_DIR"] = str(Path(celery_app.conf.broker_transport_options["data_folder_in"]).parent)
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", queue, "--concurrency", "1",
             "-l", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield queue, log
        finally:
            process.terminate()
            process.wait(timeout=20)


def test_a_worker_process_runs_a_task_enqueued_by_a_request(worker):
    queue, log = worker
    account = AwsAccount.objects.create(name="meridian-prod", account_id="123456789012", regions=["eu-west-1"])
    token = request_id_var.set("rid-from-the-request")
    try:
        aws_account_verify.apply_async(args=[account.pk], queue=queue)
    finally:
        request_id_var.reset(token)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        account.refresh_from_db()
        if account.last_verified_at is not None:
            break
        time.sleep(0.25)
    output = log.read_text()
    assert account.last_verified_at is not None, f"the worker did not run the task in 60 s:\n{output}"
    assert account.status == AwsAccount.Status.OK, account.last_error
    assert account.identity_arn.startswith("arn:aws:")
    # The task's own log lines carry the id of the request that enqueued it.
    task_lines = [line for line in output.splitlines() if "aws_account_verify" in line and "succeeded" in line]
    assert task_lines and all('"request_id": "rid-from-the-request"' in line for line in task_lines), output
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST


# Every task name a message or a beat row may carry: the names as they were before observability moved into
# sub-packages (tasks keep them, given explicitly). A task renamed later must stay registered under its old name
# for a release (portal/schedules.py says how), so this list only grows.
TASK_NAMES = {
    "portal.aws.tasks.aws_account_verify": [999_999],
    "portal.aws.tasks.aws_accounts_verify_all": [],
    "catalog.tasks.catalog_discover": [999_999, "eu-west-1"],
    "catalog.tasks.catalog_discover_all": [],
    "catalog.tasks.scorecards_compute": [],
    "catalog.tasks.scorecards_compute_changed": [],
    "catalog.tasks.relations_resolve": [],
    "observability.tasks.cloudwatch_sync": [999_999, "eu-west-1"],
    "observability.tasks.cloudwatch_sync_all": [],
    "observability.saga_tasks.saga_sync": [999_999],
    "observability.saga_tasks.sagas_sync_all": [],
    "audit.tasks.audit_seal": [],
    "audit.tasks.audit_verify": [],
    "audit.tasks.audit_retention": [],
}


def test_every_beat_row_after_migrate_names_a_registered_task():
    celery_app.loader.import_default_modules()
    registered = set(celery_app.tasks)
    stored = set(PeriodicTask.objects.values_list("task", flat=True))

    assert stored and stored <= registered, stored - registered
    assert set(TASK_NAMES) <= registered, set(TASK_NAMES) - registered


def test_a_message_sent_under_each_task_name_is_executed_by_a_worker(worker):
    queue, log = worker
    # Nothing to do for any of them (no account, no state machine): each runs, logs and succeeds.
    sent = {name: celery_app.send_task(name, args=args, queue=queue).id for name, args in TASK_NAMES.items()}

    deadline = time.monotonic() + 90
    done: set[str] = set()
    while time.monotonic() < deadline and len(done) < len(sent):
        output = log.read_text()
        done = {name for name, task_id in sent.items() if f"{name}[{task_id}] succeeded" in output}
        time.sleep(0.25)
    assert done == set(sent), f"not run: {sorted(set(sent) - done)}\n{log.read_text()}"
