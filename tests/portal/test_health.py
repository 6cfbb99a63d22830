"""/healthz and /readyz answer without sign-in; /readyz names each dependency and fails when one is down."""

import socket

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_needs_no_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def _listening_socket():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_readyz_is_green_when_everything_answers(client, settings):
    with _listening_socket() as aws:
        settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{aws.getsockname()[1]}"
        response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {"database", "broker", "aws"}


def test_readyz_is_503_and_names_the_aws_endpoint_when_it_is_down(client, settings):
    with _listening_socket() as sock:
        closed_port = sock.getsockname()[1]
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{closed_port}"
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["aws"]["ok"] is False
    assert "Connection refused" in body["checks"]["aws"]["error"] or "refused" in body["checks"]["aws"]["error"]


def test_pages_need_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")
