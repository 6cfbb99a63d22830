"""Rate limits per API token and per user (rates in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]).

A request made with a token counts against both the token's budget and its
user's, so making more tokens does not buy a user more requests.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from portal.models import ApiToken


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        # DRF copies the rates into a class attribute at import; reading them per request lets settings change.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class TokenRateThrottle(_SettingsRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


class UserRateThrottle(_SettingsRateThrottle):
    scope = "user"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
