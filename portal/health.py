"""/healthz: the process answers. /readyz: what it depends on answers, as JSON."""

import socket
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

_CHECK_TIMEOUT = 2.0


@login_not_required
@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"vendor": connection.vendor}


def _check_broker() -> dict:
    from portal.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=_CHECK_TIMEOUT)
        return {"transport": conn.transport_cls if isinstance(conn.transport_cls, str) else conn.transport.driver_type}


def _check_aws_endpoint() -> dict:
    """Reachability of the AWS endpoint: AWS_ENDPOINT_URL when set (the sandbox, LocalStack, a VPC endpoint)."""
    endpoint = settings.AWS_ENDPOINT_URL or f"https://sts.{settings.AWS_DEFAULT_REGION}.amazonaws.com"
    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with socket.create_connection((parts.hostname, port), timeout=_CHECK_TIMEOUT):
        pass
    return {"endpoint": endpoint}


CHECKS = {"database": _check_database, "broker": _check_broker, "aws": _check_aws_endpoint}


@login_not_required
@never_cache
@require_GET
def readyz(request):
    results = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            detail = check()
            results[name] = {"ok": True, **detail}
        except Exception as exc:  # a readiness probe reports every failure, whatever its kind
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    ready = all(r["ok"] for r in results.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": results}, status=200 if ready else 503
    )
