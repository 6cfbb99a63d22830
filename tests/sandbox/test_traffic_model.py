"""The traffic model on its own (no sandbox): the call graph agrees with the catalog, the daily pattern,
the burst, the slow dependency, the saga's outcomes, determinism, and how history is cut into windows."""

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from sandbox import estate
from sandbox.estate import EstateError
from sandbox.traffic import history, model, rates
from sandbox.traffic.emit import MAX_METRIC_DATA, metric_chunks
from sandbox.traffic.metrics import summary, weighted_quantile
from sandbox.traffic.simulate import simulate

SEED = "test"
WEDNESDAY_AFTERNOON = datetime(2026, 6, 10, 15, 30, tzinfo=UTC)
WEDNESDAY_NIGHT = datetime(2026, 6, 10, 3, 30, tzinfo=UTC)


def _fingerprint(window):
    return (
        window.front_door,
        {name: (t.requests, t.faults, t.errors, t.throttles, t.samples) for name, t in window.components.items()},
        {name: (t.requests, t.faults, t.samples) for name, t in window.functions.items()},
        dict(window.tables),
        dict(window.queues),
        [(run.order_id, run.start, run.failures, run.states, run.outcome) for run in window.sagas],
        [(span.component.name, span.operation, span.start, span.end, span.status) for span in window.traces],
    )


def test_every_call_between_services_is_a_relation_of_the_catalog():
    documents = [doc for path in estate.catalog_files() for doc in yaml.safe_load_all(path.read_text()) if doc]
    components = {d["metadata"]["name"]: d["spec"] for d in documents if d["kind"] == "Component"}
    provider = {api: name for name, spec in components.items() for api in spec.get("providesApis", [])}

    def related(caller, callee):
        consumed = {provider.get(api) for api in components[caller].get("consumesApis", [])}
        depends = {ref.removeprefix("component:") for ref in components[caller].get("dependsOn", [])}
        return callee in consumed | depends

    edges = set()
    for component in model.load().components.values():
        for operation in component.operations.values():
            for call in operation.calls:
                if call.kind == "service":
                    edges.add((component.name, call.target))
                if call.then:
                    edges.add((component.name, call.then.service))
    # A queue's consumer is related to the sender the other way round when the sender owns no API of it.
    unrelated = {(a, b) for a, b in edges if not related(a, b) and not related(b, a)}

    assert len(edges) >= 10
    assert unrelated == set()


def test_the_model_refuses_a_call_to_an_operation_nobody_serves():
    cart = model.load().components["cart-service"]
    with pytest.raises(EstateError, match="cart-service has no operation 'DELETE /everything'"):
        cart.operation("DELETE /everything")


def test_the_same_seed_and_minute_give_the_same_traffic():
    first = simulate(SEED, WEDNESDAY_AFTERNOON)
    again = simulate(SEED, WEDNESDAY_AFTERNOON)
    other_seed = simulate("another", WEDNESDAY_AFTERNOON)
    next_minute = simulate(SEED, WEDNESDAY_AFTERNOON + timedelta(minutes=1))

    assert _fingerprint(first) == _fingerprint(again)
    assert _fingerprint(first) != _fingerprint(other_seed)
    assert _fingerprint(first) != _fingerprint(next_minute)


def test_nights_are_quiet_afternoons_busy_and_weekends_lighter():
    peak = model.load().front_door.peak_rpm
    night = rates.requests_in_minute(SEED, WEDNESDAY_NIGHT, peak)
    afternoon = rates.requests_in_minute(SEED, WEDNESDAY_AFTERNOON, peak)
    saturday = rates.load(WEDNESDAY_AFTERNOON + timedelta(days=3))

    assert night < afternoon / 5
    assert 0.9 * peak < afternoon < 1.1 * peak
    assert saturday == pytest.approx(rates.WEEKEND_FACTOR * rates.load(WEDNESDAY_AFTERNOON))
    day = [rates.load(WEDNESDAY_NIGHT.replace(hour=h, minute=0)) for h in range(24)]
    assert day.index(max(day)) == 15 and day.index(min(day)) == 4


