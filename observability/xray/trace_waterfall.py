"""One trace as a waterfall: its segments and subsegments, nested by parent, as Plotly horizontal bars.

Nesting follows the segment documents: a subsegment sits under its segment (or subsegment); a
segment whose `parent_id` is another segment's subsegment (the callee's side of a remote call)
sits under that subsegment; one whose parent is missing (not sent, or sampled out) is a root.
Siblings are ordered by start time. Bars are coloured by outcome: fault (5xx) red, throttle (429)
amber, error (4xx) orange; otherwise segments blue, calls to remote services light blue, AWS
calls teal, local work grey. A segment still in progress reaches to the trace's end, paler.

The rows also list their HTTP request and response, annotations, AWS details (operation, table,
queue) and the first exception of a fault, for the table under the chart.
"""

from dataclasses import dataclass, replace

from observability.xray.aws import Trace
from observability.xray.formatting import duration_text

MAX_ROWS = 1000  # a trace with more subsegments is cut, and says so
ROW_HEIGHT = 26

FAULT, THROTTLE, ERROR = "#dc3545", "#ffc107", "#fd7e14"
SEGMENT, REMOTE, AWS, LOCAL = "#0d6efd", "#6ea8fe", "#20c997", "#6c757d"


@dataclass(frozen=True)
class Span:
    id: str
    name: str
    kind: str  # segment or subsegment
    namespace: str  # "" for segments; remote, aws or "" (local work) for subsegments
    origin: str
    depth: int
    start: float  # epoch seconds
    end: float | None  # None while in progress
    fault: bool
    error: bool
    throttle: bool
    http: tuple[tuple[str, str], ...]  # ("method", "GET"), ("url", ...), ("status", "200")...
    annotations: tuple[tuple[str, str], ...]
    aws: tuple[tuple[str, str], ...]
    exception: str
    offset: float = 0.0  # seconds since the trace started
    duration: float | None = None

    @property
    def in_progress(self) -> bool:
        return self.end is None

    @property
    def outcome(self) -> str:
        if self.fault:
            return "fault"
        if self.throttle:
            return "throttle"
        if self.error:
            return "error"
        return "ok"

    @property
    def colour(self) -> str:
        if self.fault:
            return FAULT
        if self.throttle:
            return THROTTLE
        if self.error:
            return ERROR
        if self.kind == "segment":
            return SEGMENT
        return {"remote": REMOTE, "aws": AWS}.get(self.namespace, LOCAL)

    @property
    def offset_text(self) -> str:
        return duration_text(self.offset)

    @property
    def duration_text(self) -> str:
        return "in progress" if self.in_progress else duration_text(self.duration)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.namespace or 'local'})" if self.kind == "subsegment" else self.name


@dataclass(frozen=True)
class Waterfall:
    trace_id: str
    spans: list[Span]
    start: float | None
    duration: float | None  # seconds, first start to last end
    truncated: bool

    @property
    def faults(self) -> int:
        return sum(1 for span in self.spans if span.fault)


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _pairs(mapping, keys=None) -> tuple[tuple[str, str], ...]:
    if not isinstance(mapping, dict):
        return ()
    items = [(k, mapping[k]) for k in keys if k in mapping] if keys else sorted(mapping.items())
    return tuple((str(k), v if isinstance(v, str) else _text(v)) for k, v in items if not isinstance(v, dict | list))


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _http(document: dict) -> tuple[tuple[str, str], ...]:
    http = document.get("http") if isinstance(document.get("http"), dict) else {}
    request = http.get("request") if isinstance(http.get("request"), dict) else {}
    response = http.get("response") if isinstance(http.get("response"), dict) else {}
    found = list(_pairs(request, ("method", "url", "client_ip", "user_agent")))
    found += [(f"response {k}", v) for k, v in _pairs(response, ("status", "content_length"))]
    return tuple(found)


def _exception(document: dict) -> str:
    cause = document.get("cause")
    if not isinstance(cause, dict):
        return ""
    for exception in cause.get("exceptions") or []:
        if isinstance(exception, dict) and exception.get("message"):
            kind = exception.get("type") or ""
            return f"{kind}: {exception['message']}" if kind else str(exception["message"])
    return ""


def _span(document: dict, *, kind: str, depth: int) -> Span | None:
    start = _number(document.get("start_time"))
    if start is None or not document.get("id"):
        return None
    end = None if document.get("in_progress") else _number(document.get("end_time"))
    return Span(
        id=str(document["id"]),
        name=str(document.get("name") or "?"),
        kind=kind,
        namespace=str(document.get("namespace") or "") if kind == "subsegment" else "",
        origin=str(document.get("origin") or ""),
        depth=depth,
        start=start,
        end=end,
        fault=document.get("fault") is True,
        error=document.get("error") is True,
        throttle=document.get("throttle") is True,
        http=_http(document),
        annotations=_pairs(document.get("annotations")),
        aws=_pairs(document.get("aws")),
        exception=_exception(document),
    )


