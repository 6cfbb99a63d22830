"""The time range of an observability page: one `Window` type, and the ranges each kind of page offers.

    CHART_RANGES.parse(request.GET)    a CloudWatch chart (the Metrics tab, the dashboards)
    XRAY_RANGES.parse(request.GET)     a service map or the trace list
    SAGA_RANGES.parse(request.GET)     a saga's executions per outcome

`range=<preset>` is a preset ending now; `range=custom&start=2026-01-01T10:00&end=2026-01-01T11:00` (UTC
unless an offset is given) a custom range, on the pages that allow one. A range that cannot be shown is a
TimeRangeError whose message says why and what to give.

A window's `period` is the width of one datapoint or bar, and its end is rounded up to a multiple of it, so
every view within one period asks for exactly the same window and finds the first view's answers cached.

**Charts** (CloudWatch). The period is chosen from the range so that a series has at most MAX_POINTS
datapoints (enough for a chart's width, and far below GetMetricData's 100,800 a call), and never finer than
CloudWatch keeps data for that long ago (1-minute data for 15 days, 5-minute for 63 days, 1-hour for 455):

    range    period   datapoints a series   series per GetMetricData call (100,800 / datapoints, max 500)
    1 h       60 s     60                   500
    6 h       60 s    360                   280
    24 h     300 s    288                   350
    7 d     1800 s    336                   300
    custom  the smallest of PERIODS that gives <= 360 datapoints and that CloudWatch still keeps

A custom window is widened to whole periods too.

**X-Ray.** Presets of 15 minutes to 24 hours ending at the next whole minute. `cache_key` names the range,
not the minute: a cached graph of "the last hour" serves views for a minute (observability.xray.service_map
keeps it that long), and is the last good answer of "the last hour" when AWS fails later. X-Ray keeps traces
for 30 days, so a custom range starts within them; it spans at most 24 hours (a week of a busy estate is more
than a page should ask X-Ray to aggregate on view) and at least a minute.

**Sagas.** Presets only (the database keeps what the sync read), each with its bar width: hours for a day,
six hours for a week, days for a month.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

CUSTOM = "custom"
INPUT_FORMAT = "YYYY-MM-DDTHH:MM"


class TimeRangeError(ValueError):
    """A time range a person asked for that cannot be shown; the message says why and what to give."""


@dataclass(frozen=True)
class Window:
    key: str  # a preset's key, or "custom"
    start: datetime  # UTC
    end: datetime
    period: int = 60  # seconds: the width of one datapoint or bar; the end is a multiple of it
    preset_label: str = ""  # "1 h", for "last 1 h"

    @property
    def points(self) -> int:
        """Datapoints (or bars) one series has in this window: one per period."""
        return math.ceil((self.end - self.start).total_seconds() / self.period)

    @property
    def label(self) -> str:
        if self.key == CUSTOM:
            return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"
        return f"last {self.preset_label}"

    @property
    def phrase(self) -> str:
        """For sentences: "seen in the last 1 h", "seen in 2026-01-01 10:00 to 11:00 UTC"."""
        return f"the {self.label}" if self.key != CUSTOM else self.label

    @property
    def cache_key(self) -> str:
        """The same for every view of a preset, whatever the minute; the bounds of a custom range."""
        if self.key == CUSTOM:
            return f"custom:{int(self.start.timestamp())}:{int(self.end.timestamp())}"
        return self.key

    def query(self) -> str:
        """The query string that asks for this range again (links between pages keep it)."""
        if self.key == CUSTOM:
            return f"range=custom&start={self.start:%Y-%m-%dT%H:%M}&end={self.end:%Y-%m-%dT%H:%M}"
        return f"range={self.key}"


@dataclass(frozen=True)
class Preset:
    key: str  # its value of `range=`
    span: timedelta
    label: str  # "1 h"
    period: int | None = None  # seconds; None: the Ranges' period rule decides


@dataclass(frozen=True)
class CustomRule:
    """What a page allows of a custom range, and what its refusals say."""

    min_span: timedelta
    retention: timedelta  # how far back the data goes
    retention_message: str  # formatted with `oldest`, the earliest start allowed
    nothing_yet: str  # what a start in the future finds
    max_span: timedelta | None = None
    widen: bool = False  # widen the start and end to whole periods (charts), or keep them as given


def _whole_minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


@dataclass(frozen=True)
class Ranges:
    """The ranges one kind of page offers: its presets, its default, its period rule and its custom rule."""

    presets: tuple[Preset, ...]
    default: str
    # (span, how long ago the start is) -> seconds, for presets without a period of their own and custom ranges
    period_for: Callable[[timedelta, timedelta], int] = lambda span, oldest: 60
    custom: CustomRule | None = None
    noun: str = "time range"  # what the "Unknown ..." message calls it

    def _preset(self, key: str) -> Preset | None:
        return next((preset for preset in self.presets if preset.key == key), None)

    def choices(self) -> list[tuple[str, str]]:
        """(value, label) of the range buttons, "custom" last where a custom range is allowed."""
        return [(p.key, p.label) for p in self.presets] + ([(CUSTOM, "Custom")] if self.custom else [])

    def preset(self, key: str | None = None, *, now: datetime | None = None) -> Window:
        """The window of a preset (the default one without a key) ending now, its end rounded up to its period."""
        preset = self._preset(key or self.default)
        if preset is None:
            raise KeyError(key)
        period = preset.period or self.period_for(preset.span, preset.span)
        end = _ceil(now or timezone.now(), period)
        return Window(key=preset.key, start=end - preset.span, end=end, period=period, preset_label=preset.label)

    def parse(self, params: Mapping, *, now: datetime | None = None) -> Window:
        """The window a page was asked for (`range`, and `start`/`end` for a custom one); TimeRangeError if bad."""
        now = now or timezone.now()
        key = (params.get("range") or self.default).strip()
        if self._preset(key) is not None:
            return self.preset(key, now=now)
        if key != CUSTOM or self.custom is None:
            keys = [p.key for p in self.presets]
            listed = f"{', '.join(keys)} or custom" if self.custom else ", ".join(keys)
            raise TimeRangeError(f"Unknown {self.noun} {key[:20]!r}: choose {listed}.")
        return self._custom(params, now=now)

    def read(self, params: Mapping, *, now: datetime | None = None) -> tuple[Window, str]:
        """(window, "") for a range that can be shown, else (the default window, why not): what a page needs to
        draw its range form with the error, and to fetch nothing for a range that makes no sense."""
        try:
            return self.parse(params, now=now), ""
        except TimeRangeError as error:
            return self.preset(now=now), str(error)

    def _custom(self, params: Mapping, *, now: datetime) -> Window:
        rule = self.custom
        start, end = _custom_bounds(params, now=now, latest=_ceil(now, 60), nothing_yet=rule.nothing_yet)
        if end - start < rule.min_span:
            minutes = _whole_minutes(rule.min_span)
            raise TimeRangeError(
                f"A custom range must span at least {'a minute' if minutes == 1 else f'{minutes} minutes'}."
            )
        if rule.max_span is not None and end - start > rule.max_span:
            raise TimeRangeError(f"A custom range spans at most {rule.max_span.total_seconds() / 3600:g} hours here.")
        if now - start > rule.retention:
            raise TimeRangeError(rule.retention_message.format(oldest=now - rule.retention))
        period = self.period_for(end - start, now - start)
        if rule.widen:
            start, end = _floor(start, period), _ceil(end, period)
        return Window(key=CUSTOM, start=start, end=end, period=period)


def _floor(moment: datetime, period: int) -> datetime:
    return datetime.fromtimestamp(int(moment.timestamp()) // period * period, tz=UTC)


def _ceil(moment: datetime, period: int) -> datetime:
    return datetime.fromtimestamp(-(-math.ceil(moment.timestamp()) // period) * period, tz=UTC)


def _custom_bounds(params: Mapping, *, now: datetime, latest: datetime, nothing_yet: str) -> tuple[datetime, datetime]:
    """The `start` and `end` of a custom range: both given, each a date and time (UTC unless it carries an
    offset), the start before the end and before now. The end is cut to `latest`."""
    raw_start, raw_end = (params.get("start") or "").strip(), (params.get("end") or "").strip()
    if not raw_start or not raw_end:
        raise TimeRangeError(f"A custom range needs both a start and an end ({INPUT_FORMAT}, UTC).")
    start, end = _parse_moment(raw_start, "start"), _parse_moment(raw_end, "end")
    if start >= end:
        raise TimeRangeError(f"The start ({start:%Y-%m-%d %H:%M}) must be before the end ({end:%Y-%m-%d %H:%M}).")
    if start >= now:
        raise TimeRangeError(f"The start ({start:%Y-%m-%d %H:%M} UTC) is in the future: {nothing_yet}.")
    return start, min(end, latest)


def _parse_moment(raw: str, which: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw[:40])
    except ValueError:
        raise TimeRangeError(
            f"The {which} {raw[:40]!r} is not a date and time: use {INPUT_FORMAT} "
            "(UTC, unless it carries an offset such as +02:00)."
        ) from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# --- CloudWatch charts -------------------------------------------------------------------------------------

PERIODS = (60, 300, 900, 1800, 3600, 10800, 21600, 86400)
MAX_POINTS = 360
# How long CloudWatch keeps data at each resolution: data older than the age needs at least that period.
CLOUDWATCH_RETENTION = ((timedelta(days=15), 60), (timedelta(days=63), 300), (timedelta(days=455), 3600))


def choose_period(span: timedelta, *, oldest: timedelta) -> int:
    """The smallest period giving at most MAX_POINTS datapoints that CloudWatch keeps for data `oldest` ago."""
    floor = next((period for age, period in CLOUDWATCH_RETENTION if oldest <= age), PERIODS[-1])
    for period in PERIODS:
        if period >= floor and span.total_seconds() / period <= MAX_POINTS:
            return period
    return PERIODS[-1]


CHART_RANGES = Ranges(
    presets=(
        Preset("1h", timedelta(hours=1), "1 h"),
        Preset("6h", timedelta(hours=6), "6 h"),
        Preset("24h", timedelta(hours=24), "24 h"),
        Preset("7d", timedelta(days=7), "7 d"),
    ),
    default="1h",
    period_for=lambda span, oldest: choose_period(span, oldest=oldest),
    custom=CustomRule(
        min_span=timedelta(minutes=5),
        retention=CLOUDWATCH_RETENTION[-1][0],
        retention_message="CloudWatch keeps metrics for 455 days (15 months): start on {oldest:%Y-%m-%d} or later.",
        nothing_yet="there is no data yet",
        widen=True,
    ),
)

# --- X-Ray -------------------------------------------------------------------------------------------------

XRAY_RANGES = Ranges(
    presets=(
        Preset("15m", timedelta(minutes=15), "15 min"),
        Preset("1h", timedelta(hours=1), "1 h"),
        Preset("6h", timedelta(hours=6), "6 h"),
        Preset("24h", timedelta(hours=24), "24 h"),
    ),
    default="1h",
    custom=CustomRule(
        min_span=timedelta(minutes=1),
        max_span=timedelta(hours=24),
        retention=timedelta(days=30),
        retention_message="X-Ray keeps traces for 30 days: start on {oldest:%Y-%m-%d %H:%M} UTC or later.",
        nothing_yet="there are no traces yet",
    ),
)

# --- Sagas -------------------------------------------------------------------------------------------------

SAGA_RANGES = Ranges(
    presets=(
        Preset("24h", timedelta(hours=24), "24 h", period=3600),
        Preset("7d", timedelta(days=7), "7 d", period=6 * 3600),
        Preset("30d", timedelta(days=30), "30 d", period=86400),
    ),
    default="24h",
    noun="range",
)
