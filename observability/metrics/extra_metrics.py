"""The `meridian.io/cloudwatch-metrics` annotation: more CloudWatch metrics on an entity's Metrics tab.

One metric per line (or separated by `;`), `#` starts a comment line:

    metadata:
      annotations:
        meridian.io/cloudwatch-metrics: |
          AWS/SQS ApproximateNumberOfMessagesVisible{QueueName=orders-dlq} Maximum
          Meridian/Orders OrdersPlaced{Service=orders-api,Env=prod} Sum,p99 Count

    <Namespace> <MetricName>[{<Dimension>=<Value>,...}] <Stat>[,<Stat>...] [<Unit>]

- Stat: Average, Sum, Minimum, Maximum, SampleCount, or a percentile p0..p100 (p99, p99.9).
- Unit (optional, for the chart's axis): a CloudWatch unit name such as Count, Percent,
  Milliseconds, Seconds, Bytes or Count/Second.
- Dimension values cannot hold spaces, commas or `}`; a metric without dimensions is written
  without braces.
- The metrics are read in the entity's account and region (its `amazonaws.com/account-id` and
  `meridian.io/aws-region` annotations; for a Component without them, those of its linked AWS
  resources when they are all in one account and region).

At most MAX_ENTRIES metrics. A line with a mistake is reported on the Metrics tab (line number,
what is wrong, what is expected) and the other lines are still charted.
"""

import re
from dataclasses import dataclass, field

from catalog.annotations import CLOUDWATCH_METRICS_ANNOTATION

MAX_ENTRIES = 20
MAX_DIMENSIONS = 30  # CloudWatch's own limit per metric
MAX_STATS = 5

_NAME = re.compile(r"^[A-Za-z0-9_.\-/#:]{1,255}$")
_ENTRY = re.compile(r"^(?P<metric>[^\s{}]+)(?:\{(?P<dims>[^{}]*)\})?$")
_PERCENTILE = re.compile(r"^p(100(\.0+)?|\d{1,2}(\.\d{1,2})?)$")
STATISTICS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
UNITS = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)
SYNTAX = "<Namespace> <MetricName>[{<Dimension>=<Value>,...}] <Stat>[,<Stat>...] [<Unit>]"


@dataclass(frozen=True)
class ExtraMetric:
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]  # in the order written (see observability.metrics.panels._dims)
    stats: tuple[str, ...]
    unit: str = ""


@dataclass
class ParsedMetrics:
    metrics: list[ExtraMetric] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def is_statistic(stat: str) -> bool:
    return stat in STATISTICS or bool(_PERCENTILE.match(stat))


def parse_metrics_annotation(value) -> ParsedMetrics:
    """Parse the annotation's value; every mistake is an error naming its line, the rest is kept."""
    parsed = ParsedMetrics()
    if value is None or value == "":
        return parsed
    if not isinstance(value, str):
        parsed.errors.append(f"{CLOUDWATCH_METRICS_ANNOTATION} must be text, one metric per line: {SYNTAX}.")
        return parsed
    entries = [
        (number, entry.strip())
        for number, line in enumerate(value.splitlines(), start=1)
        for entry in line.split(";")
        if entry.strip() and not entry.strip().startswith("#")
    ]
    if len(entries) > MAX_ENTRIES:
        parsed.errors.append(
            f"{CLOUDWATCH_METRICS_ANNOTATION} lists {len(entries)} metrics; "
            f"at most {MAX_ENTRIES} are charted (the first ones)."
        )
        entries = entries[:MAX_ENTRIES]
    for number, entry in entries:
        try:
            parsed.metrics.append(_parse_entry(entry))
        except ValueError as problem:
            parsed.errors.append(f"{CLOUDWATCH_METRICS_ANNOTATION} line {number} ({entry[:120]!r}): {problem}")
    return parsed


def _parse_entry(entry: str) -> ExtraMetric:
    tokens = entry.split()
    if not 3 <= len(tokens) <= 4:
        raise ValueError(f"expected {SYNTAX}, separated by spaces (found {len(tokens)} parts).")
    namespace, metric_part, stats_part = tokens[:3]
    unit = tokens[3] if len(tokens) == 4 else ""
    if not _NAME.match(namespace) or namespace.startswith(":"):
        raise ValueError(f"{namespace!r} is not a CloudWatch namespace (e.g. AWS/SQS or MyApp/Orders).")
    found = _ENTRY.match(metric_part)
    if not found or not _NAME.match(found.group("metric")):
        raise ValueError(
            f"{metric_part!r} is not a metric name with optional dimensions, e.g. "
            "ApproximateAgeOfOldestMessage{QueueName=orders}."
        )
    dimensions = _parse_dimensions(found.group("dims"))
    stats = tuple(s for s in stats_part.split(",") if s)
    bad = [s for s in stats if not is_statistic(s)]
    if bad or not stats:
        raise ValueError(
            f"{', '.join(repr(s) for s in bad) or repr(stats_part)} is not a statistic: use "
            f"{', '.join(STATISTICS)} or a percentile such as p50, p99 or p99.9."
        )
    if len(stats) > MAX_STATS or len(set(stats)) != len(stats):
        raise ValueError(f"give up to {MAX_STATS} different statistics, separated by commas.")
    if unit and unit not in UNITS:
        raise ValueError(f"{unit!r} is not a CloudWatch unit (e.g. Count, Percent, Milliseconds, Seconds, Bytes).")
    return ExtraMetric(namespace, found.group("metric"), dimensions, stats, unit)


def _parse_dimensions(text: str | None) -> tuple[tuple[str, str], ...]:
    if text is None:
        return ()
    if not text.strip():
        raise ValueError("empty braces: list dimensions as {Name=Value,Name2=Value2}, or leave the braces out.")
    pairs: dict[str, str] = {}
    for item in text.split(","):
        name, sep, val = item.partition("=")
        name, val = name.strip(), val.strip()
        if not sep or not name or not val:
            raise ValueError(f"dimension {item.strip()!r} is not Name=Value.")
        if not _NAME.match(name) or len(val) > 1024:
            raise ValueError(f"dimension {item.strip()!r}: names are up to 255 letters, digits and ._-/#:.")
        if name in pairs:
            raise ValueError(f"dimension {name} is given twice.")
        pairs[name] = val
    if len(pairs) > MAX_DIMENSIONS:
        raise ValueError(f"a metric has at most {MAX_DIMENSIONS} dimensions.")
    return tuple(pairs.items())
