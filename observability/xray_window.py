"""The time range of an X-Ray page (service map, trace list): a preset ending now, or a custom start and end.

    range=15m | 1h (default) | 6h | 24h
    range=custom&start=2026-01-01T10:00&end=2026-01-01T11:00   (UTC unless an offset is given)

The end of a preset is the next whole minute, so every view within a minute asks X-Ray for the
same window. `cache_key` names the range, not the minute: a cached graph of "the last hour" serves
views for a minute (observability.xray.service_map keeps it that long), and is the last good answer of
"the last hour" when AWS fails later.

Limits, the portal's own: X-Ray keeps traces for 30 days, so a custom range must start within
them; it spans at most 24 hours (a week of a busy estate is more than a page should ask X-Ray to
aggregate on view) and at least a minute.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from observability.timeranges import custom_bounds

RANGES: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
}
RANGE_LABELS = {"15m": "15 min", "1h": "1 h", "6h": "6 h", "24h": "24 h"}
DEFAULT_RANGE = "1h"
CUSTOM = "custom"
RETENTION = timedelta(days=30)
MAX_SPAN = timedelta(hours=24)
MIN_SPAN = timedelta(minutes=1)


class XrayWindowError(ValueError):
    """A range a person asked for that X-Ray cannot be asked about; the message says why and what to give."""


@dataclass(frozen=True)
class XrayWindow:
    key: str  # a RANGES key or "custom"
    start: datetime  # UTC
    end: datetime

    @property
    def label(self) -> str:
        if self.key == CUSTOM:
            return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"
        return f"last {RANGE_LABELS[self.key]}"

    @property
    def phrase(self) -> str:
        """For sentences: "seen in the last 1 h", "seen in 2026-01-01 10:00 to 11:00 UTC"."""
        return f"the {self.label}" if self.key != CUSTOM else self.label

    @property
    def cache_key(self) -> str:
        if self.key == CUSTOM:
            return f"custom:{int(self.start.timestamp())}:{int(self.end.timestamp())}"
        return self.key

    def query(self) -> str:
        """The query string that asks for this range again (links between pages keep it)."""
        if self.key == CUSTOM:
            return f"range=custom&start={self.start:%Y-%m-%dT%H:%M}&end={self.end:%Y-%m-%dT%H:%M}"
        return f"range={self.key}"


def _next_minute(moment: datetime) -> datetime:
    return datetime.fromtimestamp(math.ceil(moment.timestamp() / 60) * 60, tz=UTC)


def preset_window(key: str = DEFAULT_RANGE, *, now: datetime | None = None) -> XrayWindow:
    end = _next_minute(now or timezone.now())
    return XrayWindow(key=key, start=end - RANGES[key], end=end)


def parse_xray_window(params: Mapping, *, now: datetime | None = None) -> XrayWindow:
    """The window asked for by `range` (and `start`/`end` for a custom one). XrayWindowError if it cannot be."""
    now = now or timezone.now()
    key = (params.get("range") or DEFAULT_RANGE).strip()
    if key in RANGES:
        return preset_window(key, now=now)
    if key != CUSTOM:
        raise XrayWindowError(f"Unknown time range {key[:20]!r}: choose {', '.join(RANGES)} or custom.")
    start, end = custom_bounds(
        params, now=now, latest=_next_minute(now), error=XrayWindowError, nothing_yet="there are no traces yet"
    )
    if end - start < MIN_SPAN:
        raise XrayWindowError("A custom range must span at least a minute.")
    if end - start > MAX_SPAN:
        raise XrayWindowError(f"A custom range spans at most {MAX_SPAN.total_seconds() / 3600:g} hours here.")
    if now - start > RETENTION:
        raise XrayWindowError(
            f"X-Ray keeps traces for {RETENTION.days} days: start on {now - RETENTION:%Y-%m-%d %H:%M} UTC or later."
        )
    return XrayWindow(key=CUSTOM, start=start, end=end)
