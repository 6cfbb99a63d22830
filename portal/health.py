"""/healthz: the process answers. /readyz: what it depends on answers, as JSON.

/readyz needs no sign-in (load balancers and orchestrators call it), so an anonymous caller learns only
whether each dependency is ok; what failed, and how (endpoints, error text), is for portal admins and the
log, since error text names hosts, ports and versions an outsider has no use for.
"""

import logging
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.aws.aws import portal_identity
from portal.aws.clients import page_timeouts
from portal.permissions import is_portal_admin

logger = logging.getLogger(__name__)

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


def _check_aws() -> dict:
    """STS GetCallerIdentity with the page timeouts: an endpoint that accepts connections but hangs is not ready."""
    endpoint = settings.AWS_ENDPOINT_URL or f"https://sts.{settings.AWS_DEFAULT_REGION}.amazonaws.com"
    identity = portal_identity(timeouts=page_timeouts())
    return {"endpoint": endpoint, "account_id": identity.account_id, "arn": identity.arn}


CHECKS = {"database": _check_database, "broker": _check_broker, "aws": _check_aws}


def _run_checks() -> dict[str, dict]:
    results = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            results[name] = {"ok": True, **check()}
        except Exception as exc:  # a readiness probe reports every failure, whatever its kind
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("readiness check %s failed: %s", name, error)
            results[name] = {"ok": False, "error": error}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    return results


@login_not_required
@never_cache
@require_GET
def readyz(request):
    results = _run_checks()
    ready = all(r["ok"] for r in results.values())
    if not is_portal_admin(request.user):
        results = {name: {"ok": result["ok"]} for name, result in results.items()}
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": results}, status=200 if ready else 503
    )
