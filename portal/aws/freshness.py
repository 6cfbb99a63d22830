"""Last good data: fetch from AWS, and when AWS fails, fall back to the last answer that worked.

    result = fetch_or_last_good(f"ecs-services:{account.pk}:{region}", lambda: list_services(account, region))
    result.value       # the data (None only if AWS never answered)
    result.fetched_at  # when AWS gave that data
    result.stale       # True when this is the fallback
    result.error       # why the fetch failed, a message for the page's notice

Fetching goes through the client factory, so an open circuit breaker makes
the fallback instant. Values are kept in Django's cache (shared by every
process) and must pickle: plain dataclasses, lists, dicts.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from django.core.cache import cache
from django.utils import timezone

from portal.aws.errors import AwsError

T = TypeVar("T")

KEEP_LAST_GOOD = timedelta(days=7)


@dataclass(frozen=True)
class Fetched(Generic[T]):
    value: T | None
    fetched_at: datetime | None
    stale: bool = False
    error: str = ""
    error_code: str = ""

    @property
    def age(self) -> timedelta | None:
        return None if self.fetched_at is None else timezone.now() - self.fetched_at


def _cache_key(key: str) -> str:
    return f"aws:last-good:{key}"


def fetch_or_last_good(
    key: str,
    fetch: Callable[[], T],
    *,
    fresh_for: timedelta = timedelta(0),
    keep_for: timedelta = KEEP_LAST_GOOD,
) -> Fetched[T]:
    """`fetch()` and remember the result; on AwsError, the last good result marked stale.

    `fresh_for`: a remembered result younger than this is returned without
    calling AWS at all (for pages that may fetch "once, on first view").
    """
    remembered = cache.get(_cache_key(key))
    if remembered is not None and fresh_for and timezone.now() - remembered[1] < fresh_for:
        return Fetched(value=remembered[0], fetched_at=remembered[1])
    try:
        value = fetch()
    except AwsError as exc:
        if remembered is None:
            return Fetched(value=None, fetched_at=None, stale=True, error=str(exc), error_code=exc.code)
        return Fetched(value=remembered[0], fetched_at=remembered[1], stale=True, error=str(exc), error_code=exc.code)
    now = timezone.now()
    cache.set(_cache_key(key), (value, now), timeout=int(keep_for.total_seconds()))
    return Fetched(value=value, fetched_at=now)
