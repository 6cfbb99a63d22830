"""GetServiceGraph / GetTraceGraph documents from the calls of each edge.

The shape follows X-Ray's own answers (the GetServiceGraph example of the X-Ray developer guide):

- one service per node: instrumented services are `active`, with `Root: true` when clients called
  them; nodes X-Ray inferred (AWS resources, un-instrumented remote services) and clients are
  `unknown`; `Root` is left out rather than false, and `Type` when the segment had no origin;
- a `client` node (named after the service it called) in front of each root service, with one
  edge and no statistics of its own;
- a service's SummaryStatistics and histograms are those of the calls it answered (all its
  incoming edges); an edge's are those of its calls; DurationHistogram equals
  ResponseTimeHistogram, as in X-Ray's examples, because each call is one segment;
- StartTime/EndTime of a service or edge: its first call's start and last call's end, in whole
  seconds (outward), within the requested window; ReferenceIds number the services sorted by name.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from .index import Aggregate, EdgeKey
from .traces import ERROR, FAULT, OK, THROTTLE, Node

Window = tuple[float, float] | None


def services(edges: dict[EdgeKey, Aggregate], window: Window = None) -> list[dict[str, Any]]:
    answered: dict[Node, Aggregate] = {}  # node -> all the calls it answered
    outgoing: dict[Node, dict[Node, Aggregate]] = {}
    clients: dict[Node, Aggregate] = {}  # root node -> its clients' calls
    for (caller, callee), calls in edges.items():
        if callee in answered:
            answered[callee].merge(calls)
        else:
            answered[callee] = calls.copy()
        if caller is None:
            clients[callee] = calls
        else:
            outgoing.setdefault(caller, {})[callee] = calls

    nodes = set(answered) | set(outgoing)
    order: list[tuple[tuple[str, int, str], Any]] = [((n.name, 1, n.type or ""), n) for n in nodes]
    order += [((root.name, 0, "client"), ("client", root)) for root in clients]
    order.sort(key=lambda entry: entry[0])
    reference = {key: number for number, (_, key) in enumerate(order)}

    found = []
    for _, key in order:
        if isinstance(key, tuple) and key and key[0] == "client":
            root = key[1]
            calls = clients[root]
            found.append(
                {
                    "ReferenceId": reference[key],
                    "Name": root.name,
                    "Names": [root.name],
                    "Type": "client",
                    "State": "unknown",
                    **_times(calls, window),
                    "Edges": [_edge(reference[root], calls, window)],
                }
            )
            continue
        node: Node = key
        calls = answered.get(node)
        if calls is None:  # it only called others in this window
            calls = Aggregate(Counter(), 0.0, math.inf, -math.inf)
            for one in outgoing[node].values():
                calls.merge(one)
            calls.counts = Counter()
            calls.total = 0.0
        service: dict[str, Any] = {"ReferenceId": reference[key], "Name": node.name, "Names": [node.name]}
        if node in clients:
            service["Root"] = True
        if node.type:
            service["Type"] = node.type
        service["State"] = "unknown" if node.inferred else "active"
        service.update(_times(calls, window))
        service["Edges"] = sorted(
            (_edge(reference[callee], one, window) for callee, one in outgoing.get(node, {}).items()),
            key=lambda edge: edge["ReferenceId"],
        )
        statistics, histogram = _statistics(calls)
        service["SummaryStatistics"] = statistics
        service["DurationHistogram"] = histogram
        service["ResponseTimeHistogram"] = [dict(bucket) for bucket in histogram]
        found.append(service)
    return found


def _edge(reference_id: int, calls: Aggregate, window: Window) -> dict[str, Any]:
    statistics, histogram = _statistics(calls)
    return {
        "ReferenceId": reference_id,
        **_times(calls, window),
        "SummaryStatistics": statistics,
        "ResponseTimeHistogram": histogram,
        "Aliases": [],
    }


def _statistics(calls: Aggregate) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    by_status = Counter()
    histogram: Counter[int] = Counter()
    for code, count in calls.counts.items():
        by_status[code & 3] += count
        histogram[code >> 2] += count
    statistics = {
        "OkCount": by_status[OK],
        "ErrorStatistics": {
            "ThrottleCount": by_status[THROTTLE],
            "OtherCount": by_status[ERROR],
            "TotalCount": by_status[THROTTLE] + by_status[ERROR],
        },
        "FaultStatistics": {"OtherCount": by_status[FAULT], "TotalCount": by_status[FAULT]},
        "TotalCount": sum(by_status.values()),
        "TotalResponseTime": round(calls.total, 3),
    }
    return statistics, [{"Value": ms / 1000, "Count": count} for ms, count in sorted(histogram.items())]


def _times(calls: Aggregate, window: Window) -> dict[str, float]:
    start, end = float(math.floor(calls.first)), float(math.ceil(calls.last))
    if window is not None:
        start, end = max(start, window[0]), min(end, window[1])
    return {"StartTime": start, "EndTime": end}
