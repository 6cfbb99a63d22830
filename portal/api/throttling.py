"""Rate limits per API token and per signed-in user (rates in settings.REST_FRAMEWORK)."""

from rest_framework.throttling import SimpleRateThrottle

from portal.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


class UserRateThrottle(SimpleRateThrottle):
    """Session-authenticated requests; token requests are counted by TokenRateThrottle."""

    scope = "user"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken) or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
