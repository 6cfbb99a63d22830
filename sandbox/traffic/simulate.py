"""Walk a window of requests through the call graph: what every service, function, table and queue did.

`simulate(seed, start, minutes)` draws the requests entering the front door in the window
(rates.py), splits them over its operations by weight, and walks each one through the graph:
every service it reaches answers with a status and takes a time (its own lognormal work plus the
calls it waits for); asynchronous calls (SQS, SNS, EventBridge) lead on to their consumer a moment
later, and EventBridge's OrderPlaced starts the saga (saga.py). What happened is tallied per
component, Lambda function, DynamoDB table, SQS queue and for the state machine, and a sample of
the requests is kept whole, to become X-Ray traces.

Everything is drawn from one `random.Random` seeded with the seed and the window, so the same seed
and window give the same result, request for request.

A live window (one minute) walks every request. A history window (5 or 60 minutes) walks at most
`cap` requests of each front-door operation and weighs each as n/cap, so the tallies keep the
window's totals at a bounded cost; its latency distributions come from the walked requests.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sandbox.traffic import rates
from sandbox.traffic.model import DELIVERY_MS, Call, Component, Latency, Model, Operation, load

READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan"})
# A throttled call to DynamoDB is retried once by the SDK after this back-off, in ms.
THROTTLE_RETRY_MS = (25.0, 120.0)


@dataclass
class Span:
    """One service's handling of one request: an X-Ray segment to be."""

    component: Component
    operation: str
    start: float  # epoch seconds
    end: float = 0.0
    status: int = 200
    calls: list[CallSpan] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass
class CallSpan:
    """A call one service made: an X-Ray subsegment to be; `child` is the callee's (or consumer's) span."""

    call: Call
    start: float
    end: float
    status: int = 200
    throttled: bool = False
    child: Span | None = None
    state: str | None = None  # the saga state that made the call


@dataclass
class Tally:
    """What a component, function or state machine did: counts (weighted) and latency samples (ms)."""

    requests: float = 0.0
    faults: float = 0.0  # 5xx; failed invocations or executions
    errors: float = 0.0  # 4xx
    throttles: float = 0.0
    succeeded: float = 0.0  # executions only
    samples: list[tuple[float, float]] = field(default_factory=list)  # (ms, weight)

    def sample(self, ms: float, weight: float) -> None:
        self.samples.append((ms, weight))


@dataclass
class TableTally:
    read_units: float = 0.0
    write_units: float = 0.0
    throttled: float = 0.0


@dataclass
class SagaRun:
    """One saga execution as the walk saw it; saga.py starts it for real in a live window."""

    order_id: str
    start: float
    failures: dict[str, dict[str, str]]  # function -> {"error", "cause"}: the steps that must fail
    backorder_seconds: int | None
    states: list[str]  # the states it entered, in order (up to the Wait for a backorder)
    outcome: str  # committed | compensated | compensation_failed | failed | waiting
    duration_ms: float


@dataclass
class Window:
    seed: str
    start: datetime
    minutes: int
    front_door: int = 0  # requests that entered in the window
    components: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    functions: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    tables: dict[str, TableTally] = field(default_factory=lambda: defaultdict(TableTally))
    queues: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # messages sent
    executions: Tally = field(default_factory=Tally)
    sagas: list[SagaRun] = field(default_factory=list)
    traces: list[Span] = field(default_factory=list)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


