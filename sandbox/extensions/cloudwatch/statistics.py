"""CloudWatch statistics over a period's datapoints, percentiles included.

A stored datapoint (`Datum`) keeps what CloudWatch keeps of one PutMetricData member: its sample
count, sum, minimum and maximum, and, when there is one, its distribution of values. A single
`Value` is the distribution {value: 1}; `Values` + `Counts` is {value: count} (a value put with
count 5 weighs 5); a `StatisticValues` set has no distribution, unless all its samples are equal
(Minimum == Maximum and Sum == Minimum x SampleCount), which is the case in which CloudWatch can
still answer percentiles for it.

Percentiles use the nearest-rank definition: for a period holding N samples (N = the sum of the
counts), pNN is the smallest value v such that at least NN% of the N samples are <= v, i.e. the
sample of rank ceil(NN/100 x N) in ascending order (p0 is the minimum, p100 the maximum). So with
the values 1..100 once each, p50 = 50, p99 = 99 and p99.9 = 100. As in CloudWatch, a period has
no percentile when any of its datapoints has no distribution (a statistic set of unequal samples)
or when any value is negative: GetMetricData then leaves that period out of the percentile's
series and GetMetricStatistics leaves the percentile out of the period's datapoint.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from sandbox.extensions.cloudwatch.store import Series

BASIC_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"^p(\d{1,3}(?:\.\d+)?)$")


class Distribution(NamedTuple):
    values: tuple[float, ...]
    counts: tuple[float, ...] | None  # None: each value counted once

    @classmethod
    def of(cls, values: tuple[float, ...], counts: tuple[float, ...]) -> Distribution:
        return cls(values, None if all(count == 1.0 for count in counts) else counts)


class Datum(NamedTuple):
    """One PutMetricData member as stored: its aggregate, and its distribution when it has one."""

    timestamp: float  # epoch seconds
    unit: str
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    distribution: Distribution | None

    @classmethod
    def from_member(cls, member: dict, timestamp: float) -> Datum:
        """The datum PutMetricData's `member` (already validated, as boto3 names its fields) stands for."""
        unit = member.get("Unit") or "None"
        if member.get("Values"):
            values = [float(v) for v in member["Values"]]
            counts = [float(c) for c in member.get("Counts") or [1.0] * len(values)]
            kept = [(v, c) for v, c in zip(values, counts, strict=True) if c > 0]
            if not kept:
                return cls(timestamp, unit, 0.0, 0.0, math.inf, -math.inf, Distribution((), None))
            return cls(
                timestamp,
                unit,
                math.fsum(c for _, c in kept),
                math.fsum(v * c for v, c in kept),
                min(v for v, _ in kept),
                max(v for v, _ in kept),
                Distribution.of(tuple(v for v, _ in kept), tuple(c for _, c in kept)),
            )
        if member.get("StatisticValues"):
            stats = member["StatisticValues"]
            count, total = float(stats["SampleCount"]), float(stats["Sum"])
            low, high = float(stats["Minimum"]), float(stats["Maximum"])
            equal_samples = low == high and math.isclose(total, low * count, rel_tol=1e-12, abs_tol=1e-12)
            distribution = Distribution.of((low,), (count,)) if equal_samples and count > 0 else None
            return cls(timestamp, unit, count, total, low, high, distribution)
        value = float(member.get("Value", 0.0))
        return cls(timestamp, unit, 1.0, value, value, value, Distribution((value,), None))


@dataclass(frozen=True)
class Statistic:
    """A statistic as the API names it: one of BASIC_STATISTICS, or a percentile "pNN.NN"."""

    name: str
    percentile: float | None = None

    @classmethod
    def parse(cls, name: str) -> Statistic | None:
        """The statistic called `name`, or None when the sandbox does not compute it."""
        if name in BASIC_STATISTICS:
            return cls(name)
        match = _PERCENTILE.match(name or "")
        if match and 0.0 <= float(match.group(1)) <= 100.0:
            return cls(name, float(match.group(1)))
        return None

    def over(self, series: Series) -> Callable[[int, int], float | None]:
        """A function of (i, j): this statistic of `series`' datapoints i..j-1 (one period), None when it has none.

        One closure per query and statistic: a dashboard computes ~84,000 periods a call, and this
        keeps each to a slice and one C-level reduction.
        """
        fsum = math.fsum
        if self.percentile is not None:
            distributions, rank_percent = series.distributions, self.percentile
            return lambda i, j: percentile(distributions[i:j], rank_percent)
        counts, sums = series.sample_counts, series.sums
        if self.name == "SampleCount":
            return lambda i, j: fsum(counts[i:j])
        if self.name == "Sum":
            return lambda i, j: fsum(sums[i:j])
        if self.name == "Average":

            def average(i: int, j: int) -> float | None:
                count = fsum(counts[i:j])
                return fsum(sums[i:j]) / count if count else None

            return average
        # A Values datum whose counts are all zero holds no sample: its minimum is +inf, its maximum -inf.
        if self.name == "Minimum":
            minimums = series.minimums
            return lambda i, j: _finite(min(minimums[i:j]))
        maximums = series.maximums
        return lambda i, j: _finite(max(maximums[i:j]))

    def of(self, series: Series, i: int, j: int) -> float | None:
        return self.over(series)(i, j) if i < j else None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def percentile(distributions: list[Distribution | None], rank_percent: float | None) -> float | None:
    """The nearest-rank `rank_percent` percentile of the samples of `distributions` (see the module docstring)."""
    if rank_percent is None or None in distributions:
        return None
    values: list[float] = []
    weighted = False
    for distribution in distributions:
        values += distribution.values  # type: ignore[union-attr]
        weighted = weighted or distribution.counts is not None  # type: ignore[union-attr]
    if not values:
        return None
    # The tolerance keeps a float product such as 99.9 x 1000 / 100 from stepping over an exact rank.
    if not weighted:  # every value counted once: the common case, and a plain sort
        values.sort()
        if values[0] < 0:
            return None
        rank = math.ceil(rank_percent * len(values) / 100.0 - 1e-9 * len(values))
        return values[min(max(rank, 1), len(values)) - 1]
    counts: list[float] = []
    for distribution in distributions:
        counts += distribution.counts or (1.0,) * len(distribution.values)  # type: ignore[union-attr]
    order = sorted(range(len(values)), key=values.__getitem__)
    if values[order[0]] < 0:
        return None
    # Rank ceil(p/100 x N) is the first sample whose running count reaches p/100 x N.
    total = math.fsum(counts)
    target = rank_percent * total / 100.0 - 1e-9 * max(total, 1.0)
    running = 0.0
    for index in order:
        running += counts[index]
        if running >= target:
            return values[index]
    return values[order[-1]]
