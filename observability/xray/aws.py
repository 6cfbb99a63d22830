"""The X-Ray gateway: GetServiceGraph, GetTraceSummaries and BatchGetTraces, for one account and region.

Only gateway modules touch AWS clients (portal.aws.clients.client): the service map, trace list and
trace page call these functions and get plain dataclasses back, or a portal.aws.errors.AwsError.

- GetServiceGraph is paged (NextToken): every page of the window is read and the services of all
  pages form one graph, since an edge may name a service of another page by its ReferenceId.
- GetTraceSummaries is read one page at a time: the trace list shows one X-Ray page per portal
  page and hands X-Ray's NextToken on in its "older" link, so a list never reads more than it shows.
- BatchGetTraces takes at most 5 trace ids a call (the API's limit) and is paged too.
- An InvalidRequestException (a malformed filter expression, a bad time range) is the person's
  input, not an AWS fault: it is raised as XrayInvalidRequest carrying X-Ray's own message, so
  the trace list can show it as a form error.

Histogram values are seconds, as X-Ray sends them. Pages pass `timeouts=page_timeouts()` (short, no
retry); the default is the client factory's.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from portal.aws.clients import Timeouts, client
from portal.aws.errors import AwsError, account_label, aws_errors

SERVICE = "xray"
BATCH_GET_TRACES_MAX_IDS = 5
# A GetServiceGraph answer is one page for almost any estate; the cap only stops a runaway pager.
MAX_GRAPH_PAGES = 50


class XrayInvalidRequest(AwsError):
    """X-Ray refused the request as malformed (InvalidRequestException); `aws_message` is what it said."""

    code = "invalid_request"

    def __init__(self, message: str, *, aws_message: str, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.aws_message = aws_message


@dataclass(frozen=True)
class Calls:
    """Calls answered by a service or made over an edge: X-Ray's SummaryStatistics and response-time histogram."""

    total: int
    ok: int
    errors: int  # 4xx other than 429 (ErrorStatistics.OtherCount)
    throttles: int  # 429 (ErrorStatistics.ThrottleCount)
    faults: int  # 5xx (FaultStatistics.TotalCount)
    response_time: float  # seconds, summed over the calls (TotalResponseTime)
    histogram: tuple[tuple[float, int], ...]  # (seconds, calls), by seconds


@dataclass(frozen=True)
class GraphService:
    reference_id: int
    name: str
    type: str  # e.g. AWS::ECS::Container, AWS::DynamoDB::Table, remote, client ("" when X-Ray gives none)
    state: str  # active (instrumented) or unknown (inferred, or a client)
    root: bool
    account_id: str
    calls: Calls | None  # None for clients and for services that only called others


@dataclass(frozen=True)
class GraphEdge:
    source: int  # ReferenceIds
    target: int
    calls: Calls


@dataclass(frozen=True)
class ServiceGraph:
    services: tuple[GraphService, ...]
    edges: tuple[GraphEdge, ...]
    start: datetime
    end: datetime
    pages: int


@dataclass(frozen=True)
class TraceSummary:
    id: str
    start: datetime | None
    duration: float | None  # seconds; None while the trace is in progress
    response_time: float | None
    has_fault: bool
    has_error: bool
    has_throttle: bool
    is_partial: bool
    http_method: str
    http_url: str
    http_status: int | None
    entry_point: str  # the service the request entered by
    services: tuple[str, ...]
    annotations: tuple[tuple[str, tuple[str, ...]], ...]  # (key, values as text)
    users: tuple[str, ...]


@dataclass(frozen=True)
class SummaryPage:
    summaries: tuple[TraceSummary, ...]
    next_token: str
    approximate_time: datetime | None
    processed: int


@dataclass(frozen=True)
class Trace:
    id: str
    duration: float | None
    segments: tuple[dict, ...]  # the segment documents as the services put them (parsed JSON)


def _calls(statistics: dict | None, histogram: list | None) -> Calls | None:
    if not statistics:
        return None
    errors = statistics.get("ErrorStatistics") or {}
    faults = statistics.get("FaultStatistics") or {}
    return Calls(
        total=int(statistics.get("TotalCount") or 0),
        ok=int(statistics.get("OkCount") or 0),
        errors=int(errors.get("OtherCount") or 0),
        throttles=int(errors.get("ThrottleCount") or 0),
        faults=int(faults.get("TotalCount") or 0),
        response_time=float(statistics.get("TotalResponseTime") or 0.0),
        histogram=tuple(
            sorted((float(b["Value"]), int(b["Count"])) for b in histogram or () if b.get("Count") is not None)
        ),
    )


def _raise_if_invalid(error: ClientError, *, account, operation: str) -> None:
    """Raise XrayInvalidRequest for an InvalidRequestException; anything else goes on to aws_errors."""
    details = error.response.get("Error", {})
    if details.get("Code") != "InvalidRequestException":
        return
    message = details.get("Message") or "X-Ray refused the request."
    raise XrayInvalidRequest(
        f"X-Ray refused {operation} in account {account_label(account)}: {message}",
        aws_message=message,
        account=account_label(account),
        service=SERVICE,
        operation=operation,
        aws_code="InvalidRequestException",
    ) from error


