"""/healthz and /readyz answer without sign-in; /readyz asks each dependency a real question and fails when
one does not answer. Anonymous callers see only whether each is ok; portal admins see the details."""

import logging
import socket

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_healthz_needs_no_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.fixture
def portal_admin_client(client):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def hanging_endpoint():
    """An endpoint that accepts connections and never answers (an AWS that hangs)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def closed_endpoint():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_readyz_is_green_when_the_sandbox_answers(client, settings, sandbox_endpoint):
    settings.AWS_ENDPOINT_URL = sandbox_endpoint
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ready",
        "checks": {"database": {"ok": True}, "broker": {"ok": True}, "aws": {"ok": True}},
    }


def test_readyz_asks_aws_who_the_portal_is(portal_admin_client, settings, sandbox_endpoint):
    settings.AWS_ENDPOINT_URL = sandbox_endpoint
    aws = portal_admin_client.get("/readyz").json()["checks"]["aws"]
    assert aws["ok"] is True
    assert aws["endpoint"] == sandbox_endpoint
    assert aws["account_id"] == "123456789012"  # moto's default account, as GetCallerIdentity answers it


def test_readyz_is_503_when_aws_accepts_connections_and_never_answers(client, settings, hanging_endpoint):
    settings.AWS_ENDPOINT_URL = hanging_endpoint
    settings.AWS_PAGE_READ_TIMEOUT = 0.5
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["aws"] == {"ok": False}


def test_anonymous_callers_see_no_error_text_and_the_log_has_it(client, settings, closed_endpoint, caplog):
    settings.AWS_ENDPOINT_URL = closed_endpoint
    with caplog.at_level(logging.WARNING, logger="portal.health"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["aws"] == {"ok": False}
    assert closed_endpoint.rsplit(":", 1)[1] not in response.content.decode()
    assert any("aws" in r.getMessage() and closed_endpoint in r.getMessage() for r in caplog.records)


def test_portal_admins_see_what_failed(portal_admin_client, settings, closed_endpoint):
    settings.AWS_ENDPOINT_URL = closed_endpoint
    aws = portal_admin_client.get("/readyz").json()["checks"]["aws"]
    assert aws["ok"] is False
    assert closed_endpoint in aws["error"]


def test_pages_need_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")
