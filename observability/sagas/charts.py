"""Plotly figures of sagas (plain JSON drawn in the browser by the locally served plotly.min.js, as the other
observability charts are): executions per outcome over time with the compensation rates, and one execution's
timeline, its states as bars in time with compensations marked.

Times are UTC strings without an offset ("2024-05-01 10:00:00.250"): plotly.js draws dates as given and
ignores offsets, and the axes say UTC.
"""

from datetime import datetime, timedelta

from observability.models import SagaExecution
from observability.sagas.outcomes import OUTCOME_LABELS, Outcome
from observability.sagas.selectors import OUTCOME_ORDER, OutcomeSeries

OUTCOME_COLOURS = {
    Outcome.COMMITTED: "#198754",
    Outcome.RUNNING: "#0dcaf0",
    SagaExecution.PENDING: "#adb5bd",
    Outcome.COMPENSATED: "#fd7e14",
    Outcome.FAILED: "#6f42c1",
    Outcome.STUCK: "#6c757d",
    Outcome.COMPENSATION_FAILED: "#dc3545",
}
LABELS = {**OUTCOME_LABELS, SagaExecution.PENDING: "Not read yet"}

# Timeline bar kinds: (legend label, colour, pattern). Compensations are hatched, so they read as such in print too.
TIMELINE_KINDS = {
    "step": ("Step", "#0d6efd", ""),
    "step_failed": ("Step failed", "#dc3545", ""),
    "compensation": ("Compensation", "#fd7e14", "/"),
    "compensation_failed": ("Compensation failed", "#842029", "/"),
    "running": ("Running", "#0dcaf0", "."),
    "end": ("End state", "#6c757d", ""),
}
_END_TYPES = frozenset({"Succeed", "Fail"})
_MONO = "SFMono-Regular, Menlo, Consolas, monospace"


def _time(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S.%f}"[:-3]


def outcomes_figure(series: OutcomeSeries) -> dict:
    """Stacked bars of executions per outcome in each bar of the window, and two rate lines on a right axis:
    the share of finished executions that were compensated, and that failed their compensation."""
    x = [_time(b.start + timedelta(seconds=series.window.period) / 2) for b in series.buckets]
    data = []
    for outcome in OUTCOME_ORDER:
        values = [b.counts.get(outcome, 0) for b in series.buckets]
        if not any(values):
            continue
        data.append(
            {
                "type": "bar",
                "name": LABELS[outcome],
                "x": x,
                "y": values,
                "marker": {"color": OUTCOME_COLOURS[outcome]},
                "hovertemplate": f"%{{y}} {LABELS[outcome].lower()}<extra></extra>",
            }
        )
    for name, outcomes, colour in (
        ("Compensated, % of finished", (Outcome.COMPENSATED, Outcome.COMPENSATION_FAILED), "#fd7e14"),
        ("Compensation failed, % of finished", (Outcome.COMPENSATION_FAILED,), "#dc3545"),
    ):
        rates = [b.share(*outcomes) for b in series.buckets]
        if not any(r for r in rates if r):
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": x,
                "y": [round(r, 1) if r is not None else None for r in rates],
                "yaxis": "y2",
                "connectgaps": False,
                "line": {"color": colour, "dash": "dot", "width": 2},
                "hovertemplate": "%{y:.1f}%<extra>" + name + "</extra>",
            }
        )
    return {
        "data": data,
        "layout": {
            "barmode": "stack",
            "height": 280,
            "margin": {"l": 48, "r": 56, "t": 10, "b": 40},
            "xaxis": {
                "type": "date",
                "title": {"text": "started (UTC)"},
                "range": [_time(series.window.start), _time(series.window.end)],
            },
            "yaxis": {"title": {"text": "executions"}, "rangemode": "tozero", "fixedrange": True},
            "yaxis2": {
                "title": {"text": "% of finished"},
                "overlaying": "y",
                "side": "right",
                "range": [0, 100],
                "dtick": 25,
                "showgrid": False,
                "fixedrange": True,
            },
            "legend": {"orientation": "h", "y": -0.25},
            "bargap": 0.15,
        },
    }


def _kind(state: dict) -> str:
    if state["status"] == "running":
        return "running"
    if state["type"] in _END_TYPES:
        return "end"
    if state["compensation"]:
        return "compensation_failed" if state["status"] == "failed" else "compensation"
    return "step_failed" if state["status"] == "failed" else "step"


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def timeline_figure(execution: SagaExecution, *, now: datetime) -> dict:
    """One execution's states as horizontal bars from entered to exited (a running one up to now), in the order
    they ran, top to bottom; compensations hatched and labelled with the step they undo."""
    states = execution.states or []
    if not states:
        return {"data": [], "layout": {}}
    end = execution.stopped_at or now
    spans = [(_parse(s["entered_at"]), _parse(s["exited_at"]) or end) for s in states]
    total = max((e for _, e in spans), default=end) - min(s for s, _ in spans)
    # A Pass state takes a millisecond: give every bar a sliver of width so none vanishes.
    least = max(total / 200, timedelta(milliseconds=1))
    seen: dict[str, int] = {}
    rows = []
    for state in states:
        seen[state["name"]] = seen.get(state["name"], 0) + 1
        label = state["name"] if seen[state["name"]] == 1 else f"{state['name']} ({seen[state['name']]})"
        rows.append(f"↩ {label}" if state["compensation"] else label)
    data = []
    for kind, (legend, colour, pattern) in TIMELINE_KINDS.items():
        picked = [i for i, s in enumerate(states) if _kind(s) == kind]
        if not picked:
            continue
        marker: dict = {"color": colour}
        if pattern:
            # "overlay": the bar keeps its colour and the hatching is drawn over it (the default replaces it).
            marker["pattern"] = {"shape": pattern, "fillmode": "overlay", "fgcolor": "#ffffff", "size": 6}
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": legend,
                "y": [rows[i] for i in picked],
                "base": [_time(spans[i][0]) for i in picked],
                "x": [max(spans[i][1] - spans[i][0], least).total_seconds() * 1000 for i in picked],
                "customdata": [
                    [
                        states[i]["type"],
                        round((spans[i][1] - spans[i][0]).total_seconds() * 1000),
                        states[i]["status"],
                        f"undoes {states[i]['compensates']}" if states[i]["compensates"] else "",
                        states[i]["error"] or "",
                    ]
                    for i in picked
                ],
                "marker": marker,
                "hovertemplate": "<b>%{y}</b> (%{customdata[0]})<br>%{customdata[1]} ms, %{customdata[2]}"
                "<br>%{customdata[3]} %{customdata[4]}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": {
            "barmode": "overlay",
            "height": max(160, 28 * len(rows) + 90),
            "margin": {"l": 220, "r": 20, "t": 10, "b": 50},
            "xaxis": {"type": "date", "title": {"text": "UTC"}, "tickformat": "%H:%M:%S.%L"},
            "yaxis": {
                "type": "category",
                "categoryorder": "array",
                "categoryarray": rows,
                "autorange": "reversed",
                "tickfont": {"family": _MONO},
            },
            "legend": {"orientation": "h", "y": -0.2},
        },
    }
