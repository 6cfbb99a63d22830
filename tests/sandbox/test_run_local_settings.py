"""`make run` serves the demo like production where it matters: the project's own error pages, JSON errors
on the API, tracebacks in the log only, and static files still served (by whitenoise)."""

import json
import subprocess
import sys

import pytest
from django.test import Client

from sandbox.management.commands.run_local import Command
from tests.factories import UserFactory
from tests.portal.urls_failing import Broken

pytestmark = pytest.mark.django_db

_READ_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({'DEBUG': settings.DEBUG, 'WHITENOISE_USE_FINDERS': settings.WHITENOISE_USE_FINDERS}))"
)


def test_run_local_runs_its_processes_with_debug_off():
    env = {**Command()._child_env(sandbox_port=5055), "DJANGO_SETTINGS_MODULE": "portal.settings"}
    answer = subprocess.run(
        [sys.executable, "-c", _READ_SETTINGS], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(answer.splitlines()[-1]) == {"DEBUG": False, "WHITENOISE_USE_FINDERS": True}


@pytest.fixture
def run_local_settings(settings):
    """The settings run_local's processes read (test_run_local_runs_its_processes_with_debug_off)."""
    settings.DEBUG = False
    settings.WHITENOISE_USE_FINDERS = True
    return settings


@pytest.fixture
def signed_in(db):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="newcomer"))
    return client


def test_a_missing_entity_is_the_projects_404_page(run_local_settings, signed_in):
    response = signed_in.get("/catalog/default/component/no-such-service/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Sign out" in page  # the project's page, in its layout
    assert "URLconf" not in page and "Technical" not in page


def test_static_files_are_served(run_local_settings):
    response = Client().get("/static/css/meridian.css")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


@pytest.mark.urls("tests.portal.urls_failing")
def test_a_server_error_is_the_projects_500_page_and_the_traceback_is_in_the_log(run_local_settings, signed_in, caplog):
    response = signed_in.get("/broken/")
    assert response.status_code == 500
    assert "secret detail" not in response.content.decode()
    assert any(r.exc_info and r.exc_info[0] is Broken for r in caplog.records)


@pytest.mark.urls("tests.portal.urls_failing")
@pytest.mark.parametrize("debug", [False, True], ids=["debug off", "debug on"])
def test_api_errors_are_json_whatever_debug_is(settings, signed_in, debug):
    settings.DEBUG = debug
    missing = signed_in.get("/api/v1/no-such-endpoint/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    failed = signed_in.get("/api/v1/broken/")
    assert failed.status_code == 500
    assert failed["Content-Type"] == "application/json"
    assert failed.json()["code"] == "server_error"
    assert "secret detail" not in failed.content.decode()
