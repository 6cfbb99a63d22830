"""A circuit breaker per (account, service), its state in Django's cache so every process shares it.

Closed: calls go through. After AWS_BREAKER_FAILURES consecutive outage-type
failures (connection refused, timeouts, 5xx or throttling after retries) it
opens: for AWS_BREAKER_RESET_SECONDS every call fails at once with
AwsCircuitOpen, without touching the network, so a dead endpoint costs a
page or a worker nothing. Then it half-opens: one caller (whoever wins
`cache.add` on the probe key) is let through; success closes the breaker,
failure opens it again for another period.

Only outages count. AccessDenied, NotFound or a bad parameter prove the
endpoint answers, so they count as successes here.

The client factory wires `before_call`, `record_success` and
`record_failure` into botocore's events; nothing else needs to call them.
"""

import time
from dataclasses import dataclass

from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError
from django.conf import settings
from django.core.cache import cache

from portal.aws.errors import THROTTLING_CODES, AwsCircuitOpen

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"

# Failures further apart than this are not "consecutive" (nobody called in between).
_FAILURE_WINDOW_PERIODS = 10


def is_outage_exception(exc: BaseException) -> bool:
    """A network-level failure: the endpoint refused, vanished or did not answer in time."""
    return isinstance(exc, BotoConnectionError | ReadTimeoutError | ConnectionClosedError)


def is_outage_response(status: int, error_code: str) -> bool:
    """A failure answer: the service is in trouble (5xx) or still throttling after the retries."""
    return status >= 500 or error_code in THROTTLING_CODES


@dataclass(frozen=True)
class BreakerState:
    account_id: str
    service: str
    state: str
    failures: int
    retry_in: float  # seconds until a probe is allowed; 0 when not open


class CircuitBreaker:
    def __init__(self, account_id: str, service: str):
        self.account_id = account_id
        self.service = service
        prefix = f"aws:breaker:{account_id}:{service}"
        self._failures_key = f"{prefix}:failures"
        self._opened_key = f"{prefix}:opened_at"
        self._probe_key = f"{prefix}:probe"

    @staticmethod
    def _reset_seconds() -> float:
        return float(settings.AWS_BREAKER_RESET_SECONDS)

    def before_call(self) -> dict:
        """Raise AwsCircuitOpen while open; otherwise return what `record_*` need to know."""
        found = cache.get_many([self._failures_key, self._opened_key])
        opened_at = found.get(self._opened_key)
        if opened_at is None:
            return {"probe": False, "dirty": bool(found.get(self._failures_key))}
        retry_in = opened_at + self._reset_seconds() - time.time()
        if retry_in <= 0 and cache.add(self._probe_key, 1, timeout=max(self._reset_seconds(), 1)):
            return {"probe": True, "dirty": True}
        raise AwsCircuitOpen(
            f"AWS {self.service} calls for account {self.account_id} are paused: the last "
            f"{settings.AWS_BREAKER_FAILURES} failed, so the portal is not waiting on it. "
            + (f"It will try again in {retry_in:.0f}s." if retry_in > 0 else "A retry is under way."),
            retry_in=max(retry_in, 0.0),
            account=self.account_id,
            service=self.service,
        )

    def record_success(self, ticket: dict) -> None:
        # Only write when there is something to clear: a healthy call costs one cache read, no write.
        if ticket.get("dirty"):
            cache.delete_many([self._failures_key, self._opened_key, self._probe_key])

    def record_failure(self, ticket: dict) -> None:
        if ticket.get("probe"):
            self._open()
            return
        window = max(int(self._reset_seconds() * _FAILURE_WINDOW_PERIODS), 60)
        cache.add(self._failures_key, 0, timeout=window)
        try:
            failures = cache.incr(self._failures_key)
        except ValueError:  # expired between add and incr
            cache.set(self._failures_key, 1, timeout=window)
            failures = 1
        if failures >= settings.AWS_BREAKER_FAILURES:
            self._open()

    def _open(self) -> None:
        cache.set(self._opened_key, time.time(), timeout=None)
        cache.delete(self._probe_key)

    def state(self) -> BreakerState:
        return breaker_states([(self.account_id, self.service)])[0]


def breaker_states(keys: list[tuple[str, str]]) -> list[BreakerState]:
    """The state of many breakers in one cache round trip (pages use it; it never touches AWS)."""
    breakers = [CircuitBreaker(account_id, service) for account_id, service in keys]
    wanted = [k for b in breakers for k in (b._failures_key, b._opened_key)]
    found = cache.get_many(wanted) if wanted else {}
    now = time.time()
    states = []
    for b in breakers:
        failures = int(found.get(b._failures_key) or 0)
        opened_at = found.get(b._opened_key)
        if opened_at is None:
            state, retry_in = CLOSED, 0.0
        else:
            retry_in = max(opened_at + b._reset_seconds() - now, 0.0)
            state = OPEN if retry_in > 0 else HALF_OPEN
        states.append(BreakerState(b.account_id, b.service, state, failures, retry_in))
    return states
