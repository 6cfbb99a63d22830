"""Every API error is JSON: {"detail": ..., "code": ..., "request_id": ...}.

Validation errors add "errors" (field -> messages). Errors raised by Django
or the database in services are translated here, so a viewset can call a
service and let its ValidationError, PermissionDenied or IntegrityError out.
"""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from portal.request_context import current_request_id

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the data."
    default_code = "conflict"


def _translate(exc):
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, (ProtectedError, RestrictedError)):
        names = sorted({str(obj) for obj in list(exc.args[1])[:5]}) if len(exc.args) > 1 else []
        suffix = f": {', '.join(names)}" if names else "."
        return Conflict(f"Other objects still refer to this one{suffix}", code="in_use")
    if isinstance(exc, IntegrityError):
        # The database's message names tables and constraints; it goes to the log, not to the client.
        logger.warning("integrity error answered with 409", exc_info=exc)
        return Conflict("This would break a uniqueness or reference rule (e.g. the name is already taken).")
    return exc


def _summary(errors) -> str:
    """The first problem after "Invalid input", so a client that logs only `detail` still says what was wrong."""
    field, problem = None, errors
    while isinstance(problem, (dict, list)) and problem:
        if isinstance(problem, dict):
            field, problem = next(iter(problem.items()))
        else:
            problem = problem[0]
    if not problem or isinstance(problem, (dict, list)):
        return "Invalid input."
    if field in (None, api_settings.NON_FIELD_ERRORS_KEY):
        return f"Invalid input: {problem}"
    return f"Invalid input: {field}: {problem}"


def exception_handler(exc, context):
    response = drf_exception_handler(_translate(exc), context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data:
        detail = data["detail"]
        data["code"] = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    elif isinstance(data, (dict, list)):
        data = {"detail": _summary(data), "code": "invalid", "errors": data}
    data["request_id"] = current_request_id()
    response.data = data
    return response
