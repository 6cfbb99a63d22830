"""What the Metrics tab and the dashboards show: the queries of their charts, fetched together, and the charts.

Every page builds all its queries first and fetches them in one `fetch_series` (so one dashboard of
50 services is one or a few GetMetricData calls), then turns the answers into panels, each saying
when its data was fetched and whether it is stale.

- The Metrics tab of an entity charts every golden-signal metric of its resources (one panel a
  metric, one line a statistic, the thresholds of the alarms on that metric drawn across), and
  the metrics of its `meridian.io/cloudwatch-metrics` annotation.
- A dashboard (a team's or a system's services) charts one series per service and signal (the
  table's `dashboard` series of the service's first resource that has that signal): one chart per
  signal and unit, one line per service.
"""

from dataclasses import dataclass, field
from datetime import datetime

from catalog.annotations import ACCOUNT_ANNOTATION, CLOUDWATCH_METRICS_ANNOTATION, REGION_ANNOTATION
from catalog.models import Entity
from observability.metrics import selectors
from observability.metrics.charts import TO_MILLISECONDS, Line, Threshold, figure
from observability.metrics.dimensions import DimensionsUnknown, ResourceRef, metric_dimensions
from observability.metrics.extra_metrics import parse_metrics_annotation
from observability.metrics.golden_signals import LATENCY, OTHER, SIGNAL_LABELS, SIGNALS, TYPE_PRIORITY, signals_for
from observability.metrics.selectors import AlarmSummary, LinkedService
from observability.metrics.series import FetchNotice, SeriesQuery, SeriesResult, fetch_series
from observability.models import Alarm
from observability.timeranges import Window


@dataclass
class Panel:
    dom_id: str
    title: str
    subtitle: str
    signal: str
    unit: str
    figure: dict
    fetched_at: datetime | None
    stale: bool
    errors: list[str]
    has_data: bool
    thresholds: list[Threshold] = field(default_factory=list)

    @property
    def figure_id(self) -> str:
        return f"{self.dom_id}-figure"


@dataclass
class Section:
    signal: str
    label: str
    panels: list[Panel]


@dataclass
class _Spec:
    title: str
    subtitle: str
    signal: str
    unit: str
    lines: list[tuple[str, SeriesQuery, float]]  # (legend name, query, scale)
    thresholds: list[Threshold] = field(default_factory=list)


@dataclass
class MetricsView:
    window: Window
    sections: list[Section]
    problems: list[str]
    notices: list[FetchNotice]
    alarms: list[Alarm]
    queries: int


def _threshold(alarm: Alarm) -> Threshold | None:
    if alarm.threshold is None:
        return None
    stat = f"{alarm.statistic} " if alarm.statistic else ""
    label = f"{alarm.name}: {stat}{alarm.comparison_symbol} {alarm.threshold:g} ({alarm.get_state_display()})"
    return Threshold(value=alarm.threshold, label=label, state=alarm.state)


def _dims(dimensions: dict[str, str]) -> tuple[tuple[str, str], ...]:
    # In the table's order (TargetGroup before LoadBalancer), not sorted: CloudWatch does not mind the order, but
    # moto 5.2.5 compares dimension lists in the order they were put (its Dimension.__lt__ is broken), and the
    # sandbox puts them in the contract's order.
    return tuple(dimensions.items())


def _resource_specs(refs: list[ResourceRef], lookups: dict, alarms: list[Alarm], problems: list[str]) -> list[_Spec]:
    specs = []
    for ref in refs:
        row = signals_for(ref.resource_type)
        if row is None:
            continue
        try:
            dimensions = _dims(metric_dimensions(ref, lookups))
        except DimensionsUnknown as exc:
            problems.append(str(exc))
            continue
        for metric in row.metrics:
            thresholds = [
                t
                for a in alarms
                if a.resource_arn == ref.arn and a.namespace == row.namespace and a.metric_name == metric.metric
                if (t := _threshold(a))
            ]
            specs.append(
                _Spec(
                    title=f"{ref.label} · {metric.metric}",
                    subtitle=f"{row.namespace} · {ref.resource_type} · {ref.region}",
                    signal=metric.signal,
                    unit=metric.unit,
                    lines=[
                        (
                            stat,
                            SeriesQuery(ref.account_id, ref.region, row.namespace, metric.metric, dimensions, stat),
                            1.0,
                        )
                        for stat in metric.stats
                    ],
                    thresholds=thresholds,
                )
            )
    return specs


