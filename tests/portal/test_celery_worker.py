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
