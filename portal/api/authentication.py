"""API token authentication: `Authorization: Bearer mrd_<prefix>_<secret>`."""

import hmac
import re
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework import authentication, exceptions

from portal.models import ApiToken
from portal.models.tokens import TOKEN_PREFIX, hash_secret

_TOKEN_SHAPE = re.compile(rf"^{TOKEN_PREFIX}_([0-9a-f]{{8}})_[A-Za-z0-9_-]{{20,}}$")
# Recording every use would write on every request; a minute's precision is enough to see use.
_LAST_USED_PRECISION = timedelta(minutes=1)


def _cache_key(key_hash: str) -> str:
    # By the hash of the whole token: only someone holding the secret can find the entry.
    return f"api:token:{key_hash}"


def forget_token(key_hash: str) -> None:
    """Drop a token's cached lookup now and again once the transaction commits: a request that read the row
    before the commit cannot leave the old state cached behind it (portal.tokens.services calls this)."""
    cache.delete(_cache_key(key_hash))
    transaction.on_commit(lambda: cache.delete(_cache_key(key_hash)))


def _lookup(prefix: str, key_hash: str):
    """The token with its user, from the shared cache for API_TOKEN_CACHE_SECONDS, else from the database.

    The query and its model rows were half of a by-ref request served from the cache (docs/benchmarks.md).
    Revoking forgets the entry at once (forget_token); what changes a token or its user without the services
    (a user deactivated in the admin, an expiry date edited by hand) shows within the entry's short life.
    Expiry itself is checked on every request, from the cached expires_at.
    """
    seconds = settings.API_TOKEN_CACHE_SECONDS
    token = cache.get(_cache_key(key_hash)) if seconds else None
    if token is None:
        token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
        if token is not None and seconds and hmac.compare_digest(token.key_hash, key_hash):
            cache.set(_cache_key(key_hash), token, seconds)
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, value = header.partition(" ")
        if keyword.lower() not in self.keywords:
            return None  # another scheme (e.g. Basic); not ours to judge
        value = value.strip()
        match = _TOKEN_SHAPE.match(value)
        if not match:
            raise exceptions.AuthenticationFailed(
                f"Malformed API token: expected '{TOKEN_PREFIX}_<8 hex>_<secret>' after 'Bearer '.",
                code="token_malformed",
            )
        key_hash = hash_secret(value)
        token = _lookup(match.group(1), key_hash)
        if token is None or not hmac.compare_digest(token.key_hash, key_hash):
            raise exceptions.AuthenticationFailed("Invalid API token.", code="token_invalid")
        if token.is_revoked:
            raise exceptions.AuthenticationFailed(
                f"API token {token.display_prefix} was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC.",
                code="token_revoked",
            )
        if token.is_expired:
            raise exceptions.AuthenticationFailed(
                f"API token {token.display_prefix} expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; create a new one.",
                code="token_expired",
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token's user is inactive.", code="user_inactive")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > _LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            cache.delete(_cache_key(key_hash))  # its cached copy still has the old time
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="meridian"'
