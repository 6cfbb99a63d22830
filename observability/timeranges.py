"""The time range of a chart, the period its datapoints are aggregated over, and the window aligned to it.

The period is chosen from the range so that a series has at most MAX_POINTS datapoints (enough for
a chart's width, and far below GetMetricData's 100,800 a call), and never finer than CloudWatch
keeps data for that long ago (1-minute data for 15 days, 5-minute for 63 days, 1-hour for 455):

    range    period   datapoints a series   series per GetMetricData call (100,800 / datapoints, max 500)
    1 h       60 s     60                   500
    6 h       60 s    360                   280
    24 h     300 s    288                   350
    7 d     1800 s    336                   300
    custom  the smallest of PERIODS that gives <= 360 datapoints and that CloudWatch still keeps

The window is aligned to the period (start and end on multiples of it), so every view within the
same period asks for exactly the same window and finds the answers of the first one in the cache.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
RANGE_LABELS = {"1h": "1 h", "6h": "6 h", "24h": "24 h", "7d": "7 d", "custom": "Custom"}
DEFAULT_RANGE = "1h"
CUSTOM = "custom"
PERIODS = (60, 300, 900, 1800, 3600, 10800, 21600, 86400)
MAX_POINTS = 360
MIN_SPAN = timedelta(minutes=5)
# How long CloudWatch keeps data at each resolution: data older than the age needs at least that period.
RETENTION = ((timedelta(days=15), 60), (timedelta(days=63), 300), (timedelta(days=455), 3600))
MAX_AGE = timedelta(days=455)
INPUT_FORMAT = "YYYY-MM-DDTHH:MM"


class TimeRangeError(ValueError):
    """A time range a person asked for that cannot be charted; the message says why and what to give."""


@dataclass(frozen=True)
class Window:
    key: str  # "1h", "6h", "24h", "7d" or "custom"
    start: datetime  # aligned to the period, UTC
    end: datetime
    period: int  # seconds

    @property
    def points(self) -> int:
        """Datapoints one series has in this window (one per period)."""
        return math.ceil((self.end - self.start).total_seconds() / self.period)

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    @property
    def label(self) -> str:
        if self.key == CUSTOM:
            return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"
        return f"last {RANGE_LABELS[self.key]}"

    def query(self) -> str:
        """The query string that asks for this range again (links between pages keep it)."""
        if self.key == CUSTOM:
            return f"range=custom&start={self.start:%Y-%m-%dT%H:%M}&end={self.end:%Y-%m-%dT%H:%M}"
        return f"range={self.key}"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _floor(moment: datetime, period: int) -> datetime:
    return datetime.fromtimestamp(_epoch(moment) // period * period, tz=UTC)


def _ceil(moment: datetime, period: int) -> datetime:
    return datetime.fromtimestamp(-(-math.ceil(moment.timestamp()) // period) * period, tz=UTC)


def choose_period(span: timedelta, *, oldest: timedelta) -> int:
    """The smallest period giving at most MAX_POINTS datapoints that CloudWatch keeps for data `oldest` ago."""
    floor = next((period for age, period in RETENTION if oldest <= age), PERIODS[-1])
    for period in PERIODS:
        if period >= floor and span.total_seconds() / period <= MAX_POINTS:
            return period
    return PERIODS[-1]


def window_for(key: str, *, now: datetime | None = None) -> Window:
    """The window of a preset range ending now, aligned to its period."""
    now = now or timezone.now()
    span = RANGES[key]
    period = choose_period(span, oldest=span)
    end = _ceil(now, period)
    return Window(key=key, start=end - span, end=end, period=period)


def parse_window(params: Mapping, *, now: datetime | None = None) -> Window:
    """The window a page was asked for (`range`, and `start`/`end` for a custom one); TimeRangeError if bad."""
    now = now or timezone.now()
    key = (params.get("range") or DEFAULT_RANGE).strip()
    if key in RANGES:
        return window_for(key, now=now)
    if key != CUSTOM:
        raise TimeRangeError(f"Unknown time range {key[:20]!r}: choose 1h, 6h, 24h, 7d or custom.")
    start, end = custom_bounds(params, now=now, latest=now, error=TimeRangeError, nothing_yet="there is no data yet")
    if end - start < MIN_SPAN:
        raise TimeRangeError(f"A custom range must span at least {int(MIN_SPAN.total_seconds() // 60)} minutes.")
    if now - start > MAX_AGE:
        oldest = now - MAX_AGE
        raise TimeRangeError(
            f"CloudWatch keeps metrics for {MAX_AGE.days} days (15 months): start on {oldest:%Y-%m-%d} or later."
        )
    period = choose_period(end - start, oldest=now - start)
    return Window(key=CUSTOM, start=_floor(start, period), end=_ceil(end, period), period=period)


def custom_bounds(
    params: Mapping, *, now: datetime, latest: datetime, error: type[ValueError], nothing_yet: str
) -> tuple[datetime, datetime]:
    """The `start` and `end` of a custom range, checked as every time-ranged page needs them: both given, each a
    date and time (UTC unless it carries an offset), the start before the end and before now. The end is cut
    to `latest`. Each page then applies its own limits (its data's retention, its spans); `error` is its
    exception, `nothing_yet` what its message says of a future start."""
    raw_start, raw_end = (params.get("start") or "").strip(), (params.get("end") or "").strip()
    if not raw_start or not raw_end:
        raise error(f"A custom range needs both a start and an end ({INPUT_FORMAT}, UTC).")
    start, end = _parse_moment(raw_start, "start", error), _parse_moment(raw_end, "end", error)
    if start >= end:
        raise error(f"The start ({start:%Y-%m-%d %H:%M}) must be before the end ({end:%Y-%m-%d %H:%M}).")
    if start >= now:
        raise error(f"The start ({start:%Y-%m-%d %H:%M} UTC) is in the future: {nothing_yet}.")
    return start, min(end, latest)


def _parse_moment(raw: str, which: str, error: type[ValueError]) -> datetime:
    try:
        moment = datetime.fromisoformat(raw[:40])
    except ValueError:
        raise error(
            f"The {which} {raw[:40]!r} is not a date and time: use {INPUT_FORMAT} "
            "(UTC, unless it carries an offset such as +02:00)."
        ) from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
