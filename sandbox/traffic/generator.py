"""The traffic generator: the minute that just ended first, then the history, then every minute until stopped.

`Generator(endpoint_url).run(history_days=7, once=False, stop=event)`:

1. the minute that just ended, so metrics and traces are there within seconds of the start;
2. the history before it (history.py), newest first, then the saga executions of the history
   (below); it logs how many windows, data and segments it put and how long that took;
3. each following minute, a few seconds after it ends (missed minutes are caught up, at most
   MAX_CATCH_UP of them), until `stop` is set.

A live minute's placed orders run as real executions of the order saga, taking the paths the
model chose (saga.py), so ListExecutions and the AWS/States metrics agree. Step Functions cannot
backdate an execution, so the history's orders are not run, except a few started with the history:
the orders of its last STARTUP_RECENT_MINUTES minutes (at most STARTUP_RECENT_MAX) and the latest
orders of each outcome the saga page should show from the start (STARTUP_OUTCOMES: e.g. two
stuck ones). They start now, under names that say when the order was placed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.clients import CLIENT_CONFIG, EstateClients
from sandbox.traffic import history, model, saga
from sandbox.traffic.emit import Emitted, Emitter
from sandbox.traffic.metrics import HISTORY_SUMMARY_SIZE, MetricBuilder
from sandbox.traffic.rates import minute_floor
from sandbox.traffic.simulate import SagaRun, Window, simulate
from sandbox.traffic.traces import TraceWriter

logger = logging.getLogger(__name__)


class EstateMissingError(RuntimeError):
    """The sandbox answers but was not seeded with the demo estate."""


DEFAULT_SEED = "meridian"
MAX_CATCH_UP = 30
HISTORY_FLUSH_WINDOWS = 24  # history windows put together, in as few calls as the limits allow
EMIT_DELAY_SECONDS = 2  # after a minute ends, as CloudWatch agents flush a little after the minute
STARTUP_RECENT_MINUTES = 20
STARTUP_RECENT_MAX = 30
STARTUP_OUTCOMES = {"compensated": 2, "compensation_failed": 1, "failed": 1, "waiting": 2}


@dataclass
class HistoryResult:
    windows: int = 0
    emitted: Emitted = field(default_factory=Emitted)
    executions: int = 0
    seconds: float = 0.0
    complete: bool = True


def startup_sagas(runs: list[SagaRun], end: datetime) -> list[SagaRun]:
    """Which of the history's saga runs (newest first) start with the history; see the module docstring."""
    recent_since = (end - timedelta(minutes=STARTUP_RECENT_MINUTES)).timestamp()
    chosen = [run for run in runs if run.start >= recent_since][:STARTUP_RECENT_MAX]
    for outcome, wanted in STARTUP_OUTCOMES.items():
        have = sum(1 for run in chosen if run.outcome == outcome)
        chosen.extend([run for run in runs if run.outcome == outcome and run not in chosen][: max(0, wanted - have)])
    return sorted(chosen, key=lambda run: run.start)


