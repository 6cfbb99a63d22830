"""Tokens in the admin: made by the service, value shown once, never the hash; revoked, never edited or deleted."""

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from portal.models import ApiToken
from tests.factories import UserFactory, make_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


def test_admin_add_shows_the_value_once_and_never_the_hash(admin_client, alice):
    response = admin_client.post(
        reverse("admin:portal_apitoken_add"),
        {"user": alice.pk, "name": "deploy bot", "scopes": ["read", "deploy"], "expires_in_days": "10"},
    )
    token = ApiToken.objects.get(user=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:portal_apitoken_change", args=[token.pk])
    assert token.scopes == ["read", "deploy"]

    first = admin_client.get(response["Location"]).content.decode()
    secret = re.search(r'value="(mrd_[0-9a-f]{8}_[A-Za-z0-9_-]+)"', first).group(1)
    assert secret.startswith(f"mrd_{token.prefix}_")
    assert token.key_hash not in first

    again = admin_client.get(response["Location"]).content.decode()
    assert secret not in again
    assert token.key_hash not in again
    event = AuditEvent.objects.get(action="token.create")
    assert event.actor_label == "root" and event.after["user"] == alice.pk


def test_admin_may_make_a_token_that_never_expires(admin_client, alice):
    admin_client.post(reverse("admin:portal_apitoken_add"), {"user": alice.pk, "name": "forever", "scopes": ["read"]})
    assert ApiToken.objects.get(user=alice).expires_at is None


def test_admin_revokes_with_an_action_and_cannot_delete(admin_client, alice):
    token, _ = make_token(alice)
    response = admin_client.post(
        reverse("admin:portal_apitoken_changelist"), {"action": "revoke_selected", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.status == "revoked"
    assert AuditEvent.objects.filter(action="token.revoke", target_id=str(token.pk)).count() == 1
    assert admin_client.get(reverse("admin:portal_apitoken_delete", args=[token.pk])).status_code == 403


def test_staff_who_are_not_portal_admins_do_not_see_tokens(client, alice):
    staff = UserFactory(username="staffer", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:portal_apitoken_changelist")).status_code == 403
    assert client.get(reverse("admin:portal_apitoken_add")).status_code == 403
