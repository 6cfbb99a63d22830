"""The estate's call graph, read from the `traffic:` block of each services/<name>.yaml.

Why a block of its own rather than the catalog's relations: `spec.consumesApis` and
`spec.dependsOn` say who may call whom, not which operation, how often, over which AWS
resource, how slowly or how often it fails. The block says that, and a test checks that
every call between two services it declares is a relation the catalog has (the callee
provides an API the caller consumes, or the caller depends on the callee).

A block (every field optional unless said):

    traffic:
      peak_rpm: 420            # the front door only: requests a minute at the weekday peak
      latency_ms: [6, 30]      # p50 and p99 of the service's own work (lognormal); calls add theirs
      faults: 0.001            # share of requests it answers 5xx by itself
      errors: 0.01             # share it answers 4xx
      throttles: 0.01          # Lambda: share of invocations throttled at the daily peak (x load^4)
      cpu_percent: [7, 58]     # ECS: CPU at no load and at the daily peak
      memory_percent: 46       # ECS
      burst: {faults: 0.6, minutes: [4, 8], between: [13, 17]}   # the daily error burst (rates.py)
      sampling: {reservoir_per_minute: 1, rate: 0.01, rules: {POST /orders: 1.0}}  # front door: X-Ray
      queues:                  # SQS queues the service consumes
        inventory-reservations: {background_per_minute: 6, delay_seconds: 4}
      backorder: {share: 0.012, wait_hours: [2, 6]}   # the saga only
      operations:
        - name: POST /orders
          weight: 0.015        # the front door only: share of the requests entering the estate
          latency_ms / faults / errors / error_type: this operation's own, overriding the service's
          calls:               # made in order, each waited for
            - {service: inventory-service, operation: GET /stock/{sku}}   # HTTP to another service
            - {aws: DynamoDB, table: orders, operation: PutItem, units: 2, latency_ms: [9, 650], throttles: 0.002}
            - {aws: SQS, queue: shipping-requests, operation: SendMessage,
               then: {service: shipping-service, operation: dispatch}}   # the consumer goes on later
            - {aws: EventBridge, bus: meridian-commerce, operation: PutEvents, then: {saga: order-saga}}

The saga's operations are its Lambda functions, named as the state machine's Task states name
them; saga.py walks the state machine's own definition.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sandbox import estate
from sandbox.estate import Account, EstateError

# p50/p99 of a call to an AWS service, in ms, when the call does not say.
AWS_LATENCY_MS = {"DynamoDB": (4.0, 22.0), "SQS": (6.0, 30.0), "SNS": (9.0, 45.0), "EventBridge": (12.0, 60.0)}
# Delay before an asynchronous consumer starts, in ms (p50, p99).
DELIVERY_MS = {"SQS": (400.0, 6000.0), "SNS": (60.0, 400.0), "EventBridge": (150.0, 900.0)}
AWS_RESOURCE_FIELD = {"DynamoDB": "table", "SQS": "queue", "SNS": "topic", "EventBridge": "bus"}
ORIGINS = {
    "ecs-service": "AWS::ECS::Container",
    "lambda-function": "AWS::Lambda::Function",
    "api-gateway": "AWS::ApiGateway::Stage",
    "state-machine": "AWS::StepFunctions::StateMachine",
}
_Z99 = 2.3263478740408408  # the standard normal's 99th percentile


@dataclass(frozen=True)
class Latency:
    """A lognormal latency given by its median and 99th percentile, in ms."""

    p50: float
    p99: float

    @property
    def sigma(self) -> float:
        return math.log(self.p99 / self.p50) / _Z99

    def sample(self, rng: random.Random, factor: float = 1.0) -> float:
        return self.p50 * factor * math.exp(self.sigma * rng.gauss(0.0, 1.0))


@dataclass(frozen=True)
class Place:
    """Where a resource lives: its account and region."""

    account: Account
    region: str


@dataclass(frozen=True)
class Then:
    """What an asynchronous call leads to: a service's operation, or the saga."""

    service: str
    operation: str | None = None  # None for the saga
    queue: str | None = None  # an SQS queue the message passes through on the way (SNS -> SQS -> consumer)


@dataclass(frozen=True)
class Call:
    kind: str  # "service" or "aws"
    target: str  # the callee service, or the AWS service (DynamoDB, SQS, SNS, EventBridge)
    operation: str
    resource: str | None = None  # the table, queue, topic or bus
    latency: Latency | None = None
    units: float = 1.0  # DynamoDB capacity units a call consumes
    throttles: float = 0.0  # share throttled at the daily peak
    then: Then | None = None


@dataclass(frozen=True)
class Operation:
    name: str
    latency: Latency
    faults: float
    errors: float
    error_type: str
    calls: tuple[Call, ...]
    weight: float = 0.0
    function: str | None = None  # the Lambda function that runs it


@dataclass(frozen=True)
class Burst:
    faults: float
    minutes: tuple[int, int]  # shortest and longest
    between: tuple[int, int]  # UTC hours it starts in


