"""Who may call the API: a session (with CSRF on writes) or `Authorization: Bearer`; every refusal is clear JSON."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from portal.actors import Actor
from portal.models import ApiToken
from portal.tokens.services import token_revoke
from tests.factories import bearer, expire, make_token

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


def _assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) >= {"detail", "code", "request_id"}
    assert body["code"] == code
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_session_authentication(alice_client, alice):
    body = alice_client.get(ME).json()
    assert body["username"] == "alice"
    assert body["token"] is None


def test_bearer_authentication_and_last_used(client, alice):
    token, secret = make_token(alice, name="ci", scopes=["read"])
    assert token.last_used_at is None

    response = client.get(ME, **bearer(secret))
    assert response.status_code == 200
    assert response.json()["token"]["prefix"] == token.display_prefix
    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < timedelta(seconds=5)


def test_last_used_is_written_at_most_once_a_minute(client, alice, django_assert_num_queries):
    token, secret = make_token(alice)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(seconds=10))
    # token (with its user), the user's memberships: no UPDATE, the last use was recorded 10 s ago
    with django_assert_num_queries(2):
        client.get(ME, **bearer(secret))


def test_a_tokens_lookup_is_cached_briefly_and_revoking_forgets_it_at_once(client, alice, django_assert_num_queries):
    token, secret = make_token(alice)
    child, child_secret = make_token(alice, name="child")
    ApiToken.objects.filter(pk=child.pk).update(minted_by=token)
    for value in (secret, child_secret):
        assert client.get(ME, **bearer(value)).status_code == 200  # records the use, forgetting the lookup
        assert client.get(ME, **bearer(value)).status_code == 200  # reads the token again, and keeps it
    # The user's memberships only: the token and its user come from the cache.
    with django_assert_num_queries(1):
        assert client.get(ME, **bearer(secret)).status_code == 200
    token_revoke(actor=Actor(user=alice), token=token)  # and, with it, the token it minted
    _assert_error(client.get(ME, **bearer(secret)), 401, "token_revoked")
    _assert_error(client.get(ME, **bearer(child_secret)), 401, "token_revoked")


def test_without_the_cache_every_request_reads_the_token(client, alice, settings, django_assert_num_queries):
    settings.API_TOKEN_CACHE_SECONDS = 0
    _, secret = make_token(alice)
    client.get(ME, **bearer(secret))
    with django_assert_num_queries(2):  # the token with its user, the user's memberships
        client.get(ME, **bearer(secret))


def test_a_wrong_secret_with_a_known_prefix_is_refused_even_once_the_token_is_cached(client, alice):
    _, secret = make_token(alice)
    client.get(ME, **bearer(secret))
    client.get(ME, **bearer(secret))
    forged = f"{secret[:-4]}AAAA" if not secret.endswith("AAAA") else f"{secret[:-4]}BBBB"
    _assert_error(client.get(ME, **bearer(forged)), 401, "token_invalid")


def test_unauthenticated_is_401_json_not_a_login_redirect(client):
    response = client.get(ME)
    body = _assert_error(response, 401, "not_authenticated")
    assert "Location" not in response
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert body["detail"]


@pytest.mark.parametrize("url", ["/api/v1/", "/api/v1/tokens/", "/api/v1/schema/"])
def test_every_api_url_answers_401_without_credentials(client, url):
    _assert_error(client.get(url), 401, "not_authenticated")


def test_expired_token(client, alice):
    token, secret = make_token(alice)
    expire(token)
    body = _assert_error(client.get(ME, **bearer(secret)), 401, "token_expired")
    assert "expired" in body["detail"] and token.display_prefix in body["detail"]


def test_revoked_token(client, alice):
    token, secret = make_token(alice)
    token_revoke(actor=Actor(user=alice), token=token)
    body = _assert_error(client.get(ME, **bearer(secret)), 401, "token_revoked")
    assert "revoked" in body["detail"]


@pytest.mark.parametrize("value", ["abc", "mrd_short", "mrd_ZZZZZZZZ_" + "a" * 43, "Bearer"])
def test_malformed_token(client, value):
    body = _assert_error(client.get(ME, HTTP_AUTHORIZATION=f"Bearer {value}"), 401, "token_malformed")
    assert "Malformed" in body["detail"]


def test_unknown_token_and_wrong_secret(client, alice):
    _, secret = make_token(alice)
    _assert_error(client.get(ME, **bearer("mrd_0123abcd_" + "x" * 43)), 401, "token_invalid")
    tampered = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    _assert_error(client.get(ME, **bearer(tampered)), 401, "token_invalid")


def test_token_of_an_inactive_user(client, alice):
    _, secret = make_token(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    _assert_error(client.get(ME, **bearer(secret)), 401, "user_inactive")


def test_read_token_cannot_write_and_the_error_names_the_scope(client, alice):
    _, secret = make_token(alice, scopes=["read"])
    response = client.post(
        "/api/v1/tokens/", {"name": "x", "scopes": ["read"]}, content_type="application/json", **bearer(secret)
    )
    body = _assert_error(response, 403, "scope_missing")
    assert "'write' scope" in body["detail"]
    assert ApiToken.objects.count() == 1


def test_write_only_token_cannot_read(client, alice):
    _, secret = make_token(alice, scopes=["write"])
    body = _assert_error(client.get(ME, **bearer(secret)), 403, "scope_missing")
    assert "'read' scope" in body["detail"]


def test_session_write_without_csrf_token_is_refused(alice, alice_client):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    response = csrf_client.post("/api/v1/tokens/", {"name": "x", "scopes": ["read"]}, content_type="application/json")
    body = _assert_error(response, 403, "permission_denied")
    assert "CSRF" in body["detail"]
    assert not ApiToken.objects.exists()


def test_session_write_with_csrf_token_is_accepted(alice):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    csrf_client.get("/settings/tokens/new/")  # the page sets the CSRF cookie
    response = csrf_client.post(
        "/api/v1/tokens/",
        {"name": "x", "scopes": ["read"]},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf_client.cookies["csrftoken"].value,
    )
    assert response.status_code == 201


def test_token_writes_need_no_csrf_token(alice):
    _, secret = make_token(alice, scopes=["read", "write"])
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(
        "/api/v1/tokens/", {"name": "x", "scopes": ["read"]}, content_type="application/json", **bearer(secret)
    )
    assert response.status_code == 201
