"""Every trace of one account and region, kept current as segments arrive, and the calls of each edge by time.

moto's SegmentCollection keeps the documents; this index keeps what the read APIs need from them:
one `TraceRecord` per trace (summaries, filters, trace graphs) and, per edge of the service graph,
its calls sorted by time in flat parallel lists. A service graph over a window is then, per edge,
two binary searches and a `Counter` over a slice of small integers (the status and histogram bucket
of each call), which is C-speed: a week of traces is aggregated in tens of milliseconds, not by a
walk over every segment.

Segments are indexed when PutTraceSegments has stored its whole batch (and, for anything that put
segments through moto's backend directly, before the next read). A trace is derived again from all
its documents each time, and only the calls that changed move in the per-edge lists.

Histogram buckets, as X-Ray reports them (values in seconds): below one second, the response time
rounded to the millisecond (a call faster than 1 ms counts as 0.001); from one second on, rounded
to three significant digits (1.23, 12.3, 123). X-Ray's own examples show millisecond values below a
second; it does not document its rounding above, so three significant digits keep a week of slow
calls to a few hundred buckets. TotalResponseTime is the sum of the unrounded response times.

The index lives in a moto `BackendDict`, so moto's reset (`mock_aws`, `/moto-api/reset`) drops it
together with moto's X-Ray backend; an index that finds a SegmentCollection it has not seen (a new
backend after a reset, or segments put before the extension was installed) rebuilds from it.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend

from .traces import Call, Node, TraceRecord, derive, document, trace_epoch

EdgeKey = tuple[Node | None, Node]


def bucket_ms(seconds: float) -> int:
    """The histogram bucket of a response time, in whole milliseconds (see the module docstring)."""
    ms = seconds * 1000.0
    if ms <= 0:
        return 0
    if ms < 1000:
        return max(1, int(ms + 0.5))
    step = 10 ** (math.floor(math.log10(ms)) - 2)
    return int(ms / step + 0.5) * step


def encode(call: Call) -> int:
    """A call as one small integer: its histogram bucket and its status (2 bits)."""
    return (bucket_ms(call.value) << 2) | call.status


class Aggregate:
    """The calls of one edge in a window: how many of each (bucket, status), their total time, first and last."""

    __slots__ = ("counts", "first", "last", "total")

    def __init__(self, counts: Counter[int], total: float, first: float, last: float):
        self.counts = counts
        self.total = total
        self.first = first
        self.last = last

    def merge(self, other: Aggregate) -> None:
        self.counts.update(other.counts)
        self.total += other.total
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)

    def copy(self) -> Aggregate:
        return Aggregate(Counter(self.counts), self.total, self.first, self.last)


class EdgeSeries:
    """The calls of one edge, sorted by window start, as parallel lists (start, end, code, response time)."""

    __slots__ = ("codes", "ends", "starts", "values")

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.codes: list[int] = []
        self.values: list[float] = []

    def __len__(self) -> int:
        return len(self.starts)

    def add(self, call: Call) -> None:
        at = bisect.bisect_right(self.starts, call.start)
        self.starts.insert(at, call.start)
        self.ends.insert(at, call.end)
        self.codes.insert(at, encode(call))
        self.values.insert(at, call.value)

    def remove(self, call: Call) -> None:
        code = encode(call)
        at = bisect.bisect_left(self.starts, call.start)
        while at < len(self.starts) and self.starts[at] == call.start:
            if self.ends[at] == call.end and self.codes[at] == code and self.values[at] == call.value:
                del self.starts[at], self.ends[at], self.codes[at], self.values[at]
                return
            at += 1

    def window(self, start: float, end: float, max_span: float) -> Aggregate | None:
        """The calls that started and ended within [start, end]; None when there are none."""
        low = bisect.bisect_left(self.starts, start)
        high = bisect.bisect_right(self.starts, end)
        if low >= high:
            return None
        counts = Counter(self.codes[low:high])
        total = sum(self.values[low:high])
        # Only calls that started less than `max_span` before the end can have ended after it.
        late = set()
        for at in range(max(low, bisect.bisect_left(self.starts, end - max_span)), high):
            if self.ends[at] > end:
                late.add(at)
                counts[self.codes[at]] -= 1
                total -= self.values[at]
        if len(late) == high - low:
            return None
        first = next(at for at in range(low, high) if at not in late)
        last = next(at for at in range(high - 1, low - 1, -1) if at not in late)
        # The latest end is among the calls that started at most `max_span` before the last one.
        latest = max(
            self.ends[at]
            for at in range(max(first, bisect.bisect_left(self.starts, self.starts[last] - max_span)), last + 1)
            if at not in late
        )
        return Aggregate(+counts, total, self.starts[first], latest)


def aggregate(calls: Iterable[Call]) -> dict[EdgeKey, Aggregate]:
    """Calls grouped by edge, without a window (GetTraceGraph)."""
    found: dict[EdgeKey, Aggregate] = {}
    for call in calls:
        key = (call.caller, call.callee)
        one = Aggregate(Counter({encode(call): 1}), call.value, call.start, call.end)
        if key in found:
            found[key].merge(one)
        else:
            found[key] = one
    return found


def _complete(segment: Any) -> bool:
    return segment.end_time is not None and segment.in_progress not in (True, "true")


class TraceIndex(BaseBackend):
    """The traces of one account and region (see the module docstring)."""

    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.lock = threading.RLock()
        self._clear()

    def _clear(self) -> None:
        self.collection: Any = None
        self.segments: dict[str, dict[str, Any]] = {}  # trace id -> segment id -> moto TraceSegment
        self.arrival: dict[str, int] = {}  # trace id -> documents received
        self.records: dict[str, TraceRecord] = {}
        self.edges: dict[EdgeKey, EdgeSeries] = {}
        self.dirty: set[str] = set()
        self.max_span = 0.0  # the longest window span of any call indexed, seconds
        self.epoch_keys: list[int] = []  # sorted trace-id times, with their trace ids in epoch_ids
        self.epoch_ids: list[str] = []

    def attach(self, collection: Any) -> None:
        """Index `collection` (moto's SegmentCollection of the same account and region) from now on."""
        with self.lock:
            if self.collection is collection:
                return
            self._clear()
            self.collection = collection
            collection._sandbox_index = self
            for trace in list(collection._traces.values()):
                for segment in trace["segments"]:
                    self.add(segment)

    def add(self, segment: Any) -> None:
        with self.lock:
            documents = self.segments.setdefault(segment.trace_id, {})
            known = documents.get(segment.id)
            self.arrival[segment.trace_id] = self.arrival.get(segment.trace_id, 0) + 1
            # An SDK sends an in-progress segment first, then the same id completed: keep the completed one.
            if known is not None and _complete(known) and not _complete(segment):
                return
            documents[segment.id] = segment
            self.dirty.add(segment.trace_id)

    def flush(self) -> None:
        """Derive again every trace that received documents since the last flush."""
        with self.lock:
            for trace_id in self.dirty:
                record = derive(
                    trace_id, (document(s) for s in self.segments[trace_id].values()), trace_epoch(trace_id)
                )
                previous = self.records.get(trace_id)
                self._replace_calls(previous.calls if previous else (), record.calls if record else ())
                if record is None:
                    continue
                record.revision = self.arrival[trace_id]
                if previous is None:
                    at = bisect.bisect_right(self.epoch_keys, record.epoch)
                    self.epoch_keys.insert(at, record.epoch)
                    self.epoch_ids.insert(at, trace_id)
                self.records[trace_id] = record
            self.dirty.clear()

    def _replace_calls(self, old: Iterable[Call], new: Iterable[Call]) -> None:
        change = Counter(new)
        change.subtract(Counter(old))
        for call, times in change.items():
            key = (call.caller, call.callee)
            series = self.edges.get(key)
            if times > 0:
                if series is None:
                    series = self.edges[key] = EdgeSeries()
                self.max_span = max(self.max_span, call.end - call.start)
                for _ in range(times):
                    series.add(call)
            elif times < 0 and series is not None:
                for _ in range(-times):
                    series.remove(call)
                if not series:
                    del self.edges[key]

    # --- reads (callers hold no lock; each read flushes first) ---------------

    def window(self, start: float, end: float) -> dict[EdgeKey, Aggregate]:
        with self.lock:
            self.flush()
            found = {}
            for key, series in self.edges.items():
                one = series.window(start, end, self.max_span)
                if one is not None:
                    found[key] = one
            return found

    def traces(self, trace_ids: Iterable[str]) -> list[TraceRecord]:
        with self.lock:
            self.flush()
            return [self.records[t] for t in dict.fromkeys(trace_ids) if t in self.records]

    def traces_between(self, start: float, end: float) -> list[TraceRecord]:
        """Traces whose trace id carries a time within [start, end]."""
        with self.lock:
            self.flush()
            low = bisect.bisect_left(self.epoch_keys, math.ceil(start))
            high = bisect.bisect_right(self.epoch_keys, math.floor(end))
            return [self.records[t] for t in self.epoch_ids[low:high]]

    def all_traces(self) -> list[TraceRecord]:
        with self.lock:
            self.flush()
            return list(self.records.values())

    def documents(self, trace_id: str) -> list[Any]:
        """A trace's segment documents as stored (one per segment id), by start time."""
        with self.lock:
            return sorted(self.segments.get(trace_id, {}).values(), key=lambda s: (s.start_time, s.id))


trace_indexes = BackendDict(TraceIndex, "xray")


def index_for(backend: Any) -> TraceIndex:
    """The index of moto's X-Ray `backend`, attached to its segment collection."""
    index = trace_indexes[backend.account_id][backend.region_name]
    if index.collection is not backend._segment_collection:
        index.attach(backend._segment_collection)
    return index
