"""A small shop's traces for the X-Ray tests, as the instrumented services would put them.

client → storefront-gateway → orders-api → DynamoDB table `orders`
                                         → payments-api (→ psp.example.com, not instrumented)

Every trace starts at a whole second after T0; durations (seconds) are fixed so the expected
statistics and histograms can be written down: gateway 0.06 + p, orders-api 0.04 + p,
payments-api p (p = `payments_seconds`), the DynamoDB call 0.012, the PSP call 0.04.
"""

from __future__ import annotations

import json
from typing import Any

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
REGION = "eu-west-1"
ECS = "AWS::ECS::Container"


def trace_id(number: int, start: float) -> str:
    return f"1-{int(start):08x}-{number:024x}"


def order_trace(
    number: int,
    start: float,
    *,
    payments_seconds: float = 0.06,
    payments_fault: bool = False,
    fault_propagates: bool = False,
    dynamodb_throttled: bool = False,
    psp: bool = False,
    method: str = "GET",
    amount: float = 10,
    express: bool = False,
    user: str | None = None,
) -> list[dict[str, Any]]:
    """The segment documents of one order request (one per service), callee before caller as SDKs send them."""
    p = payments_seconds
    tid = trace_id(number, start)
    ids = {role: f"{role}{number:015x}" for role in "abcdef9"}
    failed = payments_fault and fault_propagates
    payments: dict[str, Any] = {
        "id": ids["f"],
        "trace_id": tid,
        "parent_id": ids["e"],
        "name": "payments-api",
        "origin": ECS,
        "start_time": start + 0.035,
        "end_time": start + 0.035 + p,
        "http": {"request": {"method": "POST", "url": "http://payments-api/charges"}, "response": {"status": 200}},
        "annotations": {"amount": amount, "express": express},
    }
    if payments_fault:
        payments.update(fault=True, http={**payments["http"], "response": {"status": 500}})
    if psp:
        payments["subsegments"] = [
            {
                "id": ids["9"],
                "name": "psp.example.com",
                "namespace": "remote",
                "start_time": start + 0.040,
                "end_time": start + 0.080,
                "http": {"request": {"method": "POST", "url": "https://psp.example.com/v1/charges"}},
            }
        ]
    dynamodb: dict[str, Any] = {
        "id": ids["d"],
        "name": "DynamoDB",
        "namespace": "aws",
        "start_time": start + 0.015,
        "end_time": start + 0.027,
        "aws": {"operation": "GetItem", "table_name": "orders", "region": REGION},
    }
    if dynamodb_throttled:
        dynamodb.update(error=True, throttle=True, http={"response": {"status": 400}})
    orders: dict[str, Any] = {
        "id": ids["c"],
        "trace_id": tid,
        "parent_id": ids["b"],
        "name": "orders-api",
        "origin": ECS,
        "start_time": start + 0.010,
        "end_time": start + 0.050 + p,
        "http": {"request": {"method": method, "url": f"http://orders-api/orders/o-{number}"}},
        "annotations": {"order_id": f"o-{number}"},
        "subsegments": [
            dynamodb,
            {
                "id": ids["e"],
                "name": "payments-api",
                "namespace": "remote",
                "start_time": start + 0.030,
                "end_time": start + 0.040 + p,
            },
        ],
    }
    gateway: dict[str, Any] = {
        "id": ids["a"],
        "trace_id": tid,
        "name": "storefront-gateway",
        "origin": ECS,
        "start_time": start,
        "end_time": start + 0.060 + p,
        "http": {
            "request": {
                "method": method,
                "url": f"https://shop.example.com/orders/o-{number}",
                "client_ip": "10.0.0.7",
            },
            "response": {"status": 502 if failed else 200},
        },
        "subsegments": [
            {
                "id": ids["b"],
                "name": "orders-api",
                "namespace": "remote",
                "start_time": start + 0.005,
                "end_time": start + 0.055 + p,
            }
        ],
    }
    if user:
        gateway["user"] = user
    if failed:
        orders.update(fault=True, http={**orders["http"], "response": {"status": 500}})
        gateway["fault"] = True
    else:
        orders["http"] = {**orders["http"], "response": {"status": 200}}
    return [payments, orders, gateway]


def shop_traces() -> dict[int, list[dict[str, Any]]]:
    """Four requests inside [T0, T0 + 60] and one two hours before.

    1: all fine, payments-api calls the PSP (signed in as alice); 2: payments-api faults after 1.2341 s and the
    fault reaches the client (POST); 3: DynamoDB throttles orders-api, which retries and
    answers 200 (bob); 4: payments-api faults, orders-api handles it and answers 200;
    5: like 1, outside the window.
    """
    return {
        1: order_trace(1, T0 + 10, psp=True, amount=42.5, user="alice"),
        2: order_trace(2, T0 + 20, payments_seconds=1.2341, payments_fault=True, fault_propagates=True, method="POST"),
        3: order_trace(3, T0 + 30, dynamodb_throttled=True, express=True, user="bob"),
        4: order_trace(4, T0 + 40, payments_fault=True),
        5: order_trace(5, T0 - 7200, psp=True),
    }


def put(xray: Any, *documents: dict[str, Any]) -> None:
    answer = xray.put_trace_segments(TraceSegmentDocuments=[json.dumps(d) for d in documents])
    assert answer["UnprocessedTraceSegments"] == []


def put_shop(xray: Any) -> dict[int, str]:
    """Put the shop's traces (in one call each, as an X-Ray daemon batches them); their ids by number."""
    ids = {}
    for number, documents in shop_traces().items():
        put(xray, *documents)
        ids[number] = documents[0]["trace_id"]
    return ids
