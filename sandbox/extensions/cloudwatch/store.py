"""The metric index: each metric series' datapoints in time order, found by bisection.

moto keeps every datapoint of a region in one list (and a `Values` entry with count n as n
copies), and GetMetricData scans that whole list once per period of every query: a dashboard's
500 queries over 7 days of the sandbox's history would take about half an hour. Here a series is
keyed by (namespace, metric name, dimension set, in any order) and keeps its datapoints in
parallel columns sorted by timestamp, so a query bisects to its time range and aggregates
column slices. The store lives in a moto `BackendDict`, so `mock_aws` and `/moto-api/reset`
empty it with the rest of moto; moto's own list stays empty (PutMetricData writes here only).
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left, bisect_right
from collections import ChainMap
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend

from sandbox.extensions.cloudwatch.statistics import Datum, Distribution

SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]


def series_key(namespace: str, metric_name: str, dimensions: Iterable[Any] | None) -> SeriesKey:
    """The key of a series; `dimensions` as the API names them ({"Name", "Value"}) or moto's Dimension objects."""
    pairs = []
    for dimension in dimensions or ():
        if isinstance(dimension, Mapping):
            pairs.append((str(dimension["Name"]), str(dimension.get("Value"))))
        else:
            pairs.append((str(dimension.name), str(dimension.value)))
    return (namespace, metric_name, tuple(sorted(pairs)))


def epoch(value: datetime | float | int | str) -> float:
    """Seconds since the epoch of a request timestamp (moto parses them as naive UTC datetimes)."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


class Series:
    """One metric series' datapoints, as columns sorted by timestamp."""

    __slots__ = (
        "distributions",
        "key",
        "last_put",
        "maximums",
        "minimums",
        "sample_counts",
        "sums",
        "times",
        "unit_names",
        "units",
        "version",
    )

    def __init__(self, key: SeriesKey):
        self.key = key
        self.times: list[float] = []
        self.units: list[str] = []
        self.sample_counts: list[float] = []
        self.sums: list[float] = []
        self.minimums: list[float] = []
        self.maximums: list[float] = []
        self.distributions: list[Distribution | None] = []
        self.unit_names: set[str] = set()
        self.version = 0  # grows with every datapoint: alarms re-evaluate when it moves
        self.last_put = 0.0  # wall-clock time of the last PutMetricData, for ListMetrics' RecentlyActive

    def __len__(self) -> int:
        return len(self.times)

    def add(self, datum: Datum) -> None:
        columns = (
            self.times,
            self.units,
            self.sample_counts,
            self.sums,
            self.minimums,
            self.maximums,
            self.distributions,
        )
        fields = (
            datum.timestamp,
            datum.unit,
            datum.sample_count,
            datum.sum,
            datum.minimum,
            datum.maximum,
            datum.distribution,
        )
        if not self.times or datum.timestamp >= self.times[-1]:
            for column, field in zip(columns, fields, strict=True):
                column.append(field)
        else:  # a late datapoint (a backfill): keep the columns sorted
            at = bisect_right(self.times, datum.timestamp)
            for column, field in zip(columns, fields, strict=True):
                column.insert(at, field)
        self.unit_names.add(datum.unit)
        self.version += 1
        self.last_put = time.time()

    def span(self, start: float, end: float) -> tuple[int, int]:
        """The index range of the datapoints with start <= timestamp < end."""
        return bisect_left(self.times, start), bisect_left(self.times, end)

    def in_unit(self, unit: str | None) -> Series | None:
        """This series restricted to datapoints put with `unit` (all when None); None when it has none."""
        if not unit or self.unit_names == {unit}:
            return self
        if unit not in self.unit_names:
            return None
        kept = Series(self.key)
        for index, datum_unit in enumerate(self.units):
            if datum_unit == unit:
                kept.add(self.datum(index))
        kept.version, kept.last_put = self.version, self.last_put
        return kept

    def datum(self, index: int) -> Datum:
        return Datum(
            self.times[index],
            self.units[index],
            self.sample_counts[index],
            self.sums[index],
            self.minimums[index],
            self.maximums[index],
            self.distributions[index],
        )


class MetricStore(BaseBackend):
    """The metric series of one account and region."""

    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.series: dict[SeriesKey, Series] = {}
        # The sandbox server answers requests on several threads; a put must not interleave
        # with a read of the same columns.
        self.lock = threading.RLock()
        self.version = 0  # grows with every datapoint stored
        self.last_answer: tuple[str, int, Any] | None = None  # GetMetricData's last (request, version, answer)

    def put(self, namespace: str, members: list[dict[str, Any]]) -> None:
        """Store PutMetricData's (validated) members; a member without a Timestamp is timed now."""
        now = time.time()
        with self.lock:
            for member in members:
                key = series_key(namespace, member["MetricName"], member.get("Dimensions"))
                series = self.series.get(key)
                if series is None:
                    series = self.series[key] = Series(key)
                timestamp = epoch(member["Timestamp"]) if member.get("Timestamp") else now
                series.add(Datum.from_member(member, timestamp))
                self.version += 1


metric_stores: BackendDict[MetricStore] = BackendDict(MetricStore, "cloudwatch")


def readable_series(store: MetricStore, cloudwatch_backend: Any) -> Mapping[SeriesKey, Series]:
    """The store's series, plus the metrics moto's services publish themselves (S3's bucket sizes).

    moto computes those on the fly (`CloudWatchMetricProvider`), so they are indexed per request.
    """
    provided = cloudwatch_backend.aws_metric_data
    if not provided:
        return store.series
    extra: dict[SeriesKey, Series] = {}
    for metric in provided:
        key = series_key(metric.namespace, metric.name, metric.dimensions)
        series = extra.get(key)
        if series is None:
            series = extra[key] = Series(key)
        value = float(metric.value)
        series.add(
            Datum(
                epoch(metric.timestamp), metric.unit or "None", 1.0, value, value, value, Distribution((value,), None)
            )
        )
    return ChainMap(store.series, extra)
