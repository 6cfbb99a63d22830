"""A simulated window as CloudWatch metric data: the golden signals of every resource, per account and region.

Counters are the window's (weighted) totals as one `Value`. Gauges are one reading a minute, put as
`StatisticValues` (SampleCount = minutes), so Average and Maximum are right over any period.
Latencies are put as `Values` + `Counts`: a summary of the window's distribution in at most
SUMMARY_SIZE samples (HISTORY_SUMMARY_SIZE for history windows), taken at evenly spaced percentiles
(5th, 10th ... 95th) and the 99th, equal values merged into one with its count. The summary keeps the
stored distribution's percentiles (p50 is the 10th of 20 samples, p99 the 20th, also when periods are
pooled) while its size does not grow with the traffic:
moto stores a value once per count, so putting one value per request would hold millions of objects
after a week. SampleCount of a latency metric is therefore the summary's size, not the number of
requests (RequestCount, Invocations and Count are).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sandbox.traffic import rates, signals
from sandbox.traffic.model import Model, Place
from sandbox.traffic.simulate import Tally, Window

SUMMARY_SIZE = 20  # a live minute's latency summary
HISTORY_SUMMARY_SIZE = 10  # a history window's: half the objects, and p50, p90 and p99 still exact


def summary_quantiles(size: int) -> tuple[float, ...]:
    """The percentiles a summary of `size` samples is taken at: size-1 evenly spaced, and the 99th."""
    return (0.5,) if size == 1 else (*(i / size for i in range(1, size)), 0.99)


@dataclass(frozen=True)
class Batch:
    """Metric data of one namespace for one account and region."""

    place: Place
    namespace: str
    data: list[dict[str, Any]]


def weighted_quantile(samples: list[tuple[float, float]], q: float) -> float:
    """The smallest sample whose cumulative weight reaches q of the total (samples sorted by value)."""
    total = sum(w for _, w in samples)
    target = q * total
    running = 0.0
    for value, weight in samples:
        running += weight
        if running >= target - 1e-9:
            return value
    return samples[-1][0]


def summary(
    samples: list[tuple[float, float]], scale: float = 1.0, digits: int = 2, size: int = SUMMARY_SIZE
) -> tuple[list, list] | None:
    """(Values, Counts) summarising weighted latency samples in at most `size` samples, or None without any."""
    if not samples:
        return None
    ordered = sorted(samples)
    counts: dict[float, int] = {}
    for q in summary_quantiles(min(size, len(ordered))):
        value = round(weighted_quantile(ordered, q) * scale, digits)
        counts[value] = counts.get(value, 0) + 1
    return list(counts), list(counts.values())


class MetricBuilder:
    """Builds a window's Batches; `target_groups` maps an ECS service to its (target group ARN, ALB ARN)."""

    def __init__(self, model: Model, target_groups: dict[str, tuple[str, str]]):
        self.model = model
        self.target_groups = target_groups

    def batches(self, window: Window, summary_size: int = SUMMARY_SIZE) -> list[Batch]:
        self._summary_size = summary_size
        self._data: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        self._places: dict[tuple[str, str], Place] = {}
        self._timestamp = window.start
        self._minutes = window.minutes
        self._rng = random.Random(f"{window.seed}:gauges:{int(window.start.timestamp())}:{window.minutes}")
        self._loads = [rates.load(window.start + timedelta(minutes=i, seconds=30)) for i in range(window.minutes)]
        model = self.model
        for component in model.components.values():
            tally = window.components.get(component.name, Tally())
            if component.runtime == "api-gateway":
                self._api(component.place, component.runtime_name, tally)
            elif component.runtime == "ecs-service":
                self._ecs(component, tally)
        for (kind, name), place in sorted(model.places.items(), key=lambda item: item[0]):
            if kind == "function":
                self._function(place, name, window)
            elif kind == "table":
                self._table(place, name, window)
            elif kind == "queue":
                self._queue(place, name, window)
            elif kind == "state-machine":
                self._state_machine(place, name, window)
        return [
            Batch(self._places[(account_id, region)], namespace, data)
            for (account_id, region, namespace), data in self._data.items()
        ]

    # --- datum builders -------------------------------------------------------------------

    def _put(self, place: Place, resource_type: str, ids: dict[str, str], metric: str, **value: Any) -> None:
        signal = signals.signal(resource_type, metric)
        self._places[(place.account.id, place.region)] = place
        self._data[(place.account.id, place.region, signal.namespace)].append(
            {
                "MetricName": metric,
                "Dimensions": signals.dimensions(resource_type, ids),
                "Timestamp": self._timestamp,
                "Unit": signal.unit,
                **value,
            }
        )

    def _count(self, place: Place, resource_type: str, ids: dict[str, str], metric: str, value: float) -> None:
        self._put(place, resource_type, ids, metric, Value=float(round(value)))

    def _latency(self, place: Place, resource_type: str, ids: dict, metric: str, tally: Tally, scale=1.0) -> None:
        summarised = summary(tally.samples, scale, digits=4 if scale < 1 else 2, size=self._summary_size)
        if summarised:
            values, counts = summarised
            self._put(place, resource_type, ids, metric, Values=values, Counts=[float(c) for c in counts])

    def _gauge(self, place: Place, resource_type: str, ids: dict[str, str], metric: str, readings: list[float]):
        self._put(
            place,
            resource_type,
            ids,
            metric,
            StatisticValues={
                "SampleCount": float(len(readings)),
                "Sum": round(sum(readings), 3),
                "Minimum": round(min(readings), 3),
                "Maximum": round(max(readings), 3),
            },
        )

    # --- resources ----------------------------------------------------------------------------

    def _api(self, place: Place, name: str, tally: Tally) -> None:
        ids = {"api": name}
        self._count(place, "api-gateway", ids, "Count", tally.requests)
        self._count(place, "api-gateway", ids, "4XXError", tally.errors)
        self._count(place, "api-gateway", ids, "5XXError", tally.faults)
        self._latency(place, "api-gateway", ids, "Latency", tally)

    def _ecs(self, component, tally: Tally) -> None:
        place = component.place
        target_group, load_balancer = self.target_groups[component.runtime_name]
        ids = {"target_group_arn": target_group, "load_balancer_arn": load_balancer}
        self._count(place, "target-group", ids, "RequestCount", tally.requests)
        self._count(place, "target-group", ids, "HTTPCode_Target_5XX_Count", tally.faults)
        self._latency(place, "target-group", ids, "TargetResponseTime", tally, scale=0.001)
        idle, peak = component.cpu_percent
        rng = self._rng
        cpu = [min(100.0, max(0.5, idle + (peak - idle) * load * rng.uniform(0.9, 1.1))) for load in self._loads]
        hours = [(self._timestamp + timedelta(minutes=i)).hour for i in range(self._minutes)]
        memory = [
            component.memory_percent + 3 * math.sin(2 * math.pi * hour / 24) + rng.uniform(-1.5, 1.5) for hour in hours
        ]
        ecs_ids = {"cluster": component.ecs["cluster"], "service": component.runtime_name}
        self._gauge(place, "ecs-service", ecs_ids, "CPUUtilization", cpu)
        self._gauge(place, "ecs-service", ecs_ids, "MemoryUtilization", memory)

    def _function(self, place: Place, name: str, window: Window) -> None:
        tally = window.functions.get(name, Tally())
        ids = {"function": name}
        self._count(place, "lambda-function", ids, "Invocations", tally.requests)
        self._count(place, "lambda-function", ids, "Errors", tally.faults)
        self._count(place, "lambda-function", ids, "Throttles", tally.throttles)
        self._latency(place, "lambda-function", ids, "Duration", tally)
        # Concurrency by Little's law (invocations a second x mean duration), with the minute's peak above it.
        mean_ms = sum(ms * w for ms, w in tally.samples) / max(sum(w for _, w in tally.samples), 1e-9)
        mean = tally.requests / (60 * self._minutes) * mean_ms / 1000
        readings = [math.ceil(mean * self._rng.uniform(1.2, 2.0)) if tally.requests else 0 for _ in self._loads]
        self._gauge(place, "lambda-function", ids, "ConcurrentExecutions", [float(r) for r in readings])

    def _table(self, place: Place, name: str, window: Window) -> None:
        table = window.tables.get(name)
        ids = {"table": name}
        read, write, throttled = (table.read_units, table.write_units, table.throttled) if table else (0, 0, 0)
        self._put(place, "dynamodb-table", ids, "ConsumedReadCapacityUnits", Value=round(read, 1))
        self._put(place, "dynamodb-table", ids, "ConsumedWriteCapacityUnits", Value=round(write, 1))
        self._count(place, "dynamodb-table", ids, "ThrottledRequests", throttled)

    def _queue(self, place: Place, name: str, window: Window) -> None:
        delay = next((c.queues[name].delay_seconds for c in self.model.components.values() if name in c.queues), 0.0)
        per_minute = window.queues.get(name, 0.0) / window.minutes
        rng = self._rng
        # Little's law again: messages waiting = arrivals a second x time to be picked up.
        visible = [float(round(per_minute / 60 * delay * rng.uniform(0.5, 1.6))) for _ in self._loads]
        age = [round(delay * rng.uniform(0.6, 2.5), 1) if per_minute else 0.0 for _ in self._loads]
        ids = {"queue": name}
        self._gauge(place, "sqs-queue", ids, "ApproximateNumberOfMessagesVisible", visible)
        self._gauge(place, "sqs-queue", ids, "ApproximateAgeOfOldestMessage", age)

    def _state_machine(self, place: Place, name: str, window: Window) -> None:
        tally = window.executions
        ids = {"state_machine_arn": f"arn:aws:states:{place.region}:{place.account.id}:stateMachine:{name}"}
        self._count(place, "state-machine", ids, "ExecutionsStarted", tally.requests)
        self._count(place, "state-machine", ids, "ExecutionsSucceeded", tally.succeeded)
        self._count(place, "state-machine", ids, "ExecutionsFailed", tally.faults)
        self._latency(place, "state-machine", ids, "ExecutionTime", tally)
