"""token_create / token_revoke: hash only, scopes and expiry rules, who may act, and the audit trail."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from portal.actors import Actor
from portal.models import ApiToken
from portal.tokens.services import token_create, token_revoke
from tests.factories import make_token

pytestmark = pytest.mark.django_db


def test_create_stores_only_the_hash_and_returns_the_secret_once(alice):
    token, secret = token_create(actor=Actor(user=alice), user=alice, name="ci", scopes=["read"], expires_in_days=30)

    stored = ApiToken.objects.get(pk=token.pk)
    assert secret.startswith(f"mrd_{stored.prefix}_")
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    row = {f.attname: str(getattr(stored, f.attname)) for f in ApiToken._meta.concrete_fields}
    assert not any(secret in value or secret.split("_", 2)[2] in value for value in row.values())
    assert stored.display_prefix == f"mrd_{stored.prefix}_…"


def test_default_expiry_is_api_token_default_days(alice, settings):
    before = timezone.now()
    token, _ = token_create(actor=Actor(user=alice), user=alice, name="ci", scopes=["read"])
    assert before + timedelta(days=90) <= token.expires_at <= timezone.now() + timedelta(days=90)

    settings.API_TOKEN_DEFAULT_DAYS = 7
    short, _ = token_create(actor=Actor(user=alice), user=alice, name="ci2", scopes=["read"])
    assert short.expires_at - short.created_at < timedelta(days=7, seconds=5)


def test_scopes_are_validated_and_stored_in_a_fixed_order(alice):
    token, _ = token_create(
        actor=Actor(user=alice), user=alice, name="ci", scopes=["deploy", "read", "read"], expires_in_days=1
    )
    assert token.scopes == ["read", "deploy"]
    with pytest.raises(ValidationError) as unknown:
        token_create(actor=Actor(user=alice), user=alice, name="x", scopes=["read", "admin"], expires_in_days=1)
    assert "admin" in str(unknown.value.message_dict["scopes"])
    with pytest.raises(ValidationError) as empty:
        token_create(actor=Actor(user=alice), user=alice, name="x", scopes=[], expires_in_days=1)
    assert "at least one" in str(empty.value.message_dict["scopes"])


@pytest.mark.parametrize("days", [0, 366, -5])
def test_expiry_must_be_between_one_day_and_a_year(alice, days):
    with pytest.raises(ValidationError) as exc:
        token_create(actor=Actor(user=alice), user=alice, name="x", scopes=["read"], expires_in_days=days)
    assert "between 1 and 365" in str(exc.value.message_dict["expires_in_days"])
    assert not ApiToken.objects.exists()


def test_only_portal_admins_make_tokens_that_never_expire(alice, root):
    with pytest.raises(ValidationError):
        token_create(actor=Actor(user=alice), user=alice, name="x", scopes=["read"], expires_in_days=None)
    token, _ = token_create(actor=Actor(user=root), user=alice, name="forever", scopes=["read"], expires_in_days=None)
    assert token.expires_at is None
    assert token.user == alice


def test_people_cannot_create_or_revoke_tokens_for_someone_else(alice, bob):
    with pytest.raises(PermissionDenied):
        token_create(actor=Actor(user=bob), user=alice, name="x", scopes=["read"], expires_in_days=1)
    token, _ = make_token(alice)
    with pytest.raises(PermissionDenied):
        token_revoke(actor=Actor(user=bob), token=token)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_token_cannot_mint_a_stronger_or_longer_lived_token(alice):
    minting, _ = make_token(alice, scopes=["read", "write"], days=10)
    actor = Actor(user=alice, token=minting)

    with pytest.raises(PermissionDenied, match="missing deploy"):
        token_create(actor=actor, user=alice, name="x", scopes=["write", "deploy"], expires_in_days=5)
    with pytest.raises(ValidationError, match="outlives"):
        token_create(actor=actor, user=alice, name="x", scopes=["read"], expires_in_days=30)
    child, _ = token_create(actor=actor, user=alice, name="child", scopes=["read"], expires_in_days=5)
    assert child.scopes == ["read"]
    defaulted, _ = token_create(actor=actor, user=alice, name="defaulted", scopes=["read"])
    assert defaulted.expires_at == minting.expires_at, "the 90-day default gives way to the minting token's end"


def test_create_is_audited_without_the_secret(alice):
    token, secret = make_token(alice, scopes=["read", "write"])
    event = AuditEvent.objects.get(action="token.create")
    assert (event.actor_kind, event.actor_user_id, event.target_id) == ("user", alice.pk, str(token.pk))
    assert event.before is None
    assert event.after["scopes"] == ["read", "write"]
    assert event.after["prefix"] == token.display_prefix
    dumped = json.dumps([event.before, event.after, event.target_repr, event.actor_label])
    assert secret not in dumped
    assert token.key_hash not in dumped
    assert "key_hash" not in event.after


def test_revoke_is_audited_once_with_before_and_after(alice):
    token, _ = make_token(alice)
    token_revoke(actor=Actor(user=alice), token=token)
    token_revoke(actor=Actor(user=alice), token=token)  # a second revoke changes nothing

    token.refresh_from_db()
    assert token.status == "revoked"
    event = AuditEvent.objects.get(action="token.revoke")
    assert event.before["revoked_at"] is None
    assert event.after["revoked_at"] is not None


def test_status_is_active_expired_or_revoked(alice):
    token, _ = make_token(alice)
    assert token.status == "active"
    token.expires_at = timezone.now() - timedelta(seconds=1)
    assert token.status == "expired"
    token.revoked_at = timezone.now()
    assert token.status == "revoked"


def test_revoking_a_token_revokes_every_token_minted_with_it_and_only_those(alice, root):
    parent, _ = make_token(alice, scopes=["read", "write"], days=30)
    child, _ = token_create(actor=Actor(user=alice, token=parent), user=alice, name="child", scopes=["read"])
    grandchild, _ = token_create(actor=Actor(user=alice, token=child), user=alice, name="grandchild", scopes=["read"])
    # A portal admin's token may mint for another user; that token is still of the admin token's line.
    admin_token, _ = make_token(root, scopes=["read"], days=30)
    for_alice, _ = token_create(actor=Actor(user=root, token=admin_token), user=alice, name="x", scopes=["read"])
    make_token(alice, name="made by signing in")

    token_revoke(actor=Actor(user=alice), token=parent)

    statuses = {t.name: t.status for t in ApiToken.objects.filter(user=alice)}
    assert statuses == {
        "ci": "revoked",
        "child": "revoked",
        "grandchild": "revoked",
        "x": "active",
        "made by signing in": "active",
    }
    revoked_events = AuditEvent.objects.filter(action="token.revoke")
    assert sorted(int(e.target_id) for e in revoked_events) == sorted([parent.pk, child.pk, grandchild.pk])
    assert revoked_events.get(target_id=str(grandchild.pk)).after["revoked_with"] == parent.display_prefix

    token_revoke(actor=Actor(user=root), token=admin_token)
    for_alice.refresh_from_db()
    assert for_alice.status == "revoked"


def test_revoking_a_line_of_tokens_takes_a_query_count_that_grows_with_its_depth_only(
    alice, django_assert_max_num_queries
):
    parent, _ = make_token(alice, scopes=["read"], days=30)
    for n in range(5):
        token_create(actor=Actor(user=alice, token=parent), user=alice, name=f"child {n}", scopes=["read"])
    # savepoint, lock the token, update it, one query per generation (2 + an empty one), one update for
    # all descendants, one bulk insert of their audit events, the root's audit event, release.
    with django_assert_max_num_queries(10):
        token_revoke(actor=Actor(user=alice), token=parent)
    assert ApiToken.objects.filter(user=alice, revoked_at__isnull=True).count() == 0
