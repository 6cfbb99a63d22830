"""X-Ray: service graphs, trace graphs, trace summaries and traces computed from the segments clients put.

moto 5.2.5 stores the segments of PutTraceSegments but answers GetServiceGraph and GetTraceGraph
with no services at all, and GetTraceSummaries with whole-second durations, a response time of
1, a trace marked faulty when any segment merely has a `fault` key (even `false`), no service
ids, annotations or HTTP data, and a 500 for any FilterExpression; BatchGetTraces truncates
durations to whole seconds and returns an in-progress segment and its completed version side by side.

This extension indexes each segment as moto stores it (`sandbox.extensions.xray.index`, kept in a
moto BackendDict so moto's reset clears it) and answers the four read APIs from that index:

- GetServiceGraph(StartTime, EndTime): the nodes and edges of the calls whose segments lie in
  the window, with X-Ray's statistics and histograms (`sandbox.extensions.xray.graph`);
- GetTraceGraph(TraceIds): the same for those traces, whatever their time;
- GetTraceSummaries: summaries computed from the segments, filtered by a parsed FilterExpression
  (`...xray.filters`; a malformed one is an InvalidRequestException naming the problem), newest
  first, 100 a page (`...xray.summaries`);
- BatchGetTraces: each trace's documents as they were put (one per segment id, the completed
  version over an in-progress one), with the trace's duration.

Groups are not emulated: GroupName / GroupARN are accepted and the default group is answered.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.xray.models import SegmentCollection, XRayBackend
from moto.xray.responses import XRayResponse

from sandbox.extensions.xray.filters import FilterError, parse
from sandbox.extensions.xray.graph import services
from sandbox.extensions.xray.index import aggregate, index_for
from sandbox.extensions.xray.summaries import BadRequest, trace_summaries


class InvalidRequestException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("InvalidRequestException", message)


def install() -> None:
    moto_put_segment = SegmentCollection.put_segment

    def put_segment(self: SegmentCollection, segment: Any) -> None:
        moto_put_segment(self, segment)
        index = getattr(self, "_sandbox_index", None)
        if index is not None:
            index.add(segment)

    moto_process_segment = XRayBackend.process_segment

    def process_segment(self: XRayBackend, doc: Any) -> None:
        index_for(self)  # attaches the index to this backend's segment collection
        moto_process_segment(self, doc)

    moto_trace_segments = XRayResponse.trace_segments

    def trace_segments(self: XRayResponse) -> Any:
        answer = moto_trace_segments(self)
        # Derive the batch's traces now, so reads find them ready.
        index_for(self.xray_backend).flush()
        return answer

    SegmentCollection.put_segment = put_segment  # type: ignore[method-assign]
    XRayBackend.process_segment = process_segment  # type: ignore[method-assign]
    XRayResponse.trace_segments = trace_segments  # type: ignore[method-assign]
    XRayResponse.service_graph = _service_graph  # type: ignore[method-assign]
    XRayResponse.trace_graph = _trace_graph  # type: ignore[method-assign]
    XRayResponse.trace_summaries = _trace_summaries  # type: ignore[method-assign]
    XRayResponse.traces = _batch_get_traces  # type: ignore[method-assign]


# --- the read APIs ---------------------------------------------------------------


def _service_graph(self: XRayResponse) -> str:
    params = _params(self)
    start, end = _window(params)
    if params.get("NextToken"):
        raise InvalidRequestException("Invalid NextToken.")  # every graph fits one page; none is ever issued
    edges = index_for(self.xray_backend).window(start, end)
    return json.dumps(
        {
            "Services": services(edges, (start, end)),
            "StartTime": start,
            "EndTime": end,
            "ContainsOldGroupVersions": False,
        }
    )


def _trace_graph(self: XRayResponse) -> str:
    params = _params(self)
    trace_ids = _trace_ids(params)
    if params.get("NextToken"):
        raise InvalidRequestException("Invalid NextToken.")
    records = index_for(self.xray_backend).traces(trace_ids)
    return json.dumps({"Services": services(aggregate(call for r in records for call in r.calls))})


def _trace_summaries(self: XRayResponse) -> str:
    params = _params(self)
    start, end = _window(params)
    expression = params.get("FilterExpression")
    matches = None
    if expression is not None:
        if not isinstance(expression, str):
            raise InvalidRequestException("FilterExpression must be a string.")
        if expression.strip():
            try:
                matches = parse(expression)
            except FilterError as error:
                raise InvalidRequestException(str(error)) from None
    try:
        answer = trace_summaries(
            index_for(self.xray_backend),
            start=start,
            end=end,
            time_range_type=params.get("TimeRangeType") or "TraceId",
            matches=matches,
            sampling=params.get("Sampling") is True,
            sampling_strategy=params.get("SamplingStrategy"),
            next_token=params.get("NextToken"),
        )
    except BadRequest as error:
        raise InvalidRequestException(str(error)) from None
    return json.dumps(answer)


def _batch_get_traces(self: XRayResponse) -> str:
    index = index_for(self.xray_backend)
    traces, unprocessed = [], []
    for trace_id in dict.fromkeys(_trace_ids(_params(self))):
        documents = index.documents(trace_id)
        if not documents:
            unprocessed.append(trace_id)
            continue
        records = index.traces([trace_id])
        duration = records[0].duration if records and records[0].duration is not None else 0.0
        traces.append(
            {
                "Id": trace_id,
                "Duration": round(duration, 3),
                "LimitExceeded": False,
                "Segments": [{"Id": segment.id, "Document": segment.raw} for segment in documents],
            }
        )
    return json.dumps({"Traces": traces, "UnprocessedTraceIds": unprocessed})


# --- request parsing ---------------------------------------------------------------


def _params(response: XRayResponse) -> dict[str, Any]:
    try:
        params = json.loads(response.body or "{}")
    except ValueError:
        raise InvalidRequestException("The request body is not valid JSON.") from None
    if not isinstance(params, dict):
        raise InvalidRequestException("The request body must be a JSON object.")
    return params


def _window(params: dict[str, Any]) -> tuple[float, float]:
    start, end = _timestamp(params, "StartTime"), _timestamp(params, "EndTime")
    if start > end:
        raise InvalidRequestException("StartTime must be before EndTime.")
    return start, end


def _timestamp(params: dict[str, Any], name: str) -> float:
    value = params.get(name)
    if value is None:
        raise InvalidRequestException(f"{name} is required.")
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int | float):
            seconds = float(value)
        else:
            try:
                seconds = float(value)
            except ValueError:
                parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
                seconds = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    except (TypeError, ValueError):
        raise InvalidRequestException(f"{name} is not a timestamp: {value!r}.") from None
    if not math.isfinite(seconds):
        raise InvalidRequestException(f"{name} is not a timestamp: {value!r}.")
    return seconds


def _trace_ids(params: dict[str, Any]) -> list[str]:
    trace_ids = params.get("TraceIds")
    if not isinstance(trace_ids, list) or not all(isinstance(t, str) for t in trace_ids):
        raise InvalidRequestException("TraceIds must be a list of trace ids.")
    return trace_ids