def _annotation_specs(entity: Entity, refs: list[ResourceRef], alarms: list[Alarm], problems: list[str]):
    parsed = parse_metrics_annotation(entity.annotations.get(CLOUDWATCH_METRICS_ANNOTATION))
    problems.extend(parsed.errors)
    if not parsed.metrics:
        return []
    account = str(entity.annotations.get(ACCOUNT_ANNOTATION) or "")
    region = str(entity.annotations.get(REGION_ANNOTATION) or "")
    if not (account and region):
        places = {(ref.account_id, ref.region) for ref in refs}
        if len(places) != 1:
            problems.append(
                f"{CLOUDWATCH_METRICS_ANNOTATION}: say which account and region to read the metrics in, "
                f"with the annotations {ACCOUNT_ANNOTATION} and {REGION_ANNOTATION} ("
                + ("its AWS resources are in several" if places else "it has no linked AWS resources to take them from")
                + ")."
            )
            return []
        account, region = account or next(iter(places))[0], region or next(iter(places))[1]
    specs = []
    for extra in parsed.metrics:
        thresholds = [
            t
            for a in alarms
            if (a.namespace, a.metric_name, sorted(a.dimensions.items()))
            == (extra.namespace, extra.metric, sorted(extra.dimensions))
            if (t := _threshold(a))
        ]
        where = ", ".join(f"{n}={v}" for n, v in extra.dimensions) or "no dimensions"
        specs.append(
            _Spec(
                title=extra.metric,
                subtitle=f"{extra.namespace} · {where} · {region}",
                signal=OTHER,
                unit=extra.unit,
                lines=[
                    (stat, SeriesQuery(account, region, extra.namespace, extra.metric, extra.dimensions, stat), 1.0)
                    for stat in extra.stats
                ],
                thresholds=thresholds,
            )
        )
    return specs


def _panel(index: int, spec: _Spec, results: dict[SeriesQuery, SeriesResult], window: Window) -> Panel:
    answers = [results.get(query, SeriesResult()) for _, query, _ in spec.lines]
    lines = [
        Line(name=name, timestamps=answer.timestamps, values=answer.values, scale=scale)
        for (name, _, scale), answer in zip(spec.lines, answers, strict=True)
    ]
    fetched = [a.fetched_at for a in answers if a.fetched_at]
    return Panel(
        dom_id=f"metric-chart-{index}",
        title=spec.title,
        subtitle=spec.subtitle,
        signal=spec.signal,
        unit=spec.unit,
        figure=figure(lines, unit=spec.unit, window=window, thresholds=spec.thresholds),
        fetched_at=min(fetched) if fetched else None,
        stale=any(a.stale for a in answers),
        errors=sorted({a.error for a in answers if a.error}),
        has_data=any(a.values for a in answers),
        thresholds=spec.thresholds,
    )


def _sections(panels: list[Panel]) -> list[Section]:
    return [
        Section(signal=s, label=SIGNAL_LABELS[s], panels=[p for p in panels if p.signal == s])
        for s in (*SIGNALS, OTHER)
        if any(p.signal == s for p in panels)
    ]


def entity_metrics(entity: Entity, window: Window) -> MetricsView:
    """The Metrics tab: its resources (one query), their dimension lookups (one, if needed), their alarms (one),
    then the series (the cache, then AWS)."""
    refs = selectors.entity_resources(entity)
    lookups = selectors.dimension_lookups(refs)
    alarms = selectors.alarms_for(ref.arn for ref in refs)
    problems: list[str] = []
    specs = _resource_specs(refs, lookups, alarms, problems) + _annotation_specs(entity, refs, alarms, problems)
    queries = [query for spec in specs for _, query, _ in spec.lines]
    fetched = fetch_series(queries, window)
    panels = [_panel(i, spec, fetched.results, window) for i, spec in enumerate(specs)]
    return MetricsView(
        window=window,
        sections=_sections(panels),
        problems=problems,
        notices=fetched.notices,
        alarms=alarms,
        queries=len(set(queries)),
    )


