"""What one trace is made of: its service nodes, the calls between them, and the facts its summary reports.

A trace arrives as segment documents, one per instrumented service, in any order and in several
PutTraceSegments calls. Everything here is derived again from all of a trace's documents whenever
one more arrives, because a document changes what the others mean: until the callee's segment
arrives, a caller's `remote` subsegment is a call to an inferred node; afterwards it is the edge
to the callee's own node.

How calls are read (the X-Ray segment document format, and the sandbox's observability contract):

- Each segment is a node `(name, origin)`; a segment without `origin` is a node without a Type.
- A segment whose `parent_id` is the id of another segment's subsegment (or of that segment
  itself) was called by that segment's node. A segment without a parent, or whose parent never
  arrived, was called by a client: X-Ray draws a `client` node in front of it and marks it Root.
- A subsegment with `namespace: aws` or `remote` is a call. When no segment names it as its
  parent, the callee was not instrumented and X-Ray infers a node for it: an AWS resource
  (`AWS::DynamoDB::Table` named after `aws.table_name`, ...) or, for `remote`, a `remote` node
  named after the subsegment.
- Every call carries the status of the entity that answered it (the callee's segment, or the
  inferred call's subsegment): fault (5xx) before throttle (429) before error (4xx) before ok,
  and its response time (end - start) in seconds.
- For time windows a call counts with the segment that made it visible: a callee's segment for
  an edge between segments, the caller's segment for an inferred call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

OK, ERROR, THROTTLE, FAULT = 0, 1, 2, 3
CALL_NAMESPACES = ("aws", "remote")


class Node(NamedTuple):
    name: str
    type: str | None
    inferred: bool = False

    def service_id(self) -> dict[str, Any]:
        """The node as X-Ray's ServiceId structure (Type left out when the segment had no origin)."""
        found: dict[str, Any] = {"Name": self.name, "Names": [self.name]}
        if self.type:
            found["Type"] = self.type
        return found


class Call(NamedTuple):
    caller: Node | None  # None: a client outside the traced estate
    callee: Node
    start: float  # the window time of the call: the segment that made it visible
    end: float
    status: int
    value: float  # response time, seconds


def document(segment: Any) -> dict[str, Any]:
    """A moto TraceSegment as the segment document it was put as (moto splits it into attributes)."""
    found = dict(segment.misc)
    found.update(
        id=segment.id,
        name=segment.name,
        start_time=segment.start_time,
        end_time=segment.end_time,
        in_progress=segment.in_progress,
        parent_id=segment.parent_id,
        origin=segment.origin,
        http=segment.http,
        aws=segment.aws,
        annotations=segment.annotations,
        subsegments=segment.subsegments,
        user=segment.user,
    )
    return found


def is_complete(entity: dict[str, Any]) -> bool:
    return _number(entity.get("end_time")) is not None and entity.get("in_progress") not in (True, "true")


def status_of(entity: dict[str, Any]) -> int:
    if entity.get("fault") is True:
        return FAULT
    if entity.get("throttle") is True:
        return THROTTLE
    if entity.get("error") is True:
        return ERROR
    return OK


def inferred_node(call: dict[str, Any]) -> Node:
    """The node X-Ray infers for a call nobody answered with a segment of their own."""
    name = str(call.get("name") or "")
    if call.get("namespace") == "remote":
        return Node(name, "remote", True)
    aws = call.get("aws") if isinstance(call.get("aws"), dict) else {}
    if name == "DynamoDB" and aws.get("table_name"):
        return Node(str(aws["table_name"]), "AWS::DynamoDB::Table", True)
    if name == "SQS" and aws.get("queue_url"):
        return Node(str(aws["queue_url"]).rstrip("/").rsplit("/", 1)[-1], "AWS::SQS::Queue", True)
    if name == "S3" and aws.get("bucket_name"):
        return Node(str(aws["bucket_name"]), "AWS::S3::Bucket", True)
    if name == "SNS" and aws.get("topic_arn"):
        return Node(str(aws["topic_arn"]), "AWS::SNS", True)
    if name == "Lambda" and aws.get("function_name"):
        return Node(str(aws["function_name"]), "AWS::Lambda", True)
    return Node(name, f"AWS::{name}", True)


