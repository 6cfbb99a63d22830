"""How many AWS calls the current request or task made, per service and operation.

The client factory hooks every client it makes into `record_call` (one per
API call, whatever the retries) and `record_attempt` (one per HTTP request
sent, retries included). Counters live in a contextvar, so concurrent
requests and tasks never see each other's calls; counters nest, so a test's
`count_aws_calls()` inside a request counts into both.

    with count_aws_calls() as calls:
        caller_identity(account, "eu-west-1")
    assert calls[("sts", "GetCallerIdentity")] == 1

A thread started inside a request does not inherit the contextvar unless it
is started with `contextvars.copy_context().run`.
"""

import contextvars
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from celery import signals

logger = logging.getLogger("portal.aws.calls")


class AwsCalls(Counter):
    """(service, operation) -> API calls made; `attempts` counts HTTP requests sent, retries included."""

    def __init__(self):
        super().__init__()
        self.attempts: Counter = Counter()

    @property
    def total(self) -> int:
        return sum(self.values())

    @property
    def total_attempts(self) -> int:
        return sum(self.attempts.values())

    def as_log_fields(self) -> dict:
        return {
            "aws_calls": self.total,
            "aws_attempts": self.total_attempts,
            "aws_calls_by_operation": {f"{service}.{operation}": n for (service, operation), n in sorted(self.items())},
        }


_active: contextvars.ContextVar[tuple[AwsCalls, ...]] = contextvars.ContextVar("aws_call_counters", default=())


@contextmanager
def count_aws_calls() -> Iterator[AwsCalls]:
    calls = AwsCalls()
    token = _active.set((*_active.get(), calls))
    try:
        yield calls
    finally:
        _active.reset(token)


def record_call(service: str, operation: str) -> None:
    for calls in _active.get():
        calls[(service, operation)] += 1


def record_attempt(service: str, operation: str) -> None:
    for calls in _active.get():
        calls.attempts[(service, operation)] += 1


def log_totals(calls: AwsCalls, *, what: str, **fields) -> None:
    # Quiet when nothing called AWS: that is every page view, by design.
    if calls.total or calls.total_attempts:
        logger.info("%s made %d AWS calls", what, calls.total, extra={**calls.as_log_fields(), **fields})


# --- Celery: a counter per task run -------------------------------------------------


@signals.task_prerun.connect
def _start_task_count(task=None, **kwargs):
    calls = AwsCalls()
    task.request._meridian_aws_calls = calls
    task.request._meridian_aws_token = _active.set((*_active.get(), calls))


@signals.task_postrun.connect
def _log_task_count(task=None, **kwargs):
    calls = getattr(task.request, "_meridian_aws_calls", None)
    token = getattr(task.request, "_meridian_aws_token", None)
    if token is not None:
        _active.reset(token)
        task.request._meridian_aws_token = None
    if calls is not None:
        log_totals(calls, what=f"task {task.name}", task=task.name, task_id=task.request.id)
