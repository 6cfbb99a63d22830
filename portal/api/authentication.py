"""API token authentication: `Authorization: Bearer mrd_<prefix>_<secret>`."""

import hmac
import re
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from portal.models import ApiToken
from portal.models.tokens import TOKEN_PREFIX, hash_secret

_TOKEN_SHAPE = re.compile(rf"^{TOKEN_PREFIX}_([0-9a-f]{{8}})_[A-Za-z0-9_-]{{20,}}$")
# Recording every use would write on every request; a minute's precision is enough to see use.
_LAST_USED_PRECISION = timedelta(minutes=1)


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
        token = ApiToken.objects.select_related("user").filter(prefix=match.group(1)).first()
        if token is None or not hmac.compare_digest(token.key_hash, hash_secret(value)):
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
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="meridian"'
