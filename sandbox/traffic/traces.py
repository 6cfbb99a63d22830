"""A sampled request as X-Ray segment documents, in the contract's format.

One trace per request entering the front door, id `1-<8 hex epoch>-<24 hex>`. Every service the
request reaches writes a segment named after its catalog Component, with its origin, resource
ARN, `http` request and response and the `fault` (5xx), `error` (4xx) and `throttle` (429) flags
(set only when true, as the X-Ray SDKs do). Its calls are subsegments: `namespace: "remote"` named
after the callee for another service, whose segment then has `parent_id` = that subsegment's id;
`namespace: "aws"` named DynamoDB, SQS, SNS or EventBridge with `aws.operation` and the table,
queue URL, topic ARN or bus. The consumer of an asynchronous call (a queue's worker, the saga
started by EventBridge) continues the trace the same way, with `parent_id` = the aws subsegment's id.
The saga's calls are subsegments of its segment, each with `metadata.saga.state` = the state that
made it; its annotations say the order, the outcome and the state that failed.

Each segment is written where its service runs (account and region), as X-Ray stores it: a trace
crossing into the payments account is split between the two accounts' X-Ray, with the same trace id.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from sandbox.traffic.model import Component, Model, Place
from sandbox.traffic.simulate import CallSpan, Span, Window

_PATH_PARAMETER = re.compile(r"\{(\w+)\}")
_HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")


def _flags(status: int, throttled: bool = False) -> dict[str, bool]:
    flags = {}
    if status >= 500:
        flags["fault"] = True
    elif status >= 400:
        flags["error"] = True
    if throttled or status == 429:
        flags["throttle"] = True
    return flags


@dataclass(frozen=True)
class Trace:
    id: str
    segments: list[tuple[Place, dict[str, Any]]]  # (where it is put, the segment document)


class TraceWriter:
    """`api_ids` maps a REST API's name to its id, for the front door's resource ARN."""

    def __init__(self, model: Model, seed: str, api_ids: dict[str, str] | None = None):
        self.model = model
        self.seed = seed
        self.api_ids = api_ids or {}

    def traces(self, window: Window) -> list[Trace]:
        """The window's sampled requests as traces; the same window always gives the same ids."""
        traces = []
        for index, root in enumerate(window.traces):
            rng = random.Random(f"{self.seed}:trace:{int(window.start.timestamp())}:{window.minutes}:{index}")
            trace_id = f"1-{int(root.start):08x}-{rng.getrandbits(96):024x}"
            traces.append(Trace(trace_id, list(self._segments(root, trace_id, None, rng))))
        return traces

    def _segments(self, span: Span, trace_id: str, parent_id: str | None, rng: random.Random):
        component = span.component
        segment: dict[str, Any] = {
            "name": component.name,
            "id": f"{rng.getrandbits(64):016x}",
            "trace_id": trace_id,
            "start_time": round(span.start, 6),
            "end_time": round(span.end, 6),
            "origin": component.origin,
            "resource_arn": self._resource_arn(component),
            **_flags(span.status),
        }
        if parent_id:
            segment["parent_id"] = parent_id
        # A request's status is on every segment, also of a function invoked with no HTTP request.
        http = self._http(component, span.operation, rng) or {}
        http["response"] = {"status": span.status}
        segment["http"] = http
        if span.annotations:
            segment["annotations"] = dict(span.annotations)
        children = []
        subsegments = []
        for made in span.calls:
            subsegment = self._subsegment(made, rng)
            subsegments.append(subsegment)
            if made.child is not None:
                children.append((made.child, subsegment["id"]))
        if subsegments:
            segment["subsegments"] = subsegments
        yield component.place, segment
        for child, subsegment_id in children:
            yield from self._segments(child, trace_id, subsegment_id, rng)

    def _subsegment(self, made: CallSpan, rng: random.Random) -> dict[str, Any]:
        call = made.call
        subsegment: dict[str, Any] = {
            "id": f"{rng.getrandbits(64):016x}",
            "name": call.target,
            "start_time": round(made.start, 6),
            "end_time": round(made.end, 6),
        }
        if call.kind == "service":
            callee = self.model.components[call.target]
            subsegment["namespace"] = "remote"
            http = self._http(callee, call.operation, rng) or {}
            http["response"] = {"status": made.status}
            subsegment["http"] = http
            subsegment.update(_flags(made.status, made.throttled))
        else:
            subsegment["namespace"] = "aws"
            place = self.model.place(
                {"DynamoDB": "table", "SQS": "queue", "SNS": "topic", "EventBridge": "bus"}[call.target], call.resource
            )
            aws: dict[str, Any] = {"operation": call.operation, "region": place.region}
            if call.target == "DynamoDB":
                aws["table_name"] = call.resource
            elif call.target == "SQS":
                aws["queue_url"] = self.model.queue_url(call.resource)
            elif call.target == "SNS":
                aws["topic_arn"] = f"arn:aws:sns:{place.region}:{place.account.id}:{call.resource}"
            else:
                aws["event_bus_name"] = call.resource
            if made.throttled:
                aws["retries"] = 1
            subsegment["aws"] = aws
            subsegment["http"] = {"response": {"status": 400 if made.throttled else 200}}
            subsegment.update(_flags(400 if made.throttled else 200, made.throttled))
        if made.state:
            subsegment["metadata"] = {"saga": {"state": made.state}}
        return subsegment

    def _http(self, component: Component, operation: str, rng: random.Random) -> dict[str, Any] | None:
        method, _, path = operation.partition(" ")
        if method not in _HTTP_METHODS:
            return None
        path = _PATH_PARAMETER.sub(lambda m: f"{rng.getrandbits(32):08x}", path)
        if component.runtime == "api-gateway":
            api_id = self.api_ids.get(component.runtime_name, component.runtime_name)
            base = f"https://{api_id}.execute-api.{component.place.region}.amazonaws.com/prod"
        elif component.runtime == "ecs-service":
            namespace = component.ecs.get("namespace", "local")
            base = f"http://{component.runtime_name}.{namespace}:{component.ecs.get('port', 80)}"
        else:
            base = f"https://{component.runtime_name}.lambda-url.{component.place.region}.on.aws"
        return {"request": {"method": method, "url": base + path}}

    def _resource_arn(self, component: Component) -> str:
        place = component.place
        prefix = f"{place.region}:{place.account.id}"
        match component.runtime:
            case "ecs-service":
                return f"arn:aws:ecs:{prefix}:service/{component.ecs['cluster']}/{component.runtime_name}"
            case "lambda-function":
                return f"arn:aws:lambda:{prefix}:function:{component.runtime_name}"
            case "state-machine":
                return f"arn:aws:states:{prefix}:stateMachine:{component.runtime_name}"
        api_id = self.api_ids.get(component.runtime_name, component.runtime_name)
        return f"arn:aws:apigateway:{place.region}::/restapis/{api_id}/stages/prod"
