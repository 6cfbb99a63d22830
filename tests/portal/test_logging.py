"""Logs as make run's processes configure them: one line per record, and a refusal is one warning line."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from sandbox.management.commands.run_local import Command
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]

# What the worker does at start (`celery worker -l INFO`), then one record on each kind of logger the
# processes write to: Django's, the portal's, Celery's, gunicorn's.
_PROBE = """
import logging
from portal.celery import app
app.log.setup(loglevel="INFO")
for name in ("django.request", "django.db", "portal.probe", "celery.app.trace", "gunicorn.error"):
    logging.getLogger(name).warning("probe of %s", name)
"""


@pytest.mark.parametrize("debug", ["false", "true"])
def test_each_record_is_one_line_under_run_local(debug):
    env = {**Command()._child_env(sandbox_port=5055), "DEBUG": debug}
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", _PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = (result.stdout + result.stderr).splitlines()
    for name in ("django.request", "django.db", "portal.probe", "celery.app.trace", "gunicorn.error"):
        assert sum(f"probe of {name}" in line for line in lines) == 1, (name, lines)


@pytest.mark.django_db
@pytest.mark.urls("tests.portal.urls_failing")
def test_a_refusal_is_logged_as_one_warning_without_traceback(settings, caplog):
    settings.DEBUG = False
    client = Client()
    client.force_login(UserFactory(username="newcomer"))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/forbidden/").status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None and record.exc_text is None
    assert record.getMessage() == "Forbidden (Permission denied): /forbidden/"