class TraceRecord:
    """The facts of one trace that graphs, summaries and filters read."""

    __slots__ = (
        "annotations",
        "availability_zones",
        "calls",
        "duration",
        "epoch",
        "has_error",
        "has_fault",
        "has_throttle",
        "http",
        "instance_ids",
        "nodes",
        "partial",
        "resource_arns",
        "response_time",
        "revision",
        "root",
        "root_status",
        "segment_ends",
        "start",
        "trace_id",
        "update_time",
        "users",
    )

    def __init__(self, trace_id: str, epoch: int):
        self.trace_id = trace_id
        self.epoch = epoch
        self.start = float(epoch)
        self.update_time = float(epoch)
        self.duration: float | None = None
        self.response_time: float | None = None
        self.root: Node | None = None
        self.root_status = OK
        self.has_fault = self.has_error = self.has_throttle = self.partial = False
        self.http: dict[str, Any] = {}
        # annotation key -> [(value, nodes that recorded it)]
        self.annotations: dict[str, list[tuple[Any, list[Node]]]] = {}
        self.nodes: tuple[Node, ...] = ()
        self.calls: tuple[Call, ...] = ()
        self.users: dict[str, list[Node]] = {}
        self.resource_arns: list[str] = []
        self.instance_ids: list[str] = []
        self.availability_zones: list[str] = []
        self.revision = 0
        self.segment_ends: tuple[float, ...] = ()


def trace_epoch(trace_id: str) -> int | None:
    """The request's start, in epoch seconds, that X-Ray trace ids carry: 1-<8 hex digits>-<24 hex digits>."""
    parts = trace_id.split("-")
    if len(parts) == 3 and len(parts[1]) == 8:
        try:
            return int(parts[1], 16)
        except ValueError:
            return None
    return None


class _Walk:
    """One pass over a trace's documents: who owns which entity id, and which subsegments are calls."""

    def __init__(self) -> None:
        self.owner: dict[str, dict[str, Any]] = {}  # entity id -> the segment document it belongs to
        self.call_of: dict[str, dict[str, Any]] = {}  # entity id inside a call -> that call subsegment
        self.calls: dict[str, list[dict[str, Any]]] = {}  # segment id -> its call subsegments
        self.throttled = False
        self.annotated: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (annotations, owning segment)

    def segment(self, segment: dict[str, Any]) -> None:
        self.owner[segment["id"]] = segment
        self.calls.setdefault(segment["id"], [])
        self._entity(segment, segment)
        self.subsegments(segment.get("subsegments"), segment, None)

    def subsegments(self, subsegments: Any, segment: dict[str, Any], call: dict[str, Any] | None) -> None:
        for sub in subsegments if isinstance(subsegments, list) else ():
            if not isinstance(sub, dict):
                continue
            inner_call = call
            if call is None and sub.get("namespace") in CALL_NAMESPACES:
                inner_call = sub
                self.calls[segment["id"]].append(sub)
            if sub.get("id"):
                self.owner[str(sub["id"])] = segment
                if inner_call is not None:
                    self.call_of[str(sub["id"])] = inner_call
            self._entity(sub, segment)
            self.subsegments(sub.get("subsegments"), segment, inner_call)

    def _entity(self, entity: dict[str, Any], segment: dict[str, Any]) -> None:
        if entity.get("throttle") is True:
            self.throttled = True
        if isinstance(entity.get("annotations"), dict) and entity["annotations"]:
            self.annotated.append((entity["annotations"], segment))


