"""The request id and source address of whatever the portal is doing now.

Set by middleware for a web request and restored in a Celery task from the
message headers of the request that started it, so that a log line or an
audit event written anywhere can name the request it belongs to.
"""

import contextvars
import logging
import re
import uuid

from celery import signals

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
source_ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("source_ip", default=None)
# Where the work came in: "ui" (a page), "api" (/api/), "task" (a Celery task); "system" for anything else (a
# management command, a shell, a migration). The audit log records it on every event.
source_var: contextvars.ContextVar[str] = contextvars.ContextVar("source", default="system")


def current_request_id() -> str:
    return request_id_var.get()


def current_source_ip() -> str | None:
    return source_ip_var.get()


def current_source() -> str:
    return source_var.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestContextMiddleware:
    """Take the caller's X-Request-ID (if well-formed) or make one; echo it on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else new_request_id()
        request.request_id = request_id
        rid_token = request_id_var.set(request_id)
        ip_token = source_ip_var.set(request.META.get("REMOTE_ADDR"))
        source_token = source_var.set("api" if request.path.startswith("/api/") else "ui")
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(rid_token)
            source_ip_var.reset(ip_token)
            source_var.reset(source_token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class LogContextFilter(logging.Filter):
    """Put the current request id on every log record (empty outside a request or task)."""

    def filter(self, record):
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        return True


# --- Celery: carry the request id from the enqueuing request into the task ---


@signals.before_task_publish.connect
def _add_request_id_header(headers=None, **kwargs):
    request_id = request_id_var.get()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


@signals.task_prerun.connect
def _restore_request_id(task=None, **kwargs):
    # Not reset after the task: Celery's own "Task ... succeeded" line and the task's AWS call totals
    # (logged in task_postrun) belong to it too. The next task on this worker sets its own.
    request_id_var.set(getattr(task.request, "request_id", None) or f"task-{task.request.id}")
    source_var.set("task")
