"""X-Ray data for the observability tests: the shop of tests/sandbox/xray_shop.py put at a given time (now, for
pages), its catalog, and a synthetic estate of any size.

The shop: client → storefront-gateway → orders-api → DynamoDB table `orders`
                                                  → payments-api (→ psp.example.com)
Request 1 is fine (payments-api calls the PSP), 2 faults all the way to the client, 3 has a throttled
DynamoDB call, 4 has a payments-api fault that orders-api handles.

Its catalog (`shop_catalog`) declares storefront-gateway → orders-api (dependsOn) and orders-api →
orders-table (dependsOn; the table carries the X-Ray name "orders") and orders-api → order-saga (never
called), but not orders-api → payments-api: the call X-Ray shows and the catalog does not declare.
"""

import json
from itertools import pairwise

import boto3

from catalog import services
from portal.actors import Actor
from sandbox.seed import SANDBOX_CREDENTIALS
from tests.sandbox.xray_shop import ECS, order_trace

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"  # what the sandbox answers for credentials it does not know
XRAY_NAME = "meridian.io/xray-service-name"


def xray_client(endpoint: str, region: str = REGION, credentials: dict | None = None):
    return boto3.client("xray", region_name=region, endpoint_url=endpoint, **(credentials or SANDBOX_CREDENTIALS))


def assumed_credentials(endpoint: str, role_arn: str) -> dict:
    """Credentials in the role's account, for putting segments there (the sandbox's STS acts in it)."""
    sts = boto3.client("sts", region_name=REGION, endpoint_url=endpoint, **SANDBOX_CREDENTIALS)
    assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="tests")["Credentials"]
    return {
        "aws_access_key_id": assumed["AccessKeyId"],
        "aws_secret_access_key": assumed["SecretAccessKey"],
        "aws_session_token": assumed["SessionToken"],
    }


def put(xray, *documents: dict) -> None:
    for begin in range(0, len(documents), 500):
        batch = [json.dumps(d) for d in documents[begin : begin + 500]]
        assert xray.put_trace_segments(TraceSegmentDocuments=batch)["UnprocessedTraceSegments"] == []


def put_shop(xray, base: float) -> dict[int, str]:
    """The shop's four requests at base + 10, 20, 30, 40 seconds; their trace ids by number."""
    traces = {
        1: order_trace(1, base + 10, psp=True, amount=42.5, user="alice"),
        2: order_trace(
            2, base + 20, payments_seconds=1.2341, payments_fault=True, fault_propagates=True, method="POST"
        ),
        3: order_trace(3, base + 30, dynamodb_throttled=True, express=True, user="bob"),
        4: order_trace(4, base + 40, payments_fault=True),
    }
    for documents in traces.values():
        put(xray, *documents)
    return {number: documents[0]["trace_id"] for number, documents in traces.items()}


def _doc(kind: str, name: str, *, annotations=None, **spec) -> dict:
    metadata = {"name": name}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": metadata, "spec": spec}


def shop_catalog(*, orders_api_extra: dict | None = None) -> dict:
    """The shop's entities (teams team-orders and team-payments must exist); by name."""
    actor = Actor.for_system("tests")
    documents = [
        _doc("Group", "team-orders", type="team", children=[]),
        _doc("Group", "team-payments", type="team", children=[]),
        _doc("System", "commerce", owner="group:team-orders"),
        _doc("System", "payments", owner="group:team-payments"),
        _doc(
            "Component",
            "storefront-gateway",
            type="service",
            lifecycle="production",
            owner="team-orders",
            system="commerce",
            dependsOn=["component:orders-api"],
        ),
        _doc("Component", "order-saga", type="service", lifecycle="production", owner="team-orders", system="commerce"),
        _doc(
            "Resource",
            "orders-table",
            annotations={XRAY_NAME: "orders"},
            type="dynamodb-table",
            owner="team-orders",
            system="commerce",
        ),
        _doc(
            "Component",
            "orders-api",
            type="service",
            lifecycle="production",
            owner="team-orders",
            system="commerce",
            dependsOn=["component:order-saga", "resource:orders-table"],
            **(orders_api_extra or {}),
        ),
        _doc("API", "payments", type="openapi", lifecycle="production", owner="team-payments", definition="{}"),
        _doc(
            "Component",
            "payments-api",
            type="service",
            lifecycle="production",
            owner="team-payments",
            system="payments",
            providesApis=["payments"],
        ),
    ]
    return {doc["metadata"]["name"]: services.entity_create(actor=actor, document=doc) for doc in documents}


# --- a synthetic estate of any size -------------------------------------------------------------------------


def estate_names(services_count: int) -> list[str]:
    return [f"svc-{number:03d}" for number in range(services_count)]


def estate_calls(services_count: int) -> list[tuple[str, str]]:
    """Who calls whom in a layered estate: a gateway (svc-000) calls the first tier, every service calls two of the
    next tier, deterministic; about 2 calls a service, no cycles."""
    names = estate_names(services_count)
    tiers = [names[:1]]
    rest = names[1:]
    width = 3
    while rest:
        tiers.append(rest[:width])
        rest = rest[width:]
        width = min(width * 2, 16)
    calls = []
    for upper, lower in pairwise(tiers):
        for index, callee in enumerate(lower):
            calls.append((upper[index % len(upper)], callee))
            calls.append((upper[(index * 7 + 3) % len(upper)], callee))
    return sorted(set(calls))


def estate_trace(number: int, start: float, calls: list[tuple[str, str]], *, fault_every: int = 0) -> list[dict]:
    """One request through the estate making every call of `calls` once: each call is a remote subsegment of the
    caller with the callee's segment under it; a service called twice goes on calling others the first time only.
    The first caller is the root. Every `fault_every`-th trace faults at one of the services nothing calls after."""
    tid = f"1-{int(start):08x}-{number:024x}"
    ids = iter(f"{number:08x}{n:08x}" for n in range(100_000))
    out: dict[str, list[str]] = {}
    for caller, callee in calls:
        out.setdefault(caller, []).append(callee)
    faulty_leaf = None
    if fault_every and number % fault_every == 0:
        leaves = sorted({callee for _, callee in calls} - set(out))
        faulty_leaf = leaves[number % len(leaves)] if leaves else None
    documents: list[dict] = []
    expanded: set[str] = set()

    def visit(name: str, parent: str | None, at: float) -> None:
        document = {
            "id": next(ids),
            "trace_id": tid,
            "name": name,
            "origin": ECS,
            "start_time": at,
            "end_time": at + 0.02,
            "http": {"request": {"method": "GET", "url": f"http://{name}/"}, "response": {"status": 200}},
            "subsegments": [],
        }
        if parent:
            document["parent_id"] = parent
        if name == faulty_leaf:
            document.update(fault=True, http={**document["http"], "response": {"status": 500}})
        documents.append(document)
        if name in expanded:
            return
        expanded.add(name)
        for callee in out.get(name, []):
            call = {"id": next(ids), "name": callee, "namespace": "remote", "start_time": at + 0.001}
            call["end_time"] = at + 0.019
            document["subsegments"].append(call)
            visit(callee, call["id"], at + 0.002)

    visit(calls[0][0] if calls else "svc-000", None, start)
    return documents