def derive(trace_id: str, documents: Iterable[dict[str, Any]], epoch: int | None = None) -> TraceRecord | None:
    """The trace made of `documents` (segments and independent subsegments), or None before any segment."""
    documents = list(documents)
    segments = sorted(
        (d for d in documents if d.get("type") != "subsegment" and _number(d.get("start_time")) is not None),
        key=lambda d: (_number(d["start_time"]), str(d["id"])),
    )
    if not segments:
        return None
    walk = _Walk()
    for segment in segments:
        walk.segment(segment)
    _attach_independent_subsegments(walk, [d for d in documents if d.get("type") == "subsegment"])

    node_of = {id(s): Node(str(s.get("name") or ""), s.get("origin") or None) for s in segments}
    answered: set[int] = set()  # id() of call subsegments a callee segment answered
    calls: list[Call] = []
    complete = [s for s in segments if is_complete(s)]
    for segment in segments:
        # A callee still in progress has answered its caller's call too: it is no inferred node.
        caller = _caller_of(segment, walk, node_of, answered)
        if is_complete(segment):
            start, end = float(segment["start_time"]), float(segment["end_time"])
            calls.append(Call(caller, node_of[id(segment)], start, end, status_of(segment), max(0.0, end - start)))
    for segment in complete:
        start, end = float(segment["start_time"]), float(segment["end_time"])
        for call in walk.calls[segment["id"]]:
            if id(call) in answered or not is_complete(call) or _number(call.get("start_time")) is None:
                continue
            value = max(0.0, float(call["end_time"]) - float(call["start_time"]))
            calls.append(Call(node_of[id(segment)], inferred_node(call), start, end, status_of(call), value))

    record = TraceRecord(trace_id, epoch if epoch is not None else int(float(segments[0]["start_time"])))
    root = _root(segments, walk)
    record.root = node_of[id(root)]
    record.root_status = status_of(root)
    record.has_fault = root.get("fault") is True
    record.has_error = root.get("error") is True or root.get("throttle") is True
    record.has_throttle = walk.throttled
    record.partial = len(complete) < len(segments)
    record.start = min(float(s["start_time"]) for s in segments)
    ends = [float(s["end_time"]) for s in complete]
    record.segment_ends = tuple(ends)
    record.update_time = max(ends) if ends else record.start
    if ends:
        record.duration = max(ends) - record.start
    if is_complete(root):
        record.response_time = max(0.0, float(root["end_time"]) - float(root["start_time"]))
    record.http = root.get("http") if isinstance(root.get("http"), dict) else {}
    record.calls = tuple(calls)
    seen: dict[Node, None] = {node_of[id(s)]: None for s in segments}
    seen.update((call.callee, None) for call in calls)
    record.nodes = tuple(seen)
    record.annotations = _annotations(walk, node_of)
    record.revision = len(documents)
    for segment in segments:
        node = node_of[id(segment)]
        user = segment.get("user")
        if isinstance(user, str) and user:
            nodes = record.users.setdefault(user, [])
            if node not in nodes:
                nodes.append(node)
        if segment.get("resource_arn") and segment["resource_arn"] not in record.resource_arns:
            record.resource_arns.append(str(segment["resource_arn"]))
        ec2 = (segment.get("aws") or {}).get("ec2") if isinstance(segment.get("aws"), dict) else None
        if isinstance(ec2, dict):
            if ec2.get("instance_id") and ec2["instance_id"] not in record.instance_ids:
                record.instance_ids.append(str(ec2["instance_id"]))
            if ec2.get("availability_zone") and ec2["availability_zone"] not in record.availability_zones:
                record.availability_zones.append(str(ec2["availability_zone"]))
    return record


def _attach_independent_subsegments(walk: _Walk, loose: list[dict[str, Any]]) -> None:
    """Subsegments sent as documents of their own join the segment their parent chain leads to."""
    pending = [d for d in loose if d.get("id") and d.get("parent_id")]
    while pending:
        waiting = []
        for sub in pending:
            segment = walk.owner.get(str(sub["parent_id"]))
            if segment is None:
                waiting.append(sub)
                continue
            walk.subsegments([sub], segment, walk.call_of.get(str(sub["parent_id"])))
        if len(waiting) == len(pending):
            return  # the rest hang off documents that have not arrived
        pending = waiting


def _caller_of(segment: dict[str, Any], walk: _Walk, node_of: dict[int, Node], answered: set[int]) -> Node | None:
    parent_id = segment.get("parent_id")
    caller = walk.owner.get(str(parent_id)) if parent_id else None
    if caller is None or caller is segment:
        return None
    call = walk.call_of.get(str(parent_id))
    if call is None:
        # The parent is the caller's segment or a local subsegment: the call it made, if it recorded
        # one, is the unanswered remote call named after this service.
        call = next(
            (
                c
                for c in walk.calls[caller["id"]]
                if id(c) not in answered and c.get("namespace") == "remote" and c.get("name") == segment.get("name")
            ),
            None,
        )
    if call is not None:
        answered.add(id(call))
    return node_of[id(caller)]


def _root(segments: list[dict[str, Any]], walk: _Walk) -> dict[str, Any]:
    """The segment of the service the request entered: no parent, else a parent that never arrived."""
    for segment in segments:  # sorted by start
        if not segment.get("parent_id"):
            return segment
    for segment in segments:
        if str(segment["parent_id"]) not in walk.owner:
            return segment
    return segments[0]


def _annotations(walk: _Walk, node_of: dict[int, Node]) -> dict[str, list[tuple[Any, list[Node]]]]:
    found: dict[str, list[tuple[Any, list[Node]]]] = {}
    for recorded, segment in walk.annotated:
        node = node_of[id(segment)]
        for key, value in recorded.items():
            if not isinstance(value, str | int | float | bool):
                continue
            values = found.setdefault(str(key), [])
            for known, nodes in values:
                if known == value and type(known) is type(value):
                    if node not in nodes:
                        nodes.append(node)
                    break
            else:
                values.append((value, [node]))
    return found


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None
