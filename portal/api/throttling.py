"""Rate limits per API token and per user (rates in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]).

A request made with a token counts against both the token's budget and its
user's, so making more tokens does not buy a user more requests.

Budgets are counted in fixed windows of the rate's period (an hour for "1000/hour", on the clock's hours),
with one atomic counter a window in the shared cache (portal.cache.window_count: one round trip on Redis).
DRF's own throttle reads a list of timestamps and writes it back, so concurrent requests all read the same
list and all got through. A fixed window lets through at most twice the rate across the boundary of two
windows, as GitHub's and django-ratelimit's limits do; Retry-After is the time left in the current window.
"""

import math

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from portal.cache import window_count
from portal.models import ApiToken


class _WindowCounterThrottle(SimpleRateThrottle):
    def get_rate(self):
        # DRF copies the rates into a class attribute at import; reading them per request lets settings change.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.window_end = (window + 1) * self.duration
        counter = f"{key}:{window}"
        # A second of slack, so the counter outlives its window on caches whose clocks round.
        timeout = math.ceil(self.window_end - now) + 1
        return window_count(self.cache, counter, timeout) <= self.num_requests

    def wait(self):
        return max(1, math.ceil(self.window_end - self.timer()))


class TokenRateThrottle(_WindowCounterThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}


class UserRateThrottle(_WindowCounterThrottle):
    scope = "user"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
