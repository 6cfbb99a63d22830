"""Error pages: HTML for people, JSON under /api/ for automation."""

import pytest

from portal import views
from portal.models import User
from portal.request_context import request_id_var

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    client.force_login(User.objects.create_user(username="sam", password="x"))
    return client


def test_unknown_page_is_a_404_page_in_the_layout(signed_in, settings):
    settings.DEBUG = False
    response = signed_in.get("/no/such/page/")
    assert response.status_code == 404
    assert b"404" in response.content and b"/no/such/page/" in response.content
    assert b"Sign out" in response.content  # rendered inside the base layout


def test_unknown_api_endpoint_is_a_json_404(signed_in, settings):
    settings.DEBUG = False
    response = signed_in.get("/api/v1/no-such-thing/", headers={"X-Request-ID": "rid-404"})
    assert response.status_code == 404
    assert response.json() == {
        "detail": "No API endpoint at /api/v1/no-such-thing/.",
        "code": "not_found",
        "request_id": "rid-404",
    }


@pytest.mark.parametrize(("path", "expected"), [("/catalog/", b"rid-500"), ("/api/v1/teams/", b'"rid-500"')])
def test_server_error_quotes_the_request_id(rf, path, expected):
    request = rf.get(path)
    request.request_id = "rid-500"
    token = request_id_var.set("rid-500")
    try:
        response = views.error_500(request)
    finally:
        request_id_var.reset(token)
    assert response.status_code == 500
    assert expected in response.content
