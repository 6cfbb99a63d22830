"""GetTraceSummaries: the traces of a time range that match a filter expression, newest first, 100 a page.

Fields as the X-Ray API reference defines them: StartTime is the earliest segment's start;
Duration runs from it to the end of the last segment that completed, ResponseTime is the root
segment's own (the two differ when work goes on after the response); HasFault / HasError are
the root segment's (what the client got back), HasThrottle whether any segment or subsegment
was throttled, IsPartial whether a segment is still in progress. Http comes from the root
segment; Annotations, ServiceIds and Users from all of them. Root-cause analyses
(FaultRootCauses...) are not computed.

TimeRangeType picks the time a trace is found by: TraceId (the default) the time in its id,
Event the end of its latest segment (the trace's last update), Service the end of any of its
segments. Sampling with a FixedRate SamplingStrategy keeps that share of the traces, chosen by
trace id so pages stay consistent; other sampling requests return every trace.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable
from typing import Any

from .index import TraceIndex
from .traces import TraceRecord

PAGE_SIZE = 100
TIME_RANGE_TYPES = ("TraceId", "Event", "Service")


class BadRequest(ValueError):
    """A request X-Ray answers with InvalidRequestException."""


def trace_summaries(
    index: TraceIndex,
    *,
    start: float,
    end: float,
    time_range_type: str,
    matches: Callable[[TraceRecord], bool] | None,
    sampling: bool,
    sampling_strategy: dict[str, Any] | None,
    next_token: str | None,
) -> dict[str, Any]:
    if time_range_type not in TIME_RANGE_TYPES:
        raise BadRequest(f"TimeRangeType must be one of {', '.join(TIME_RANGE_TYPES)}.")
    after = _decode_token(next_token) if next_token else None

    if time_range_type == "TraceId":
        candidates = [(trace, None) for trace in index.traces_between(start, end)]
    elif time_range_type == "Event":
        candidates = [(t, t.update_time) for t in index.all_traces() if start <= t.update_time <= end]
    else:
        candidates = []
        for trace in index.all_traces():
            inside = [e for e in trace.segment_ends if start <= e <= end]
            if inside:
                candidates.append((trace, max(inside)))
    if sampling:
        rate = _fixed_rate(sampling_strategy)
        if rate is not None:
            candidates = [(t, m) for t, m in candidates if _sample_point(t.trace_id) < rate]

    matched = [(t, m) for t, m in candidates if matches is None or matches(t)]
    matched.sort(key=lambda pair: (pair[0].start, pair[0].trace_id), reverse=True)
    if after is not None:
        matched = [(t, m) for t, m in matched if (t.start, t.trace_id) < after]
    page, more = matched[:PAGE_SIZE], len(matched) > PAGE_SIZE

    answer: dict[str, Any] = {
        "TraceSummaries": [summary(trace, matched_event_time=m) for trace, m in page],
        # The time this page reaches back to: its oldest trace, or the range's start on the last page.
        "ApproximateTime": page[-1][0].start if more else start,
        "TracesProcessedCount": len(candidates),
    }
    if more:
        answer["NextToken"] = _encode_token(page[-1][0].start, page[-1][0].trace_id)
    return answer


def summary(trace: TraceRecord, *, matched_event_time: float | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "Id": trace.trace_id,
        "StartTime": trace.start,
        "HasFault": trace.has_fault,
        "HasError": trace.has_error,
        "HasThrottle": trace.has_throttle,
        "IsPartial": trace.partial,
        "Http": _http(trace.http),
        "Annotations": {
            key: [
                {"AnnotationValue": _annotation_value(value), "ServiceIds": [n.service_id() for n in nodes]}
                for value, nodes in values
            ]
            for key, values in trace.annotations.items()
        },
        "Users": [
            {"UserName": user, "ServiceIds": [n.service_id() for n in nodes]} for user, nodes in trace.users.items()
        ],
        "ServiceIds": [node.service_id() for node in sorted(trace.nodes, key=lambda n: (n.name, n.type or ""))],
        "ResourceARNs": [{"ARN": arn} for arn in trace.resource_arns],
        "InstanceIds": [{"Id": instance} for instance in trace.instance_ids],
        "AvailabilityZones": [{"Name": zone} for zone in trace.availability_zones],
        "Revision": trace.revision,
    }
    if trace.duration is not None:
        found["Duration"] = round(trace.duration, 3)
    if trace.response_time is not None:
        found["ResponseTime"] = round(trace.response_time, 3)
    if trace.root is not None:
        found["EntryPoint"] = trace.root.service_id()
    if matched_event_time is not None:
        found["MatchedEventTime"] = matched_event_time
    return found


def _http(http: dict[str, Any]) -> dict[str, Any]:
    request = http.get("request") if isinstance(http.get("request"), dict) else {}
    response = http.get("response") if isinstance(http.get("response"), dict) else {}
    found: dict[str, Any] = {}
    for field, key in (("HttpURL", "url"), ("HttpMethod", "method"), ("UserAgent", "user_agent")):
        if isinstance(request.get(key), str):
            found[field] = request[key]
    if isinstance(request.get("client_ip"), str):
        found["ClientIp"] = request["client_ip"]
    status = response.get("status")
    if isinstance(status, int) and not isinstance(status, bool):
        found["HttpStatus"] = status
    return found


def _annotation_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BooleanValue": value}
    if isinstance(value, int | float):
        return {"NumberValue": value}
    return {"StringValue": str(value)}


def _fixed_rate(strategy: dict[str, Any] | None) -> float | None:
    if not isinstance(strategy, dict) or strategy.get("Name") != "FixedRate":
        return None
    value = strategy.get("Value")
    if not isinstance(value, int | float) or not 0 <= value <= 1:
        raise BadRequest("SamplingStrategy FixedRate Value must be between 0 and 1.")
    return float(value)


def _sample_point(trace_id: str) -> float:
    """Where a trace falls in [0, 1): its id's last 8 hex digits, so sampling is stable across pages."""
    try:
        return int(trace_id[-8:], 16) / 2**32
    except ValueError:
        return zlib.crc32(trace_id.encode()) / 2**32


def _encode_token(start: float, trace_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([start, trace_id]).encode()).decode()


def _decode_token(token: str) -> tuple[float, str]:
    try:
        start, trace_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        return float(start), str(trace_id)
    except (ValueError, TypeError, binascii.Error):
        raise BadRequest("Invalid NextToken.") from None
