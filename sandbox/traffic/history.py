"""The days before now: which windows the generator fills at start, and how finely.

A week at one datapoint a minute is 10,080 points for each of ~100 metrics, so history gets
coarser with age, as CloudWatch's own retention does. Each tier's window is the period the portal's
charts use for the ranges that reach that far back (observability/timeranges.py: 1 h and 6 h at
60 s, 24 h at 300 s, 7 d at 1,800 s), so every chart period holds exactly one datapoint: a coarser
window would show as one spike per window in a finer chart, and a sudden drop where the live,
per-minute data begins.

- the last 6 hours: one datapoint a minute, and up to MINUTE_TRACES traces each;
- the rest of the last 24 hours: one per 5 minutes, up to FINE_TRACES traces each;
- before that: one per 30 minutes, up to COARSE_TRACES traces each.

A datapoint of a 5- or 30-minute window holds the window's total (counters), its minutes'
readings (gauges) or its distribution (latencies), stamped with the window's start. History windows
walk at most `cap` requests of each front-door operation (see simulate.py). Windows are listed
newest first, so the recent past, which people look at first, is there first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.traffic.rates import minute_floor

MINUTE_HOURS, MINUTE_CAP, MINUTE_TRACES = 6, 20, 1
FINE_HOURS, FINE_MINUTES, FINE_CAP, FINE_TRACES = 24, 5, 40, 3
COARSE_MINUTES, COARSE_CAP, COARSE_TRACES = 30, 40, 4

# (how far back the tier reaches, its window in minutes, request cap, trace budget), finest first.
TIERS = (
    (timedelta(hours=MINUTE_HOURS), 1, MINUTE_CAP, MINUTE_TRACES),
    (timedelta(hours=FINE_HOURS), FINE_MINUTES, FINE_CAP, FINE_TRACES),
    (None, COARSE_MINUTES, COARSE_CAP, COARSE_TRACES),
)


@dataclass(frozen=True)
class HistoryWindow:
    start: datetime
    minutes: int
    cap: int | None
    trace_budget: int | None


def _floor(moment: datetime, minutes: int) -> datetime:
    moment = minute_floor(moment)
    return moment - timedelta(minutes=(moment.hour * 60 + moment.minute) % minutes)


def plan(end: datetime, days: float) -> list[HistoryWindow]:
    """The windows of the `days` before `end` (exclusive, a whole minute), newest first, without gaps."""
    end = minute_floor(end)
    if days <= 0:
        return []
    first = _floor(end - timedelta(days=days), COARSE_MINUTES)
    windows = []
    upper = end  # the next window ends here
    for index, (reach, minutes, cap, traces) in enumerate(TIERS):
        # A tier ends where the next, coarser one can start on a multiple of its own window.
        lower = first if reach is None else max(first, _floor(end - reach, TIERS[index + 1][1]))
        moment = upper - timedelta(minutes=minutes)
        while moment >= lower:
            windows.append(HistoryWindow(moment, minutes, cap, traces))
            moment -= timedelta(minutes=minutes)
        upper = min(upper, lower)
    return windows
