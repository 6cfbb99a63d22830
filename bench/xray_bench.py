"""X-Ray on the sandbox at a week of traces: how long the read APIs take (sandbox.extensions.xray_graphs).

    python bench/xray_bench.py [--traces 20000] [--days 7]

Starts the sandbox server in this process, puts `--traces` traces of 8 segments each (an order
request through storefront-gateway, orders-api, payments-api, inventory-api, pricing-api,
shipping-api, catalog-api and a notify Lambda, with DynamoDB, SNS, S3 and an un-instrumented PSP
as inferred nodes; 2% faults, 1% throttled DynamoDB calls) spread evenly over `--days` days,
100 traces a PutTraceSegments call, then times the calls the portal makes through boto3 and
prints a table (ms, best and worst of 3 runs, the first run of each included).
"""

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.seed import SANDBOX_CREDENTIALS  # noqa: E402
from sandbox.server import SandboxServer  # noqa: E402

ECS = "AWS::ECS::Container"


def _segment(ids, tid, name, parent, start, duration, *, origin=ECS, fault=False, subsegments=()):
    document = {
        "id": next(ids),
        "trace_id": tid,
        "name": name,
        "origin": origin,
        "start_time": start,
        "end_time": start + duration,
        "http": {"request": {"method": "GET", "url": f"http://{name}/"}, "response": {"status": 500 if fault else 200}},
        "subsegments": list(subsegments),
    }
    if parent:
        document["parent_id"] = parent
    if fault:
        document["fault"] = True
    return document


def _call(ids, name, start, duration, namespace="remote", **extra):
    return {
        "id": next(ids),
        "name": name,
        "namespace": namespace,
        "start_time": start,
        "end_time": start + duration,
        **extra,
    }


def order_trace(number, start, rng):
    """One request's 8 segments, each service calling the next, as the instrumented services would put them."""
    counter = iter(f"{number:08x}{n:08x}" for n in range(100))
    tid = f"1-{int(start):08x}-{number:024x}"
    fault = rng.random() < 0.02
    throttled = rng.random() < 0.01
    d = [rng.lognormvariate(-3.5, 0.6) for _ in range(8)]  # ~30 ms each
    documents = []

    def child(name, caller_calls, at, duration, **kwargs):
        call = _call(counter, name, at, duration + 0.002)
        caller_calls.append(call)
        documents.append(_segment(counter, tid, name, call["id"], at + 0.001, duration, **kwargs))
        return documents[-1]

    gateway_calls, orders_calls = [], []
    dynamodb = _call(counter, "DynamoDB", start + 0.01, d[0] / 3, namespace="aws", aws={"table_name": "orders"})
    if throttled:
        dynamodb.update(throttle=True, error=True)
    orders_calls.append(dynamodb)
    payments = child("payments-api", orders_calls, start + 0.02, d[1], fault=fault)
    payments["subsegments"].append(_call(counter, "psp.example.com", start + 0.025, d[1] / 2))
    inventory = child("inventory-api", orders_calls, start + 0.02, d[2])
    inventory["subsegments"].append(
        _call(counter, "DynamoDB", start + 0.022, d[2] / 3, namespace="aws", aws={"table_name": "inventory"})
    )
    child("pricing-api", orders_calls, start + 0.02, d[3])
    child("shipping-api", orders_calls, start + 0.02, d[4])
    notify = child("notify", orders_calls, start + 0.02, d[5], origin="AWS::Lambda::Function")
    notify["subsegments"].append(
        _call(counter, "SNS", start + 0.021, d[5] / 2, namespace="aws", aws={"topic_arn": "arn:aws:sns:x:1:orders"})
    )
    span = 0.03 + max(d[1:6])
    child("orders-api", gateway_calls, start + 0.005, span, fault=fault, subsegments=orders_calls)
    catalog = child("catalog-api", gateway_calls, start + 0.004, d[6])
    catalog["subsegments"].append(
        _call(counter, "S3", start + 0.005, d[6] / 2, namespace="aws", aws={"bucket_name": "catalog"})
    )
    documents.append(
        _segment(counter, tid, "storefront-gateway", None, start, span + 0.01, fault=fault, subsegments=gateway_calls)
    )
    return documents


def timed(label, call, runs=3):
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        answer = call()
        times.append((time.perf_counter() - began) * 1000)
    print(f"| {label} | {min(times):.0f} | {max(times):.0f} |")
    return answer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=20_000)
    parser.add_argument("--days", type=float, default=7)
    args = parser.parse_args()
    rng = random.Random(7)

    with SandboxServer() as endpoint:
        xray = boto3.client("xray", region_name="eu-west-1", endpoint_url=endpoint, **SANDBOX_CREDENTIALS)
        end = time.time()
        begin = end - args.days * 86400
        step = (end - begin) / args.traces
        began = time.perf_counter()
        batch = []
        for number in range(args.traces):
            batch.extend(json.dumps(d) for d in order_trace(number, begin + number * step, rng))
            if len(batch) >= 800 or number == args.traces - 1:
                assert xray.put_trace_segments(TraceSegmentDocuments=batch)["UnprocessedTraceSegments"] == []
                batch = []
        put_seconds = time.perf_counter() - began
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{args.traces} traces ({args.traces * 8} segments) over {args.days:g} days")
        rate = args.traces * 8 / put_seconds
        print(f"PutTraceSegments: {put_seconds:.1f} s ({rate:.0f} segments/s); max RSS {rss:.0f} MiB")
        print("| call | best ms | worst ms |\n|---|---|---|")
        graph = timed("GetServiceGraph, 7 days", lambda: xray.get_service_graph(StartTime=begin, EndTime=end))
        timed("GetServiceGraph, last hour", lambda: xray.get_service_graph(StartTime=end - 3600, EndTime=end))
        hour = timed(
            "GetTraceSummaries, last hour, no filter",
            lambda: xray.get_trace_summaries(StartTime=end - 3600, EndTime=end),
        )
        timed(
            'GetTraceSummaries, 7 days, service("payments-api") {fault}',
            lambda: xray.get_trace_summaries(
                StartTime=begin, EndTime=end, FilterExpression='service("payments-api") {fault}'
            ),
        )
        timed(
            "GetTraceSummaries, 7 days, 100 first of all (no filter)",
            lambda: xray.get_trace_summaries(StartTime=begin, EndTime=end),
        )
        ids = [s["Id"] for s in hour["TraceSummaries"][:5]]
        timed("GetTraceGraph, 5 traces", lambda: xray.get_trace_graph(TraceIds=ids))
        timed("BatchGetTraces, 5 traces", lambda: xray.batch_get_traces(TraceIds=ids))
        print(
            f"7-day graph: {len(graph['Services'])} services, "
            f"{sum(len(s['Edges']) for s in graph['Services'])} edges, "
            f"{sum(s.get('SummaryStatistics', {}).get('TotalCount', 0) for s in graph['Services'])} calls"
        )


if __name__ == "__main__":
    main()
