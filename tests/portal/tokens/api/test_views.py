"""/api/v1/tokens/: own tokens only; the value in the create response only; revoke by DELETE or POST, audited."""

import hashlib
from datetime import timedelta

import pytest

from audit.models import AuditEvent
from portal.models import ApiToken
from tests.factories import bearer, make_token

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/tokens/"


def test_list_shows_own_tokens_without_secrets(alice_client, alice, bob):
    mine, _ = make_token(alice, name="mine", scopes=["read", "write"])
    make_token(bob, name="bobs")
    body = alice_client.get(TOKENS).json()
    assert [t["name"] for t in body["results"]] == ["mine"]
    row = body["results"][0]
    assert row["prefix"] == mine.display_prefix
    assert row["scopes"] == ["read", "write"]
    assert row["status"] == "active"
    assert "token" not in row and "key_hash" not in row
    assert set(body) == {"next", "previous", "results"}


def test_list_query_count_is_constant_in_page_size(client, alice, django_assert_num_queries):
    _, secret = make_token(alice, scopes=["read"])
    client.get(TOKENS, **bearer(secret))  # records last_used_at now, so the next calls do not
    client.get(TOKENS, **bearer(secret))  # keeps the token's lookup in the cache (portal.api.authentication)
    # one page of tokens (the token and its user come from the cache)
    with django_assert_num_queries(1):
        assert len(client.get(TOKENS, **bearer(secret)).json()["results"]) == 1
    for n in range(20):
        make_token(alice, name=f"t{n}")
    with django_assert_num_queries(1):
        assert len(client.get(TOKENS + "?limit=15", **bearer(secret)).json()["results"]) == 15


def test_create_returns_the_value_once(alice_client, alice):
    response = alice_client.post(TOKENS, {"name": "ci", "scopes": ["read"]}, content_type="application/json")
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    token = ApiToken.objects.get(pk=body["id"])
    assert hashlib.sha256(body["token"].encode()).hexdigest() == token.key_hash
    assert abs(token.expires_at - token.created_at - timedelta(days=90)) < timedelta(seconds=5)
    detail = alice_client.get(f"{TOKENS}{token.pk}/").json()
    assert "token" not in detail
    assert detail["prefix"] == token.display_prefix


def test_create_validation_errors(alice_client):
    response = alice_client.post(
        TOKENS, {"name": "ci", "scopes": ["root"], "expires_in_days": 999}, content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"scopes", "expires_in_days"}
    assert body["detail"].startswith("Invalid input: ")


def test_never_expiring_is_refused_for_non_admins_with_a_clear_error(alice_client):
    response = alice_client.post(
        TOKENS, {"name": "ci", "scopes": ["read"], "expires_in_days": None}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "portal admins" in response.json()["errors"]["expires_in_days"][0]
    assert not ApiToken.objects.exists()


def test_a_token_cannot_mint_a_token_with_more_scopes(client, alice):
    _, secret = make_token(alice, scopes=["read", "write"])
    response = client.post(
        TOKENS, {"name": "x", "scopes": ["deploy"]}, content_type="application/json", **bearer(secret)
    )
    assert response.status_code == 403
    assert "missing deploy" in response.json()["detail"]
    assert ApiToken.objects.count() == 1
    assert not AuditEvent.objects.filter(action="token.create", actor_kind="token").exists()


def test_revoke_with_delete_is_audited_as_the_token(client, alice):
    actor_token, secret = make_token(alice, name="automation", scopes=["read", "write"])
    victim, victim_secret = make_token(alice, name="old")

    response = client.delete(f"{TOKENS}{victim.pk}/", **bearer(secret))
    assert response.status_code == 204
    victim.refresh_from_db()
    assert victim.status == "revoked"
    event = AuditEvent.objects.get(action="token.revoke")
    assert (event.actor_kind, event.actor_user_id, event.actor_token_id) == ("token", alice.pk, actor_token.pk)
    assert event.before["revoked_at"] is None and event.after["revoked_at"]
    assert client.get("/api/v1/me", **bearer(victim_secret)).status_code == 401


def test_revoke_with_post(alice_client, alice):
    token, _ = make_token(alice)
    response = alice_client.post(f"{TOKENS}{token.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert AuditEvent.objects.get(action="token.revoke").actor_kind == "user"


def test_another_users_token_cannot_be_seen_or_revoked(client, alice, bob):
    token, _ = make_token(alice)
    _, bob_secret = make_token(bob, scopes=["read", "write"])
    for response in (
        client.get(f"{TOKENS}{token.pk}/", **bearer(bob_secret)),
        client.delete(f"{TOKENS}{token.pk}/", **bearer(bob_secret)),
        client.post(f"{TOKENS}{token.pk}/revoke/", **bearer(bob_secret)),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    token.refresh_from_db()
    assert token.revoked_at is None
    assert not AuditEvent.objects.filter(action="token.revoke").exists()


def test_read_token_cannot_revoke(client, alice):
    token, secret = make_token(alice, scopes=["read"])
    response = client.delete(f"{TOKENS}{token.pk}/", **bearer(secret))
    assert response.status_code == 403
    assert "'write' scope" in response.json()["detail"]
    token.refresh_from_db()
    assert token.revoked_at is None
