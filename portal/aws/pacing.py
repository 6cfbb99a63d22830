"""Pacing of AWS calls to the portal's own share of an API's rate quota, shared by every worker.

Many AWS APIs are throttled with a token bucket per account and region (Step Functions'
ListExecutions: 200 tokens refilled at 5 a second in us-east-1, us-west-2 and eu-west-1, 100 at 2
elsewhere). The bucket is shared with everything else calling that API in the account: the console,
CI, the services themselves. botocore's retries cope with an occasional "slow down", but a sync
that spends the bucket makes other callers fail, so the portal keeps to a rate of its own, below
the refill rate, for each (account, region, operation).

How: fixed windows counted in Django's cache (Redis in production, shared by every worker on every
host): a call takes a slot in the current window with `cache.add` + `cache.incr` (atomic on Redis;
`make run`'s file cache may let an extra call through now and then); when the window is full it
sleeps until the next one. A rate below one call a second becomes one call per window of 1/rate
seconds. A call costs two cache round trips. With a cache that is not shared (tests' local memory)
each process paces on its own.

The clock and the sleep are parameters so that tests can drive a pacer without waiting.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache

from portal.aws.errors import AwsThrottled


@dataclass(frozen=True)
class Window:
    seconds: int
    calls: int

    @classmethod
    def for_rate(cls, per_second: float) -> "Window":
        if per_second <= 0:
            raise ValueError(f"a pacing rate must be positive, not {per_second!r}")
        if per_second >= 1:
            return cls(seconds=1, calls=int(per_second))
        return cls(seconds=math.ceil(1 / per_second), calls=1)


class Pacer:
    """Takes a slot for a call to `operation` in `account_id`/`region`, waiting for one when the window is full."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 60.0,
    ):
        self.clock = clock
        self.sleep = sleep
        self.max_wait = max_wait
        self.waited = 0.0  # seconds this pacer slept, for logs and tests

    def take(self, *, account_id: str, region: str, service: str, operation: str, per_second: float) -> None:
        window = Window.for_rate(per_second)
        prefix = f"aws:pace:{account_id}:{region}:{service}:{operation}"
        started = self.clock()
        while True:
            now = self.clock()
            index = int(now // window.seconds)
            key = f"{prefix}:{window.seconds}:{index}"
            # The key outlives its window a little, so a slow incr never recreates it at zero.
            cache.add(key, 0, timeout=window.seconds + 5)
            try:
                taken = cache.incr(key)
            except ValueError:  # evicted between add and incr: count this call as the window's first
                cache.set(key, 1, timeout=window.seconds + 5)
                taken = 1
            if taken <= window.calls:
                return
            wait = (index + 1) * window.seconds - now
            if now - started + wait > self.max_wait:
                raise AwsThrottled(
                    f"The portal's own pace for {service} {operation} in account {account_id} ({region}) is "
                    f"{per_second:g} calls a second, and other syncs have used it for over {self.max_wait:g}s. "
                    "The next run will carry on; if this persists, sync less often or raise the rate setting.",
                    account=account_id,
                    service=service,
                    operation=operation,
                    aws_code="PortalPacing",
                )
            self.sleep(wait)
            self.waited += wait
