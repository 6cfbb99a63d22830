"""Plotly figures of CloudWatch series (plain JSON, drawn in the browser by the locally served plotly.min.js,
as catalog/graph_figure.py draws the dependency graph). static/observability/charts.js draws every
figure a page carries.

Times are UTC strings without an offset ("2024-05-01 10:00:00"): plotly.js draws dates as given and
ignores offsets, and the axis says UTC.
"""

from dataclasses import dataclass
from datetime import datetime

from observability.timeranges import Window

STATE_COLOURS = {"ALARM": "#dc3545", "INSUFFICIENT_DATA": "#6c757d", "OK": "#198754"}
UNIT_LABELS = {"Percent": "%", "Count": "count", "Milliseconds": "ms", "Seconds": "s", "None": ""}
# Dashboards draw every service's latency on one axis, in milliseconds.
TO_MILLISECONDS = {"Seconds": 1000.0, "Microseconds": 0.001, "Milliseconds": 1.0}


@dataclass(frozen=True)
class Line:
    name: str
    timestamps: tuple[datetime, ...]
    values: tuple[float, ...]
    scale: float = 1.0


@dataclass(frozen=True)
class Threshold:
    value: float
    label: str
    state: str


def _time(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}"


def unit_label(unit: str) -> str:
    return UNIT_LABELS.get(unit, unit)


def figure(lines: list[Line], *, unit: str, window: Window, thresholds: list[Threshold] = (), height: int = 240):
    """A line chart of `lines` over the window, with each threshold a dashed horizontal line and its label."""
    suffix = unit_label(unit)
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers" if len(line.values) < 3 else "lines",
            "name": line.name,
            "x": [_time(t) for t in line.timestamps],
            "y": [round(v * line.scale, 6) for v in line.values],
            "hovertemplate": f"%{{y:.4~g}} {suffix}<extra>{line.name}</extra>",
        }
        for line in lines
    ]
    shapes, annotations = [], []
    for threshold in thresholds:
        colour = STATE_COLOURS.get(threshold.state, "#fd7e14")
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": threshold.value,
                "y1": threshold.value,
                "line": {"color": colour, "dash": "dash", "width": 1.5},
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "x": 1,
                "xanchor": "right",
                "yref": "y",
                "y": threshold.value,
                "yanchor": "bottom",
                "text": threshold.label,
                "showarrow": False,
                "font": {"size": 10, "color": colour},
            }
        )
    return {
        "data": data,
        "layout": {
            "height": height,
            "margin": {"l": 56, "r": 12, "t": 8, "b": 36},
            "xaxis": {"type": "date", "range": [_time(window.start), _time(window.end)]},
            "yaxis": {"title": {"text": suffix}, "rangemode": "tozero", "zeroline": True},
            "showlegend": True,
            "legend": {"orientation": "h", "y": -0.25},
            "shapes": shapes,
            "annotations": annotations,
            "hovermode": "x unified",
        },
    }
