"""Every API error is JSON: {"detail": ..., "code": ..., "request_id": ...}."""

from rest_framework.views import exception_handler as drf_exception_handler

from portal.request_context import current_request_id


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data:
        detail = data["detail"]
        data["code"] = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    elif isinstance(data, (dict, list)):
        data = {"detail": "Invalid input.", "code": "invalid", "errors": data}
    data["request_id"] = current_request_id()
    response.data = data
    return response
