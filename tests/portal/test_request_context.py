"""X-Request-ID: taken from the caller when well-formed, made otherwise, echoed, and put on every log line."""

import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter

from portal.request_context import LogContextFilter, request_id_var

pytestmark = pytest.mark.django_db


def test_request_id_is_taken_from_the_caller(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123.def"})
    assert response["X-Request-ID"] == "abc-123.def"


@pytest.mark.parametrize("header", ["", "has spaces", "x" * 200, "<script>"])
def test_a_missing_or_malformed_request_id_is_replaced(client, header):
    response = client.get("/healthz", headers={"X-Request-ID": header} if header else {})
    rid = response["X-Request-ID"]
    assert rid != header
    assert len(rid) == 32 and rid.isalnum()


def test_log_lines_carry_the_request_id(settings):
    formatter = JsonFormatter("%(levelname)s %(message)s %(request_id)s")
    record = logging.LogRecord("meridian", logging.INFO, __file__, 1, "hello", None, None)
    token = request_id_var.set("rid-42")
    try:
        LogContextFilter().filter(record)
    finally:
        request_id_var.reset(token)
    assert json.loads(formatter.format(record)) == {"levelname": "INFO", "message": "hello", "request_id": "rid-42"}
