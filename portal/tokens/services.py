"""Creating and revoking API tokens. The full secret leaves this module once, in token_create's return value."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record, audit_record_many, snapshot
from portal.actors import Actor
from portal.api.authentication import forget_token
from portal.models import ApiToken, Scope
from portal.models.tokens import generate_token

# A year: long enough for a CI pipeline, short enough that a forgotten token dies on its own.
TOKEN_MAX_DAYS = 365
# key_hash stays out of the audit log: the log is read by more people than the token table.
_AUDITED_FIELDS = ["user", "name", "scopes", "expires_at", "revoked_at"]


class _Default:
    def __repr__(self):
        return "DEFAULT_EXPIRY"


DEFAULT_EXPIRY = _Default()  # settings.API_TOKEN_DEFAULT_DAYS, read when the token is made


def _audit_snapshot(token: ApiToken) -> dict:
    # snapshot() leaves out non-editable fields, which is what keeps key_hash out; the prefix is added back.
    return {**snapshot(token, fields=_AUDITED_FIELDS), "prefix": token.display_prefix}


def _check_may_manage(actor: Actor, user_id: int) -> None:
    """People manage their own tokens; portal admins manage anyone's."""
    if actor.user is None or not actor.user.is_authenticated or not actor.user.is_active:
        raise PermissionDenied("Only a signed-in user can manage API tokens.")
    if actor.user.pk != user_id and not actor.user.is_portal_admin:
        raise PermissionDenied("You can only manage your own API tokens.")


def _clean_scopes(scopes) -> list[str]:
    chosen = list(dict.fromkeys(scopes or []))  # de-duplicated, order kept
    unknown = [s for s in chosen if s not in Scope.values]
    if unknown:
        raise ValidationError(
            {"scopes": f"Unknown scope(s): {', '.join(unknown)}. Choose from: {', '.join(Scope.values)}."}
        )
    if not chosen:
        raise ValidationError({"scopes": "Choose at least one scope."})
    # Stored in a fixed order so that two tokens with the same rights look the same.
    return [s for s in Scope.values if s in chosen]


def _expiry(actor: Actor, expires_in_days: int | None, now):
    if expires_in_days is None:
        # A token without an end date outlives the reason it was made; only portal admins may accept that.
        if not actor.user.is_portal_admin or actor.token is not None:
            raise ValidationError(
                {"expires_in_days": "Only portal admins, signed in, may create tokens that never expire."}
            )
        return None
    if not 1 <= expires_in_days <= TOKEN_MAX_DAYS:
        raise ValidationError({"expires_in_days": f"Choose between 1 and {TOKEN_MAX_DAYS} days."})
    return now + timedelta(days=expires_in_days)


def _check_not_wider_than_minting_token(actor: Actor, scopes: list[str], expires_at) -> None:
    """A token may mint tokens, but never one that could do more, or live longer, than itself;
    otherwise a leaked read-only or short-lived token would be a way to get a stronger or permanent one."""
    minting = actor.token
    if minting is None:
        return
    extra = [s for s in scopes if not minting.has_scope(s)]
    if extra:
        raise PermissionDenied(
            f"A token cannot create a token with scopes it does not hold itself: missing {', '.join(extra)}."
        )
    if minting.expires_at is not None and (expires_at is None or expires_at > minting.expires_at):
        limit = f"{minting.expires_at:%Y-%m-%d}"
        raise ValidationError({"expires_in_days": f"A token cannot create one that outlives it (it expires {limit})."})


@transaction.atomic
def token_create(
    *, actor: Actor, user, name: str, scopes: list[str], expires_in_days: int | _Default | None = DEFAULT_EXPIRY
) -> tuple[ApiToken, str]:
    """Create a token for `user`. Returns (token, full secret); the secret is not stored and cannot be shown again.

    `expires_in_days` defaults to settings.API_TOKEN_DEFAULT_DAYS (no later than the minting token's own
    expiry, when a token makes it); None means never (portal admins only, signed in).
    """
    _check_may_manage(actor, user.pk)
    if not user.is_active:
        raise ValidationError({"user": "Tokens cannot be created for an inactive user."})
    now = timezone.now()
    clean_scopes = _clean_scopes(scopes)
    if isinstance(expires_in_days, _Default):
        expires_at = _expiry(actor, settings.API_TOKEN_DEFAULT_DAYS, now)
        if actor.token is not None and actor.token.expires_at is not None:
            # Nobody asked for a date: the default gives way to the minting token's end rather than fail.
            expires_at = min(expires_at, actor.token.expires_at)
    else:
        expires_at = _expiry(actor, expires_in_days, now)
    _check_not_wider_than_minting_token(actor, clean_scopes, expires_at)

    secret, prefix, key_hash = generate_token()
    token = ApiToken(
        user=user,
        name=(name or "").strip(),
        prefix=prefix,
        key_hash=key_hash,
        scopes=clean_scopes,
        expires_at=expires_at,
        minted_by=actor.token,
    )
    token.full_clean()
    token.save()
    audit_record(actor=actor, action="token.create", target=token, before=None, after=_audit_snapshot(token))
    return token, secret


@transaction.atomic
def token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    """Revoke a token at once, and every token minted with it, with them, and so on down its line.

    Revoking a revoked token changes nothing and records nothing. Each token revoked is audited; those of
    the line say which token's revocation took them along (`revoked_with`).
    """
    _check_may_manage(actor, token.user_id)
    # Locked so that two revocations at once record one event, with the true "before".
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if token.is_revoked:
        return token
    before = _audit_snapshot(token)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    forget_token(token.key_hash)
    audit_record(actor=actor, action="token.revoke", target=token, before=before, after=_audit_snapshot(token))
    _revoke_line(actor=actor, root=token)
    return token


def _revoke_line(*, actor: Actor, root: ApiToken) -> None:
    """Revoke what `root` minted, what that minted, and so on: one query a generation, then one update."""
    descendants: list[ApiToken] = []
    generation = [root.pk]
    while generation:
        # Revoked ones are walked too: a token minted before its parent was revoked is still of the line.
        children = list(ApiToken.objects.select_for_update().filter(minted_by__in=generation))
        descendants += children
        generation = [child.pk for child in children]
    to_revoke = [child for child in descendants if not child.is_revoked]
    if not to_revoke:
        return
    befores = [_audit_snapshot(child) for child in to_revoke]
    ApiToken.objects.filter(pk__in=[child.pk for child in to_revoke]).update(revoked_at=root.revoked_at)
    for child in to_revoke:
        child.revoked_at = root.revoked_at
        forget_token(child.key_hash)
    audit_record_many(
        actor=actor,
        events=[
            ("token.revoke", child, before, {**_audit_snapshot(child), "revoked_with": root.display_prefix})
            for child, before in zip(to_revoke, befores, strict=True)
        ],
    )