def waterfall(trace: Trace) -> Waterfall:
    segments = [s for s in trace.segments if isinstance(s, dict) and s.get("id")]
    known: set[str] = set()

    def collect(document: dict):
        known.add(str(document.get("id")))
        for sub in document.get("subsegments") or []:
            if isinstance(sub, dict) and sub.get("id"):
                collect(sub)

    for segment in segments:
        collect(segment)
    # Segments hang under the (sub)segment named by their parent_id, when it is in the trace.
    callees: dict[str, list[dict]] = {}
    roots = []
    for segment in segments:
        parent = segment.get("parent_id")
        if parent and str(parent) in known and str(parent) != str(segment["id"]):
            callees.setdefault(str(parent), []).append(segment)
        else:
            roots.append(segment)

    spans: list[Span] = []
    truncated = False

    def order(documents):
        return sorted(documents, key=lambda d: (_number(d.get("start_time")) or 0.0, str(d.get("id"))))

    # Depth first, without recursion: a deep trace must not hit Python's recursion limit.
    stack = [(document, "segment", 0) for document in reversed(order(roots))]
    visited: set[str] = set()
    while stack:
        document, kind, depth = stack.pop()
        identity = str(document.get("id"))
        if identity in visited:
            continue  # a malformed trace naming itself as an ancestor
        visited.add(identity)
        span = _span(document, kind=kind, depth=depth)
        if span is None:
            continue
        if len(spans) >= MAX_ROWS:
            truncated = True
            break
        spans.append(span)
        children = [(sub, "subsegment") for sub in document.get("subsegments") or [] if isinstance(sub, dict)]
        children += [(callee, "segment") for callee in callees.get(identity, [])]
        children.sort(key=lambda c: (_number(c[0].get("start_time")) or 0.0, str(c[0].get("id"))))
        stack.extend((child, child_kind, depth + 1) for child, child_kind in reversed(children))

    if not spans:
        return Waterfall(trace.id, [], None, trace.duration, False)
    begin = min(span.start for span in spans)
    ends = [span.end for span in spans if span.end is not None]
    finish = max(ends) if ends else begin
    placed = [
        replace(span, offset=span.start - begin, duration=None if span.end is None else span.end - span.start)
        for span in spans
    ]
    return Waterfall(trace.id, placed, begin, finish - begin, truncated)


def _hover(span: Span) -> str:
    lines = [f"<b>{span.label}</b>", f"starts at {duration_text(span.offset)}, takes {duration_text(span.duration)}"]
    if span.in_progress:
        lines[-1] = f"starts at {duration_text(span.offset)}, still in progress"
    if span.outcome != "ok":
        lines.append(span.outcome)
    lines += [f"{k}: {v}" for k, v in span.http + span.aws + span.annotations]
    if span.exception:
        lines.append(span.exception)
    return "<br>".join(lines)


def waterfall_figure(fall: Waterfall) -> dict:
    """Horizontal bars, one row per span, in milliseconds since the trace started; first row on top."""
    if not fall.spans:
        return {"data": [], "layout": {}}
    total_ms = (fall.duration or 0) * 1000
    rows = range(len(fall.spans))
    bars = {
        "type": "bar",
        "orientation": "h",
        "y": list(rows),
        "base": [round(span.offset * 1000, 3) for span in fall.spans],
        "x": [
            round((span.duration if span.duration is not None else (fall.duration or 0) - span.offset) * 1000, 3)
            or 0.01  # a zero-length span still shows as a sliver
            for span in fall.spans
        ],
        "marker": {
            "color": [span.colour for span in fall.spans],
            "opacity": [0.45 if span.in_progress else 1.0 for span in fall.spans],
        },
        "hovertext": [_hover(span) for span in fall.spans],
        "hoverinfo": "text",
        "showlegend": False,
        "name": "spans",
    }
    labels = ["\u00a0\u00a0" * span.depth + span.label for span in fall.spans]
    return {
        "data": [bars],
        "layout": {
            "barmode": "overlay",
            "bargap": 0.25,
            "xaxis": {"title": {"text": "ms since the trace started"}, "range": [0, max(total_ms, 1) * 1.02]},
            "yaxis": {
                "tickmode": "array",
                "tickvals": list(rows),
                "ticktext": labels,
                "autorange": "reversed",
                "automargin": True,
            },
            "margin": {"l": 10, "r": 20, "t": 10, "b": 40},
            "hovermode": "closest",
            "plot_bgcolor": "#ffffff",
            "paper_bgcolor": "#ffffff",
            "height": max(200, ROW_HEIGHT * len(fall.spans) + 70),
        },
    }