@dataclass(frozen=True)
class QueueTraffic:
    background_per_minute: float = 0.0
    delay_seconds: float = 5.0


@dataclass(frozen=True)
class Sampling:
    reservoir_per_minute: int = 1
    rate: float = 0.05
    rules: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Component:
    """A catalog Component that serves requests, with the AWS resource it runs as."""

    name: str
    runtime: str  # its resource type: ecs-service, lambda-function, api-gateway, state-machine
    runtime_name: str  # the ECS service, function, REST API or state machine
    place: Place
    operations: dict[str, Operation]
    throttles: float = 0.0
    cpu_percent: tuple[float, float] = (5.0, 50.0)
    memory_percent: float = 50.0
    burst: Burst | None = None
    queues: dict[str, QueueTraffic] = field(default_factory=dict)
    peak_rpm: float = 0.0
    sampling: Sampling | None = None
    backorder_share: float = 0.0
    backorder_hours: tuple[float, float] = (2.0, 6.0)
    ecs: dict[str, Any] = field(default_factory=dict)  # the ECS service's spec (cluster, desired count...)

    @property
    def origin(self) -> str:
        return ORIGINS[self.runtime]

    def operation(self, name: str) -> Operation:
        try:
            return self.operations[name]
        except KeyError:
            raise EstateError(f"{self.name} has no operation {name!r} in its traffic block") from None


@dataclass(frozen=True)
class Model:
    components: dict[str, Component]
    front_door: Component
    saga: Component
    saga_definition: dict[str, Any]
    places: dict[tuple[str, str], Place]  # (kind, name) -> where it lives; kind: table, queue, topic, bus...

    def place(self, kind: str, name: str) -> Place:
        return self.places[(kind, name)]

    def queue_url(self, name: str) -> str:
        place = self.place("queue", name)
        return f"https://sqs.{place.region}.amazonaws.com/{place.account.id}/{name}"

    def arn(self, service: str, kind: str, name: str, resource: str) -> str:
        place = self.place(kind, name)
        return f"arn:aws:{service}:{place.region}:{place.account.id}:{resource}"


def _latency(value: Any, default: Latency | None = None) -> Latency:
    if value is None:
        if default is None:
            raise EstateError("a latency_ms is missing")
        return default
    p50, p99 = (float(v) for v in value)
    if not 0 < p50 < p99:
        raise EstateError(f"latency_ms must be [p50, p99] with 0 < p50 < p99, not {value}")
    return Latency(p50, p99)


def _call(service: str, raw: dict[str, Any]) -> Call:
    then = None
    if raw.get("then"):
        target = raw["then"]
        if "saga" in target:
            then = Then(service=target["saga"])
        else:
            then = Then(service=target["service"], operation=target["operation"], queue=target.get("queue"))
    if "service" in raw:
        return Call(kind="service", target=raw["service"], operation=raw["operation"], then=then)
    aws = raw["aws"]
    if aws not in AWS_RESOURCE_FIELD:
        raise EstateError(f"{service}: calls to {aws} are not modelled (only {sorted(AWS_RESOURCE_FIELD)})")
    return Call(
        kind="aws",
        target=aws,
        operation=raw["operation"],
        resource=raw[AWS_RESOURCE_FIELD[aws]],
        latency=_latency(raw.get("latency_ms"), Latency(*AWS_LATENCY_MS[aws])),
        units=float(raw.get("units", 1.0)),
        throttles=float(raw.get("throttles", 0.0)),
        then=then,
    )


def _places() -> dict[tuple[str, str], Place]:
    kinds = {
        "dynamodb_tables": "table",
        "sqs_queues": "queue",
        "sns_topics": "topic",
        "event_buses": "bus",
        "lambda_functions": "function",
        "ecs_services": "ecs-service",
        "rest_apis": "api",
        "state_machines": "state-machine",
    }
    places: dict[tuple[str, str], Place] = {}
    for service in estate.services():
        for deployment in service.deployments:
            for resource_kind, kind in kinds.items():
                for spec in deployment.resources.get(resource_kind, []):
                    key = (kind, spec["name"])
                    if key in places:
                        raise EstateError(f"two {kind}s are named {spec['name']!r}; the traffic model needs one")
                    places[key] = Place(deployment.account, deployment.region)
    return places


def _runtime(service: estate.Service) -> tuple[str, str, dict[str, Any]]:
    """(resource type, name, ECS spec) of what a service runs as: its first REST API, state machine,
    ECS service or Lambda function, in that order."""
    resources = {kind: list(d.resources.get(kind, [])) for d in service.deployments for kind in d.resources}
    if resources.get("rest_apis"):
        return "api-gateway", resources["rest_apis"][0]["name"], {}
    if resources.get("state_machines"):
        return "state-machine", resources["state_machines"][0]["name"], {}
    if resources.get("ecs_services"):
        spec = resources["ecs_services"][0]
        return "ecs-service", spec["name"], spec
    if resources.get("lambda_functions"):
        return "lambda-function", resources["lambda_functions"][0]["name"], {}
    raise EstateError(f"{service.name} has a traffic block but nothing that serves requests")


