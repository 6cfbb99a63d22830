"""The daily pattern: how busy the estate is at a given minute, and when the daily error burst happens.

All times are UTC (the estate's customers are in Europe). A weekday is quiet at night (8% of the
peak at 04:00), climbs through the morning and peaks at 15:30; Saturdays and Sundays run at 80%.
Each minute gets its own small deterministic jitter (+-6%), so the same seed and minute always give
the same number of requests and two minutes are never exactly alike.

The burst: a service with a `burst:` block answers 5xx to a large share of its requests for a
few minutes once a day, starting at a minute drawn from the seed and the date in the block's
`between` hours (a busy afternoon), lasting between its shortest and longest `minutes`.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from sandbox.traffic.model import Burst

# (hour of the day, share of the peak); linear in between.
DAILY_CURVE = (
    (0.0, 0.22),
    (2.0, 0.12),
    (4.0, 0.08),
    (6.0, 0.15),
    (8.0, 0.40),
    (10.0, 0.62),
    (12.0, 0.78),
    (14.0, 0.92),
    (15.5, 1.00),
    (17.0, 0.90),
    (19.0, 0.80),
    (21.0, 0.60),
    (23.0, 0.35),
    (24.0, 0.22),
)
WEEKEND_FACTOR = 0.8
JITTER = 0.06


def minute_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def load(moment: datetime) -> float:
    """How busy the estate is at `moment`, as a share of the weekday peak (no jitter)."""
    moment = moment.astimezone(UTC)
    hour = moment.hour + moment.minute / 60 + moment.second / 3600
    for (h0, v0), (h1, v1) in itertools.pairwise(DAILY_CURVE):
        if h0 <= hour <= h1:
            value = v0 + (v1 - v0) * (hour - h0) / (h1 - h0)
            break
    return value * (WEEKEND_FACTOR if moment.weekday() >= 5 else 1.0)


def jitter(seed: str, minute: datetime) -> float:
    """The minute's own factor around 1."""
    rng = random.Random(f"{seed}:jitter:{int(minute_floor(minute).timestamp())}")
    return 1.0 + rng.uniform(-JITTER, JITTER)


def requests_in_minute(seed: str, minute: datetime, peak_rpm: float) -> int:
    """Requests entering the estate in the minute starting at `minute`."""
    return round(peak_rpm * load(minute) * jitter(seed, minute))


@lru_cache(maxsize=256)
def burst_window(seed: str, service: str, day: date, burst: Burst) -> tuple[datetime, datetime]:
    """[start, end) of the service's burst on `day`."""
    rng = random.Random(f"{seed}:burst:{service}:{day.isoformat()}")
    length = rng.randint(*burst.minutes)
    first, last = burst.between
    start = datetime.combine(day, time(first), tzinfo=UTC) + timedelta(
        minutes=rng.randrange((last - first) * 60 - length)
    )
    return start, start + timedelta(minutes=length)


def in_burst(seed: str, service: str, moment: datetime, burst: Burst | None) -> bool:
    if burst is None:
        return False
    start, end = burst_window(seed, service, moment.astimezone(UTC).date(), burst)
    return start <= moment < end