def test_payments_api_answers_5xx_during_its_daily_burst_only():
    payments = model.load().components["payments-api"]
    start, end = rates.burst_window(SEED, "payments-api", WEDNESDAY_AFTERNOON.date(), payments.burst)
    during = simulate(SEED, start, int((end - start).total_seconds() // 60))
    before = simulate(SEED, start - timedelta(hours=2), 60)

    assert 4 <= (end - start).total_seconds() / 60 <= 8 and 13 <= start.hour < 17
    assert during.components["payments-api"].faults / during.components["payments-api"].requests > 0.4
    assert before.components["payments-api"].faults / before.components["payments-api"].requests < 0.02
    # The charges it fails are compensated by the saga.
    assert Counter(run.outcome for run in during.sagas)["compensated"] >= during.components["payments-api"].faults / 2
    assert rates.burst_window(SEED, "payments-api", start.date() + timedelta(days=1), payments.burst) != (start, end)


def test_inventory_service_is_slow_in_its_tail_because_of_its_table():
    window = simulate(SEED, WEDNESDAY_AFTERNOON, 30)

    def percentile(name, q):
        return weighted_quantile(sorted(window.components[name].samples), q)

    inventory_tail = percentile("inventory-service", 0.99) / percentile("inventory-service", 0.5)
    orders_tail = percentile("cart-service", 0.99) / percentile("cart-service", 0.5)
    assert percentile("inventory-service", 0.99) > 300  # ms
    assert inventory_tail > 2 * orders_tail


def test_the_saga_ends_in_every_outcome_mostly_committed():
    outcomes = Counter()
    for hour in range(48):
        window = simulate(SEED, WEDNESDAY_NIGHT + timedelta(hours=hour), 60, cap=60)
        outcomes.update(run.outcome for run in window.sagas)
        for run in window.sagas:
            expected_end = {"committed": "OrderCompleted", "waiting": "WaitForRestock", "compensated": "OrderFailed"}
            if run.outcome in expected_end:
                assert run.states[-1] == expected_end[run.outcome]
            if run.outcome == "compensation_failed":
                assert run.states[-1].startswith(estate.COMPENSATION_PREFIX)

    total = sum(outcomes.values())
    assert set(outcomes) == {"committed", "compensated", "compensation_failed", "failed", "waiting"}
    assert outcomes["committed"] / total > 0.85
    assert outcomes["compensated"] > outcomes["compensation_failed"]


def test_history_is_finer_in_the_last_day_and_covers_the_week_without_gaps():
    end = datetime(2026, 6, 10, 15, 33, tzinfo=UTC)
    windows = history.plan(end, 7)

    sizes = Counter(w.minutes for w in windows)
    # Minutes back to 09:30 (6 h and 3 min, to a multiple of 5), fives back to 15:30 the day before, then
    # half hours back to 15:30 a week before: the periods of the portal's 1 h/6 h, 24 h and 7 d charts.
    assert sizes == {1: 6 * 60 + 3, history.FINE_MINUTES: 18 * 12, history.COARSE_MINUTES: 6 * 48}
    assert windows[0].start == end - timedelta(minutes=1)  # newest first
    spans = sorted((w.start, w.start + timedelta(minutes=w.minutes)) for w in windows)
    assert all(a_end == b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    assert spans[-1][1] == end and spans[0][0] <= end - timedelta(days=7)
    assert all(w.start >= end - timedelta(hours=24, minutes=29) for w in windows if w.minutes < 30)
    assert all(w.start >= end - timedelta(hours=6, minutes=4) for w in windows if w.minutes == 1)
    assert all(w.start.minute % w.minutes == 0 for w in windows)
    assert history.plan(end, 0) == []


def test_a_latency_summary_keeps_the_percentiles_in_twenty_values():
    samples = [(float(ms), 1.0) for ms in range(1, 1001)]  # 1..1000 ms, one request each

    values, counts = summary(samples)

    assert sum(counts) == 20 and len(values) == 20
    expanded = sorted(v for v, c in zip(values, counts, strict=True) for _ in range(c))
    assert expanded[9] == 500.0  # nearest-rank p50 of the 20 samples: the 10th
    assert expanded[19] == 990.0  # p99: the 20th
    assert summary([(42.0, 3.0)]) == ([42.0], [1])
    assert summary([]) is None


def test_metric_data_go_in_calls_of_at_most_a_thousand():
    data = [{"MetricName": "Count", "Dimensions": [{"Name": "ApiName", "Value": "x"}], "Value": 1.0}] * 2500

    chunks = list(metric_chunks(data))

    assert [len(chunk) for chunk in chunks] == [MAX_METRIC_DATA, MAX_METRIC_DATA, 500]