# --- dashboards -------------------------------------------------------------------------------------------------


@dataclass
class ServiceRow:
    service: LinkedService
    alarms: AlarmSummary
    series: dict[str, str]  # signal -> "orders-api · RequestCount Sum"


@dataclass
class DashboardView:
    window: Window
    sections: list[Section]
    rows: list[ServiceRow]
    problems: list[str]
    notices: list[FetchNotice]
    queries: int


def _service_series(service: LinkedService, lookups: dict, problems: list[str]):
    """(signal, display unit, legend name, query, scale) for the service's dashboard series, one per signal."""
    chosen = []
    refs = sorted(service.resources, key=lambda r: (TYPE_PRIORITY.get(r.resource_type, 99), r.name))
    for signal in SIGNALS:
        for ref in refs:
            row = signals_for(ref.resource_type)
            metric = next((m for m in row.metrics if m.signal == signal and m.dashboard), None) if row else None
            if metric is None:
                continue
            try:
                dimensions = _dims(metric_dimensions(ref, lookups))
            except DimensionsUnknown as exc:
                problems.append(f"{service.name}: {exc}")
                continue
            unit, scale = metric.unit, 1.0
            if signal == LATENCY and unit in TO_MILLISECONDS:  # one axis for every service's latency
                unit, scale = "Milliseconds", TO_MILLISECONDS[metric.unit]
            query = SeriesQuery(ref.account_id, ref.region, row.namespace, metric.metric, dimensions, metric.dashboard)
            chosen.append((signal, unit, f"{service.name} · {metric.metric} {metric.dashboard}", query, scale))
            break
    return chosen


def dashboard(services: list[LinkedService], window: Window) -> DashboardView:
    """A dashboard of services (their resources already loaded): the dimension lookups (one query, if needed),
    their alarms (one), then the series of every service together (the cache, then AWS)."""
    refs = [ref for s in services for ref in s.resources]
    lookups = selectors.dimension_lookups(refs)
    alarms = selectors.alarms_for(ref.arn for ref in refs)
    by_arn: dict[str, list[Alarm]] = {}
    for alarm in alarms:
        by_arn.setdefault(alarm.resource_arn, []).append(alarm)
    problems: list[str] = []
    charts: dict[tuple[str, str], _Spec] = {}
    rows = []
    for service in services:
        summary = AlarmSummary()
        for arn in {ref.arn for ref in service.resources}:
            for alarm in by_arn.get(arn, []):
                summary.add(alarm)
        series = {}
        for signal, unit, name, query, scale in _service_series(service, lookups, problems):
            spec = charts.setdefault(
                (signal, unit),
                _Spec(title=SIGNAL_LABELS[signal], subtitle="", signal=signal, unit=unit, lines=[]),
            )
            spec.lines.append((name, query, scale))
            series[signal] = name
        rows.append(ServiceRow(service=service, alarms=summary, series=series))
    ordered = sorted(charts.values(), key=lambda spec: (SIGNALS.index(spec.signal), spec.unit))
    for spec in ordered:
        spec.subtitle = f"{len(spec.lines)} service{'s' if len(spec.lines) != 1 else ''} · {spec.unit or 'no unit'}"
    queries = [query for spec in ordered for _, query, _ in spec.lines]
    fetched = fetch_series(queries, window)
    panels = [_panel(i, spec, fetched.results, window) for i, spec in enumerate(ordered)]
    return DashboardView(
        window=window,
        sections=_sections(panels),
        rows=rows,
        problems=list(dict.fromkeys(problems)),
        notices=fetched.notices,
        queries=len(set(queries)),
    )