class Generator:
    def __init__(self, endpoint_url: str, *, seed: str = DEFAULT_SEED, log: Callable[[str], None] | None = None):
        self.seed = seed
        self.model = model.load()
        # The data is built here, by code: botocore's validation of every one of thousands of metric
        # data would double the time the history takes.
        self.clients = EstateClients(
            endpoint_url,
            session_name="meridian-traffic",
            config=CLIENT_CONFIG.merge(Config(parameter_validation=False)),
        )
        self.emitter = Emitter(self.clients)
        self.log = log or logger.info
        self._metrics: MetricBuilder | None = None
        self._traces: TraceWriter | None = None

    # --- what the sandbox generated ids for ------------------------------------------------

    def _builders(self) -> tuple[MetricBuilder, TraceWriter]:
        """The metric and trace builders, once the ALB and API ids are looked up in the sandbox."""
        if self._metrics is None or self._traces is None:
            try:
                target_groups, api_ids = self._generated_ids()
            except ClientError as error:
                raise EstateMissingError(
                    f"The sandbox at {self.clients.endpoint_url} has no demo estate ({error}): start it seeded, "
                    "`python manage.py sandbox_server`."
                ) from error
            self._metrics = MetricBuilder(self.model, target_groups)
            self._traces = TraceWriter(self.model, self.seed, api_ids)
        return self._metrics, self._traces

    def _generated_ids(self) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
        """{ECS service: (target group ARN, ALB ARN)} and {REST API name: id}."""
        target_groups = {}
        api_ids = {}
        for component in self.model.components.values():
            place = component.place
            if component.runtime == "ecs-service":
                elbv2 = self.clients.client(place.account, place.region, "elbv2")
                (group,) = elbv2.describe_target_groups(Names=[component.runtime_name])["TargetGroups"]
                target_groups[component.runtime_name] = (group["TargetGroupArn"], group["LoadBalancerArns"][0])
            elif component.runtime == "api-gateway":
                apigateway = self.clients.client(place.account, place.region, "apigateway")
                items = apigateway.get_rest_apis(limit=500).get("items", [])
                api_ids.update({api["name"]: api["id"] for api in items})
        return target_groups, api_ids

    @property
    def state_machine_arn(self) -> str:
        return self.model.arn("states", "state-machine", self.model.saga.runtime_name,
                              f"stateMachine:{self.model.saga.runtime_name}")  # fmt: skip

    # --- windows ------------------------------------------------------------------------

    def simulate(self, start: datetime, minutes: int = 1, **options) -> Window:
        return simulate(self.seed, start, minutes, model=self.model, **options)

    def emit(self, window: Window) -> Emitted:
        metrics, traces = self._builders()
        emitted = self.emitter.put_metrics(metrics.batches(window))
        emitted += self.emitter.put_traces(traces.traces(window))
        return emitted

    def _flush(self, batches: list, traces: list) -> Emitted:
        """Several windows' data in as few calls as the APIs' limits allow."""
        emitted = self.emitter.put_metrics(batches)
        emitted += self.emitter.put_traces(traces)
        return emitted

    def start_sagas(self, runs: list[SagaRun]) -> list[str]:
        place = self.model.saga.place
        stepfunctions = self.clients.client(place.account, place.region, "stepfunctions")
        return saga.start_executions(stepfunctions, self.state_machine_arn, runs)

    def live_minute(self, minute: datetime) -> tuple[Window, Emitted, list[str]]:
        """The minute starting at `minute`: its metrics, traces and saga executions."""
        window = self.simulate(minute)
        emitted = self.emit(window)
        return window, emitted, self.start_sagas(window.sagas)

    def seed_history(self, end: datetime, days: float, stop: threading.Event | None = None) -> HistoryResult:
        """The `days` before `end`; stops early (complete=False) when `stop` is set."""
        started = time.monotonic()
        result = HistoryResult()
        runs: list[SagaRun] = []
        metrics, traces = self._builders()
        pending: tuple[list, list] = ([], [])
        for planned in history.plan(end, days):
            if stop is not None and stop.is_set():
                result.complete = False
                break
            window = self.simulate(planned.start, planned.minutes, cap=planned.cap, trace_budget=planned.trace_budget)
            pending[0].extend(metrics.batches(window, summary_size=HISTORY_SUMMARY_SIZE))
            pending[1].extend(traces.traces(window))
            result.windows += 1
            runs.extend(sorted(window.sagas, key=lambda run: run.start, reverse=True))
            if result.windows % HISTORY_FLUSH_WINDOWS == 0:
                result.emitted += self._flush(*pending)
                pending = ([], [])
        result.emitted += self._flush(*pending)
        if result.complete:
            result.executions = len(self.start_sagas(startup_sagas(runs, end)))
        result.seconds = time.monotonic() - started
        return result

    # --- the loop --------------------------------------------------------------------------

    def run(self, *, history_days: float, once: bool = False, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        first = minute_floor(datetime.now(UTC)) - timedelta(minutes=1)
        window, emitted, executions = self.live_minute(first)
        self.log(
            f"traffic: minute {first:%H:%M} UTC: {window.front_door} requests, {emitted.metric_data} metric data, "
            f"{emitted.segments} segments, {len(executions)} saga executions"
        )
        if history_days > 0:
            self.log(f"traffic: seeding {history_days:g} days of history before {first:%Y-%m-%d %H:%M} UTC...")
            result = self.seed_history(first, history_days, stop)
            self.log(
                f"traffic: history {'done' if result.complete else 'stopped'} in {result.seconds:.1f} s: "
                f"{result.windows} windows, {result.emitted.metric_data} metric data in "
                f"{result.emitted.metric_calls} calls, {result.emitted.segments} segments, "
                f"{result.executions} saga executions started"
            )
        if once:
            return
        last = first
        while not stop.is_set():
            now = datetime.now(UTC)
            due = minute_floor(now) - timedelta(minutes=1)
            if due <= last:
                wake = minute_floor(now) + timedelta(minutes=1, seconds=EMIT_DELAY_SECONDS)
                stop.wait(max(0.1, (wake - now).total_seconds()))
                continue
            missed = int((due - last).total_seconds() // 60)
            if missed > MAX_CATCH_UP:
                self.log(f"traffic: {missed} minutes behind (asleep?); skipping to the last {MAX_CATCH_UP}")
                last = due - timedelta(minutes=MAX_CATCH_UP)
            minute = last + timedelta(minutes=1)
            try:
                window, emitted, executions = self.live_minute(minute)
            except Exception:  # the sandbox restarting or stopping must not end the generator
                logger.exception("traffic: minute %s failed; trying again", f"{minute:%H:%M}")
                stop.wait(5)
                continue
            last = minute
            self.log(
                f"traffic: minute {minute:%H:%M} UTC: {window.front_door} requests, {emitted.metric_data} metric "
                f"data, {emitted.segments} segments, {len(executions)} saga executions"
            )
