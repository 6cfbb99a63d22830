"""The API tokens pages: the secret is shown once, then never; revoking asks first and is audited."""

import hashlib
import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from portal.models import ApiToken
from tests.factories import expire, make_token

pytestmark = pytest.mark.django_db


def _secret_in(html: str) -> str | None:
    match = re.search(r'value="(mrd_[0-9a-f]{8}_[A-Za-z0-9_-]+)"[^>]*data-testid="token-value"', html)
    return match.group(1) if match else None


def test_token_created_in_the_ui_is_shown_once_then_never_again(alice_client, alice):
    response = alice_client.post(
        reverse("tokens:new"), {"name": "laptop", "scopes": ["read", "write"], "expires_in_days": "30"}
    )
    token = ApiToken.objects.get(user=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("tokens:created", args=[token.pk])

    first = alice_client.get(response["Location"])
    secret = _secret_in(first.content.decode())
    assert secret is not None, "the created page shows the token"
    assert hashlib.sha256(secret.encode()).hexdigest() == token.key_hash
    assert secret.startswith(f"mrd_{token.prefix}_")
    assert "no-store" in first["Cache-Control"]
    assert 'data-testid="copy-token"' in first.content.decode()

    again = alice_client.get(response["Location"])
    assert again.status_code == 200
    assert secret not in again.content.decode()
    assert 'data-testid="token-value-gone"' in again.content.decode()
    listing = alice_client.get(reverse("tokens:list")).content.decode()
    assert secret not in listing
    assert token.key_hash not in listing


def test_list_shows_prefix_scopes_and_status(alice_client, alice, bob):
    active, _ = make_token(alice, name="active-one", scopes=["read", "deploy"])
    expired, _ = make_token(alice, name="expired-one")
    expire(expired)
    make_token(bob, name="bobs-token")

    html = alice_client.get(reverse("tokens:list")).content.decode()
    assert active.display_prefix in html
    assert "active-one" in html and "expired-one" in html
    assert "bobs-token" not in html
    statuses = re.findall(r'data-testid="token-status">\s*<span class="badge [^"]+">(\w+)<', html)
    assert statuses == ["expired", "active"]  # newest first
    assert 'href="/settings/tokens/"' in html, "the user menu links to the page"


def test_create_form_defaults_to_90_days_and_reports_errors(alice_client, alice):
    page = alice_client.get(reverse("tokens:new")).content.decode()
    assert re.search(r'name="expires_in_days"[^>]*value="90"', page)

    response = alice_client.post(reverse("tokens:new"), {"name": "x", "expires_in_days": "400"})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()
    html = response.content.decode()
    assert "This field is required." in html  # scopes
    assert "less than or equal to 365" in html


def test_never_expires_is_offered_to_portal_admins_only(client, alice, root):
    client.force_login(alice)
    assert "never_expires" not in client.get(reverse("tokens:new")).content.decode()
    client.force_login(root)
    response = client.post(reverse("tokens:new"), {"name": "forever", "scopes": ["read"], "never_expires": "on"})
    assert response.status_code == 302
    assert ApiToken.objects.get(user=root).expires_at is None


def test_revoke_asks_then_revokes_and_is_audited(alice_client, alice):
    token, _ = make_token(alice, name="old")
    url = reverse("tokens:revoke", args=[token.pk])

    confirm = alice_client.get(url)
    assert 'data-testid="revoke"' in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None, "GET only asks"

    response = alice_client.post(url)
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.status == "revoked"
    event = AuditEvent.objects.get(action="token.revoke")
    assert (event.actor_kind, event.actor_user_id, event.actor_token_id) == ("user", alice.pk, None)
    assert event.before["revoked_at"] is None and event.after["revoked_at"] is not None
    assert event.request_id, "the event names the request"


def test_another_users_token_is_not_found(client, alice, bob):
    token, _ = make_token(alice)
    client.force_login(bob)
    assert client.post(reverse("tokens:revoke", args=[token.pk])).status_code == 404
    assert client.get(reverse("tokens:created", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_pages_need_a_signed_in_user(client):
    response = client.get(reverse("tokens:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_list_page_query_count_does_not_grow_with_tokens(alice_client, alice, django_assert_num_queries):
    make_token(alice, name="first")
    # session, user, the user's tokens, the user menu's memberships
    with django_assert_num_queries(4):
        alice_client.get(reverse("tokens:list"))
    for n in range(10):
        make_token(alice, name=f"more-{n}")
    with django_assert_num_queries(4):
        response = alice_client.get(reverse("tokens:list"))
    assert response.content.decode().count('data-testid="token-row"') == 11
