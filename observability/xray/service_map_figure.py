"""The service map as a Plotly figure (plain JSON, drawn in the browser by the locally served plotly.min.js).

Positions come from observability.xray.service_map_layout (callers left of callees). Calls are lines in
the colour of their health, through the layout's bend points, with an arrowhead at the callee and
an invisible marker at their middle that carries the hover text (calls, fault/error/throttle
shares, p50/p99). Nodes are markers in the colour of their health: circles for instrumented
services, squares for AWS resources X-Ray inferred, diamonds for other remote endpoints, a
triangle for the clients; neighbours outside a system's or team's scope are paler. A node's
`customdata` is its entity page, which static/observability/xray.js opens on click.
"""

from observability.xray.formatting import count_text, duration_text, share_text
from observability.xray.service_map import CRITICAL, HEALTH_COLOURS, HEALTH_ORDER, MapEdge, MapNode, ServiceMap, Traffic
from observability.xray.service_map_layout import Layout, layered_layout

ROW_HEIGHT = 44  # pixels between two nodes of a layer: room for a label under each
MIN_HEIGHT = 420


def traffic_text(traffic: Traffic) -> str:
    if traffic.requests == 0:
        return "no calls answered in this range"
    return (
        f"{count_text(traffic.requests)} calls · faults {share_text(traffic.fault_rate)} · "
        f"errors {share_text(traffic.error_rate)} · throttles {share_text(traffic.throttle_rate)}<br>"
        f"p50 {duration_text(traffic.p50)} · p99 {duration_text(traffic.p99)}"
    )


def _symbol(node: MapNode) -> str:
    if node.is_client:
        return "triangle-right"
    if node.type == "remote":
        return "diamond"
    return "square" if node.inferred else "circle"


def _node_hover(node: MapNode) -> str:
    kind = "clients" if node.is_client else node.type or "service"
    link = (
        f"{node.entity.title or node.entity.short_ref} (click to open)"
        if node.entity
        else ("" if node.is_client else "not in the catalog")
    )
    lines = [f"<b>{node.label}</b> ({kind})", link, traffic_text(node.traffic)]
    return "<br>".join(line for line in lines if line)


def _midpoint(points: list[tuple[float, float]]) -> tuple[float, float]:
    middle = (len(points) - 1) // 2
    (x0, y0), (x1, y1) = points[middle], points[middle + 1]
    return (x0 + x1) / 2, (y0 + y1) / 2


def service_map_figure(smap: ServiceMap, layout: Layout | None = None) -> dict:
    """A Plotly figure (data + layout) of the map; empty data when there is nothing to draw."""
    if not smap.nodes:
        return {"data": [], "layout": {}}
    layout = layout or layered_layout([n.key for n in smap.nodes], [(e.source, e.target) for e in smap.edges])
    by_key = smap.by_key
    data = []
    by_health: dict[str, list[MapEdge]] = {}
    for edge in smap.edges:
        by_health.setdefault(edge.traffic.health, []).append(edge)
    arrows = []
    hover_x, hover_y, hover_text = [], [], []
    for health in HEALTH_ORDER[::-1]:  # the worst drawn last, on top
        xs, ys = [], []
        for edge in by_health.get(health, []):
            points = layout.routes.get((edge.source, edge.target))
            if not points:
                continue
            xs += [p[0] for p in points] + [None]
            ys += [p[1] for p in points] + [None]
            (ax, ay), (x, y) = points[-2], points[-1]
            arrows.append(
                {
                    "x": x,
                    "y": y,
                    "ax": ax,
                    "ay": ay,
                    "xref": "x",
                    "yref": "y",
                    "axref": "x",
                    "ayref": "y",
                    "showarrow": True,
                    "arrowhead": 2,
                    "arrowsize": 1.1,
                    "arrowwidth": 1.5,
                    "arrowcolor": HEALTH_COLOURS[health],
                    "standoff": 10,
                    "text": "",
                }
            )
            mx, my = _midpoint(points)
            hover_x.append(mx)
            hover_y.append(my)
            names = f"{by_key[edge.source].label} → {by_key[edge.target].label}"
            hover_text.append(f"{names}<br>{traffic_text(edge.traffic)}")
        if xs:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": xs,
                    "y": ys,
                    "line": {"width": 2.5 if health == CRITICAL else 1.5, "color": HEALTH_COLOURS[health]},
                    "hoverinfo": "skip",
                    "showlegend": False,
                    "name": f"calls ({health})",
                }
            )
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "x": hover_x,
            "y": hover_y,
            "hovertext": hover_text,
            "hoverinfo": "text",
            "marker": {"size": 10, "color": "rgba(0,0,0,0)"},
            "showlegend": False,
            "name": "call details",
        }
    )
    nodes = smap.nodes
    data.append(
        {
            "type": "scatter",
            "mode": "markers+text",
            "x": [layout.positions[n.key][0] for n in nodes],
            "y": [layout.positions[n.key][1] for n in nodes],
            "text": [n.label for n in nodes],
            "textposition": "bottom center",
            "textfont": {"size": 11},
            "hovertext": [_node_hover(n) for n in nodes],
            "hoverinfo": "text",
            "customdata": [n.entity.url if n.entity else "" for n in nodes],
            "marker": {
                "size": [18 if n.in_scope else 13 for n in nodes],
                "color": [n.traffic.colour for n in nodes],
                "opacity": [1.0 if n.in_scope else 0.55 for n in nodes],
                "symbol": [_symbol(n) for n in nodes],
                "line": {"width": [2 if n.entity else 1 for n in nodes], "color": "#16243a"},
            },
            "showlegend": False,
            "name": "services",
        }
    )
    xs = [p[0] for p in layout.positions.values()]
    ys = [y for route in layout.routes.values() for _, y in route] + [p[1] for p in layout.positions.values()]
    tallest = max(len(layer) for layer in layout.layers)
    return {
        "data": data,
        "layout": {
            "annotations": arrows,
            "xaxis": {"visible": False, "range": [min(xs) - 0.6, max(xs) + 0.6]},
            "yaxis": {"visible": False, "range": [min(ys) - 0.8, max(ys) + 0.6]},
            "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
            "hovermode": "closest",
            "dragmode": "pan",
            "plot_bgcolor": "#ffffff",
            "paper_bgcolor": "#ffffff",
            "height": max(MIN_HEIGHT, ROW_HEIGHT * (max(tallest, int(max(ys) - min(ys)) + 1)) + 60),
        },
    }