def service_graph(
    account, region: str, *, start: datetime, end: datetime, timeouts: Timeouts | None = None
) -> ServiceGraph:
    """The service graph of [start, end) in one account and region, every page of it."""
    services: list[GraphService] = []
    edges: list[GraphEdge] = []
    params: dict[str, Any] = {"StartTime": start, "EndTime": end}
    pages = 0
    with aws_errors(account=account, service=SERVICE):
        xray = client(SERVICE, account=account, region=region, timeouts=timeouts)
        while True:
            try:
                answer = xray.get_service_graph(**params)
            except ClientError as error:
                _raise_if_invalid(error, account=account, operation="GetServiceGraph")
                raise
            pages += 1
            for found in answer.get("Services", []):
                reference = int(found["ReferenceId"])
                services.append(
                    GraphService(
                        reference_id=reference,
                        name=found.get("Name") or "",
                        type=found.get("Type") or "",
                        state=found.get("State") or "",
                        root=bool(found.get("Root", False)),  # left out, not false, on non-root services
                        account_id=found.get("AccountId") or account.account_id,
                        calls=_calls(found.get("SummaryStatistics"), found.get("ResponseTimeHistogram")),
                    )
                )
                for edge in found.get("Edges", []):
                    calls = _calls(edge.get("SummaryStatistics"), edge.get("ResponseTimeHistogram"))
                    if calls is not None:
                        edges.append(GraphEdge(source=reference, target=int(edge["ReferenceId"]), calls=calls))
            token = answer.get("NextToken")
            if not token or pages >= MAX_GRAPH_PAGES:
                break
            params["NextToken"] = token
    return ServiceGraph(services=tuple(services), edges=tuple(edges), start=start, end=end, pages=pages)


def _annotation_text(value: dict) -> str:
    if "StringValue" in value:
        return str(value["StringValue"])
    if "NumberValue" in value:
        return f"{value['NumberValue']:g}"
    if "BooleanValue" in value:
        return "true" if value["BooleanValue"] else "false"
    return ""


def _summary(found: dict) -> TraceSummary:
    http = found.get("Http") or {}
    status = http.get("HttpStatus")
    return TraceSummary(
        id=found["Id"],
        start=found.get("StartTime"),
        duration=found.get("Duration"),
        response_time=found.get("ResponseTime"),
        has_fault=bool(found.get("HasFault")),
        has_error=bool(found.get("HasError")),
        has_throttle=bool(found.get("HasThrottle")),
        is_partial=bool(found.get("IsPartial")),
        http_method=http.get("HttpMethod") or "",
        http_url=http.get("HttpURL") or "",
        http_status=int(status) if status is not None else None,
        entry_point=(found.get("EntryPoint") or {}).get("Name") or "",
        services=tuple(dict.fromkeys(s.get("Name") or "" for s in found.get("ServiceIds") or [])),
        annotations=tuple(
            (key, tuple(_annotation_text(v.get("AnnotationValue") or {}) for v in values))
            for key, values in sorted((found.get("Annotations") or {}).items())
        ),
        users=tuple(u.get("UserName") or "" for u in found.get("Users") or []),
    )


def trace_summaries(
    account,
    region: str,
    *,
    start: datetime,
    end: datetime,
    filter_expression: str = "",
    next_token: str = "",
    timeouts: Timeouts | None = None,
) -> SummaryPage:
    """One page of the trace summaries of [start, end) matching `filter_expression` (X-Ray's own language).

    Raises XrayInvalidRequest, with X-Ray's message, for an expression (or token) X-Ray refuses.
    """
    params: dict[str, Any] = {"StartTime": start, "EndTime": end}
    if filter_expression:
        params["FilterExpression"] = filter_expression
    if next_token:
        params["NextToken"] = next_token
    with aws_errors(account=account, service=SERVICE):
        xray = client(SERVICE, account=account, region=region, timeouts=timeouts)
        try:
            answer = xray.get_trace_summaries(**params)
        except ClientError as error:
            _raise_if_invalid(error, account=account, operation="GetTraceSummaries")
            raise
    return SummaryPage(
        summaries=tuple(_summary(s) for s in answer.get("TraceSummaries", [])),
        next_token=answer.get("NextToken") or "",
        approximate_time=answer.get("ApproximateTime"),
        processed=int(answer.get("TracesProcessedCount") or 0),
    )


def batch_get_traces(
    account, region: str, trace_ids: Iterable[str], *, timeouts: Timeouts | None = None
) -> list[Trace]:
    """The traces of these ids that X-Ray has (unknown ids are left out), with their segment documents."""
    wanted = list(dict.fromkeys(trace_ids))
    traces: list[Trace] = []
    with aws_errors(account=account, service=SERVICE):
        xray = client(SERVICE, account=account, region=region, timeouts=timeouts)
        for begin in range(0, len(wanted), BATCH_GET_TRACES_MAX_IDS):
            params: dict[str, Any] = {"TraceIds": wanted[begin : begin + BATCH_GET_TRACES_MAX_IDS]}
            while True:
                try:
                    answer = xray.batch_get_traces(**params)
                except ClientError as error:
                    _raise_if_invalid(error, account=account, operation="BatchGetTraces")
                    raise
                for found in answer.get("Traces", []):
                    segments = []
                    for segment in found.get("Segments", []):
                        try:
                            segments.append(json.loads(segment.get("Document") or "{}"))
                        except ValueError:
                            continue  # a document X-Ray accepted but we cannot read: show the rest
                    traces.append(Trace(id=found["Id"], duration=found.get("Duration"), segments=tuple(segments)))
                token = answer.get("NextToken")
                if not token:
                    break
                params["NextToken"] = token
    # Pages of one trace arrive as separate entries: join them.
    joined: dict[str, Trace] = {}
    for trace in traces:
        if trace.id in joined:
            before = joined[trace.id]
            trace = Trace(id=trace.id, duration=before.duration, segments=before.segments + trace.segments)
        joined[trace.id] = trace
    return list(joined.values())
