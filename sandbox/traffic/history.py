"""The days before now: which windows the generator fills at start, and how finely.

A week at one datapoint a minute is 10,080 points for each of ~100 metrics; moto keeps every
datum as an object and scans them all on each GetMetricStatistics. So history gets coarser with
age, as CloudWatch's own retention does:

- the last 24 hours: one datapoint per 5 minutes (FINE_MINUTES), and up to FINE_TRACES traces each;
- before that: one datapoint per hour (COARSE_MINUTES), and up to COARSE_TRACES traces each;
- the few minutes between the last whole 5 minutes and now: one a minute, like the live generator.

A datapoint of a 5- or 60-minute window holds the window's total (counters), its minutes'
readings (gauges) or its distribution (latencies), stamped with the window's start; so a Sum over
an hour is right, while a 1-minute graph of old history shows one spike per window. History windows
walk at most FINE_CAP or COARSE_CAP requests of each front-door operation (see simulate.py).
Windows are listed newest first, so the recent past, which people look at first, is there first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.traffic.rates import minute_floor

FINE_HOURS = 24
FINE_MINUTES = 5
FINE_CAP = 40
FINE_TRACES = 3
COARSE_MINUTES = 60
COARSE_CAP = 40
COARSE_TRACES = 4


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
    """The windows of the `days` before `end` (exclusive, a whole minute), newest first."""
    end = minute_floor(end)
    if days <= 0:
        return []
    first = _floor(end - timedelta(days=days), COARSE_MINUTES)
    fine_start = max(first, _floor(end - timedelta(hours=FINE_HOURS), COARSE_MINUTES))
    fine_end = _floor(end, FINE_MINUTES)
    windows = []
    moment = end - timedelta(minutes=1)
    while moment >= fine_end:  # the minutes since the last whole five
        windows.append(HistoryWindow(moment, 1, None, None))
        moment -= timedelta(minutes=1)
    moment = fine_end - timedelta(minutes=FINE_MINUTES)
    while moment >= fine_start:
        windows.append(HistoryWindow(moment, FINE_MINUTES, FINE_CAP, FINE_TRACES))
        moment -= timedelta(minutes=FINE_MINUTES)
    moment = fine_start - timedelta(minutes=COARSE_MINUTES)
    while moment >= first:
        windows.append(HistoryWindow(moment, COARSE_MINUTES, COARSE_CAP, COARSE_TRACES))
        moment -= timedelta(minutes=COARSE_MINUTES)
    return windows