def _component(service: estate.Service, places: dict[tuple[str, str], Place]) -> Component:
    block = service.traffic
    runtime, runtime_name, ecs = _runtime(service)
    place = places[({"api-gateway": "api", "lambda-function": "function"}.get(runtime, runtime), runtime_name)]
    own = _latency(block.get("latency_ms"), Latency(10.0, 60.0))
    operations = {}
    for raw in block.get("operations") or []:
        function = raw["name"] if runtime == "state-machine" else runtime_name if runtime == "lambda-function" else None
        operations[raw["name"]] = Operation(
            name=raw["name"],
            latency=_latency(raw.get("latency_ms"), own),
            faults=float(raw.get("faults", block.get("faults", 0.0))),
            errors=float(raw.get("errors", block.get("errors", 0.0))),
            error_type=str(raw.get("error_type", block.get("error_type", "InternalError"))),
            calls=tuple(_call(service.name, c) for c in raw.get("calls") or ()),
            weight=float(raw.get("weight", 0.0)),
            function=function,
        )
    burst = None
    if block.get("burst"):
        raw = block["burst"]
        burst = Burst(float(raw["faults"]), tuple(raw["minutes"]), tuple(raw["between"]))
    sampling = None
    if block.get("sampling"):
        raw = block["sampling"]
        sampling = Sampling(int(raw.get("reservoir_per_minute", 1)), float(raw.get("rate", 0.05)), raw.get("rules", {}))
    backorder = block.get("backorder") or {}
    return Component(
        name=service.name,
        runtime=runtime,
        runtime_name=runtime_name,
        place=place,
        operations=operations,
        throttles=float(block.get("throttles", 0.0)),
        cpu_percent=tuple(float(v) for v in block.get("cpu_percent", (5, 50))),
        memory_percent=float(block.get("memory_percent", 50)),
        burst=burst,
        queues={name: QueueTraffic(**(spec or {})) for name, spec in (block.get("queues") or {}).items()},
        peak_rpm=float(block.get("peak_rpm", 0.0)),
        sampling=sampling,
        backorder_share=float(backorder.get("share", 0.0)),
        backorder_hours=tuple(float(v) for v in backorder.get("wait_hours", (2, 6))),
        ecs=ecs,
    )


def _validate(model: Model) -> None:
    components = model.components
    for component in components.values():
        for operation in component.operations.values():
            for call in operation.calls:
                if call.kind == "service":
                    if call.target not in components:
                        raise EstateError(f"{component.name} calls {call.target}, which has no traffic block")
                    components[call.target].operation(call.operation)
                elif (AWS_RESOURCE_FIELD[call.target], call.resource) not in model.places:
                    raise EstateError(f"{component.name} calls {call.target} {call.resource!r}, not in the estate")
                if call.then and call.then.operation:
                    components[call.then.service].operation(call.then.operation)
                if call.then and call.then.queue and ("queue", call.then.queue) not in model.places:
                    raise EstateError(f"{component.name}: no queue {call.then.queue!r}")
        for queue in component.queues:
            if ("queue", queue) not in model.places:
                raise EstateError(f"{component.name} consumes {queue!r}, not in the estate")
    if abs(sum(op.weight for op in model.front_door.operations.values()) - 1.0) > 1e-6:
        raise EstateError(f"the weights of {model.front_door.name}'s operations must add up to 1")
    for component in components.values():  # the graph must end: no operation may reach itself
        for operation in component.operations:
            _check_no_loop(components, (component.name, operation), ())


def _check_no_loop(components: dict[str, Component], node: tuple[str, str], path: tuple[tuple[str, str], ...]) -> None:
    if node in path:
        raise EstateError(f"the traffic graph loops: {' -> '.join(f'{s} {o}' for s, o in (*path, node))}")
    for call in components[node[0]].operations[node[1]].calls:
        callees = []
        if call.kind == "service":
            callees.append((call.target, call.operation))
        if call.then:
            operations = (
                [call.then.operation] if call.then.operation else list(components[call.then.service].operations)
            )
            callees.extend((call.then.service, operation) for operation in operations)
        for callee in callees:
            _check_no_loop(components, callee, (*path, node))


@cache
def load() -> Model:
    """The traffic model of the demo estate (read once)."""
    places = _places()
    components = {s.name: _component(s, places) for s in estate.services() if s.traffic}
    front = [c for c in components.values() if c.peak_rpm > 0]
    sagas = [c for c in components.values() if c.runtime == "state-machine"]
    if len(front) != 1 or len(sagas) != 1:
        raise EstateError("the traffic model needs one front door (peak_rpm) and one saga")
    saga_service = estate.service(sagas[0].name)
    definition = next(
        spec["definition"]
        for deployment in saga_service.deployments
        for spec in deployment.resources.get("state_machines", [])
    )
    model = Model(
        components=components,
        front_door=front[0],
        saga=sagas[0],
        saga_definition=definition,
        places=places,
    )
    _validate(model)
    return model
