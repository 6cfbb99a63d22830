"""Put metric data and trace segments into the sandbox, batched to the APIs' limits.

PutMetricData takes one namespace and at most 1,000 metric data a call (and 1 MB, which a
conservative size estimate keeps far from); PutTraceSegments at most 50 documents a call here
(each under X-Ray's 64 kB). Calls go to the account and region each datum or segment belongs to,
through sandbox.clients (the payments account by AssumeRole).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sandbox.clients import EstateClients
from sandbox.traffic.metrics import Batch
from sandbox.traffic.model import Place
from sandbox.traffic.traces import Trace

MAX_METRIC_DATA = 1000
MAX_METRIC_BYTES = 900_000
MAX_SEGMENTS = 50


@dataclass
class Emitted:
    metric_data: int = 0
    metric_calls: int = 0
    segments: int = 0
    segment_calls: int = 0

    def __iadd__(self, other: Emitted) -> Emitted:
        self.metric_data += other.metric_data
        self.metric_calls += other.metric_calls
        self.segments += other.segments
        self.segment_calls += other.segment_calls
        return self


def _estimated_bytes(datum: dict[str, Any]) -> int:
    """An upper bound of a datum's size on the wire, cheaper than encoding it."""
    return 300 + 40 * len(datum.get("Values", ())) + sum(len(d["Value"]) + 40 for d in datum["Dimensions"])


def metric_chunks(data: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    size = 0
    for datum in data:
        datum_size = _estimated_bytes(datum)
        if chunk and (len(chunk) == MAX_METRIC_DATA or size + datum_size > MAX_METRIC_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(datum)
        size += datum_size
    if chunk:
        yield chunk


class Emitter:
    def __init__(self, clients: EstateClients):
        self.clients = clients

    def put_metrics(self, batches: list[Batch]) -> Emitted:
        emitted = Emitted()
        merged: dict[tuple[Place, str], list[dict[str, Any]]] = defaultdict(list)
        for batch in batches:
            merged[(batch.place, batch.namespace)].extend(batch.data)
        for (place, namespace), data in merged.items():
            cloudwatch = self.clients.client(place.account, place.region, "cloudwatch")
            for chunk in metric_chunks(data):
                cloudwatch.put_metric_data(Namespace=namespace, MetricData=chunk)
                emitted.metric_calls += 1
                emitted.metric_data += len(chunk)
        return emitted

    def put_traces(self, traces: list[Trace]) -> Emitted:
        emitted = Emitted()
        by_place: dict[Place, list[str]] = defaultdict(list)
        for trace in traces:
            for place, segment in trace.segments:
                by_place[place].append(json.dumps(segment, separators=(",", ":")))
        for place, documents in by_place.items():
            xray = self.clients.client(place.account, place.region, "xray")
            for first in range(0, len(documents), MAX_SEGMENTS):
                chunk = documents[first : first + MAX_SEGMENTS]
                unprocessed = xray.put_trace_segments(TraceSegmentDocuments=chunk).get("UnprocessedTraceSegments")
                if unprocessed:
                    raise RuntimeError(f"X-Ray refused {len(unprocessed)} segments: {unprocessed[0]}")
                emitted.segment_calls += 1
                emitted.segments += len(chunk)
        return emitted