def _split(total: int, weights: list[float]) -> list[int]:
    """`total` split by `weights` into whole numbers that add up to it (largest remainder first)."""
    exact = [total * w for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (exact[i] - counts[i], -i), reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _http_status(operation: str) -> int:
    """The 4xx a service answers to a bad request for this kind of operation."""
    method = operation.split(" ", 1)[0]
    if method == "GET":
        return 404
    return 409 if method in ("POST", "PUT", "DELETE") else 400


class Walker:
    """Walks requests through the model, tallying into a window."""

    def __init__(self, model: Model, seed: str, rng: random.Random, window: Window):
        self.model = model
        self.seed = seed
        self.rng = rng
        self.window = window
        self.order_numbers = 0

    def _load(self, moment: float) -> float:
        return rates.load(datetime.fromtimestamp(moment, UTC))

    def serve(self, component: Component, operation_name: str, start: float, weight: float) -> Span:
        """The component handles one request of `operation_name` arriving at `start`."""
        operation = component.operation(operation_name)
        rng = self.rng
        span = Span(component=component, operation=operation_name, start=start)
        own = operation.latency.sample(rng)
        cursor = start + own * 0.3 / 1000
        faults = operation.faults
        if rates.in_burst(self.seed, component.name, datetime.fromtimestamp(start, UTC), component.burst):
            faults = max(faults, component.burst.faults)
        if rng.random() < faults:
            span.status = 503 if component.burst and faults == component.burst.faults else 500
        else:
            for call in operation.calls:
                made = self.call(span, call, cursor, weight)
                span.calls.append(made)
                cursor = made.end
                if call.kind == "service" and made.status >= 400:
                    span.status = 502 if made.status >= 500 else made.status
                    break
            if span.status == 200 and rng.random() < operation.errors:
                span.status = _http_status(operation_name)
        span.end = cursor + own * 0.7 / 1000
        self._tally(component, operation, span, weight)
        return span

    def _tally(self, component: Component, operation: Operation, span: Span, weight: float) -> None:
        ms = (span.end - span.start) * 1000
        tally = self.window.components[component.name]
        tally.requests += weight
        tally.faults += weight if span.status >= 500 else 0
        tally.errors += weight if 400 <= span.status < 500 else 0
        tally.sample(ms, weight)
        if operation.function and component.runtime == "lambda-function":
            function = self.window.functions[operation.function]
            function.requests += weight
            function.faults += weight if span.status >= 500 else 0
            function.sample(ms, weight)

    def call(self, caller: Span, call: Call, start: float, weight: float, state: str | None = None) -> CallSpan:
        rng = self.rng
        if call.kind == "service":
            callee = self.model.components[call.target]
            throttles = callee.throttles if callee.runtime == "lambda-function" else 0.0
            if throttles and rng.random() < throttles * self._load(start) ** 4:  # never runs: no span of its own
                self.window.functions[callee.runtime_name].throttles += weight
                self.window.components[callee.name].throttles += weight
                return CallSpan(call, start, start + 0.002, status=429, throttled=True, state=state)
            child = self.serve(callee, call.operation, start + 0.001, weight)
            return CallSpan(call, start, child.end + 0.001, status=child.status, child=child, state=state)
        ms = call.latency.sample(rng)
        throttled = bool(call.throttles) and rng.random() < call.throttles * self._load(start) ** 4
        if throttled:  # throttled, then retried by the SDK after a back-off
            ms += Latency(*THROTTLE_RETRY_MS).sample(rng) + call.latency.sample(rng)
        made = CallSpan(call, start, start + ms / 1000, throttled=throttled, state=state)
        self._tally_aws(call, weight, throttled)
        if call.then:
            delivered = made.end + Latency(*DELIVERY_MS[call.target]).sample(rng) / 1000
            if call.then.queue:
                self.window.queues[call.then.queue] += weight
            consumer = self.model.components[call.then.service]
            if call.then.operation is None:
                from sandbox.traffic.saga import walk_saga

                made.child = walk_saga(self, delivered, weight, caller)
            else:
                made.child = self.serve(consumer, call.then.operation, delivered, weight)
        return made

    def _tally_aws(self, call: Call, weight: float, throttled: bool) -> None:
        if call.target == "DynamoDB":
            table = self.window.tables[call.resource]
            if call.operation in READ_OPERATIONS:
                table.read_units += call.units * weight
            else:
                table.write_units += call.units * weight
            table.throttled += weight if throttled else 0
        elif call.target == "SQS" and call.operation.startswith("SendMessage"):
            self.window.queues[call.resource] += weight

    def next_order_id(self, moment: float) -> str:
        self.order_numbers += 1
        stamp = datetime.fromtimestamp(moment, UTC).strftime("%Y%m%d-%H%M")
        return f"ord-{stamp}-{self.order_numbers:03d}"


def _sampled(window: Window, model: Model, entered: list[tuple[float, str, Span]], rng: random.Random) -> list[Span]:
    """The requests X-Ray samples: the front door's rules at their rates, else a reservoir of the first
    few requests of each minute and a fixed share of the rest."""
    sampling = model.front_door.sampling
    if sampling is None:
        return []
    kept = []
    reservoir: dict[int, int] = defaultdict(int)
    for moment, operation, span in sorted(entered, key=lambda item: item[0]):
        minute = int(moment // 60)
        if operation in sampling.rules:
            if rng.random() < sampling.rules[operation]:
                kept.append(span)
        elif reservoir[minute] < sampling.reservoir_per_minute:
            reservoir[minute] += 1
            kept.append(span)
        elif rng.random() < sampling.rate:
            kept.append(span)
    return kept


def simulate(
    seed: str,
    start: datetime,
    minutes: int = 1,
    *,
    cap: int | None = None,
    trace_budget: int | None = None,
    model: Model | None = None,
) -> Window:
    """What the estate did in the `minutes` starting at `start` (a whole minute, UTC)."""
    model = model or load()
    start = rates.minute_floor(start)
    window = Window(seed=seed, start=start, minutes=minutes)
    rng = random.Random(f"{seed}:window:{int(start.timestamp())}:{minutes}")
    walker = Walker(model, seed, rng, window)
    front = model.front_door
    minute_starts = [start + timedelta(minutes=i) for i in range(minutes)]
    per_minute = [rates.requests_in_minute(seed, m, front.peak_rpm) for m in minute_starts]
    window.front_door = sum(per_minute)
    operations = list(front.operations.values())
    entered: list[tuple[float, str, Span]] = []
    for operation, count in zip(operations, _split(window.front_door, [op.weight for op in operations]), strict=True):
        walked = count if cap is None else min(count, cap)
        weight = count / walked if walked else 0.0
        for _ in range(walked):
            index = rng.choices(range(minutes), weights=per_minute)[0] if minutes > 1 else 0
            moment = minute_starts[index].timestamp() + rng.random() * 60
            entered.append((moment, operation.name, walker.serve(front, operation.name, moment, weight)))
    for component in model.components.values():
        for queue, traffic in component.queues.items():
            window.queues[queue] += traffic.background_per_minute * minutes
    window.sagas.sort(key=lambda run: run.start)
    traces = _sampled(window, model, entered, rng)
    if trace_budget is not None and len(traces) > trace_budget:
        traces = rng.sample(traces, trace_budget)
    window.traces = sorted(traces, key=lambda span: span.start)
    return window
