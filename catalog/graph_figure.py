"""The dependency graph as a Plotly figure (plain JSON, drawn in the browser by the locally served plotly.min.js).

The layout is computed here, in layers: the entity in the middle, what it
depends on to the right (one column per step), what depends on it to the left.
"Depends on" reads each relation in the direction of the dependency: a
component depends on the APIs it consumes, an API on the component that
provides it, so consumer -> API -> provider runs left to right.
Each node carries the URL of its entity page in `customdata`, which
static/catalog/graph.js follows on click; unresolved references have none.
"""

import math
from collections import defaultdict, deque
from dataclasses import dataclass

KIND_COLOURS = {
    "component": "#0d6efd",
    "api": "#198754",
    "resource": "#fd7e14",
    "system": "#6f42c1",
    "domain": "#d63384",
    "group": "#20c997",
    "user": "#0dcaf0",
}
OTHER_COLOUR = "#6c757d"
UNRESOLVED_COLOUR = "#adb5bd"
# Relation types whose dependency runs from target to source (the others run from source to target).
_REVERSED = {"dependencyOf", "providesApi", "apiConsumedBy", "ownerOf", "hasPart", "parentOf", "hasMember"}


@dataclass(frozen=True)
class FigureNode:
    key: str  # ref key, e.g. "component:default/orders-api"
    kind: str
    name: str
    title: str = ""
    url: str = ""  # empty for an unresolved reference
    root: bool = False


@dataclass(frozen=True)
class FigureEdge:
    source: str  # ref keys, in the stored direction: source --type--> target
    target: str
    type: str  # relation type, e.g. "dependsOn"

    @property
    def dependant(self) -> str:
        return self.target if self.type in _REVERSED else self.source

    @property
    def dependency(self) -> str:
        return self.source if self.type in _REVERSED else self.target


def _layers(nodes: list[FigureNode], edges: list[FigureEdge]) -> dict[str, int]:
    """Signed distance of each node from the root: + along edges, - against them."""
    root = next((n.key for n in nodes if n.root), nodes[0].key)
    out, into = defaultdict(list), defaultdict(list)
    for edge in edges:
        out[edge.dependant].append(edge.dependency)
        into[edge.dependency].append(edge.dependant)
    layer = {root: 0}
    for neighbours, step in ((out, 1), (into, -1)):
        queue = deque([root])
        while queue:
            key = queue.popleft()
            for other in neighbours[key]:
                if other not in layer:
                    layer[other] = layer[key] + step
                    queue.append(other)
    # Nodes reached only through a mix of directions (a dependency's other dependant) sit beside the root.
    for node in nodes:
        layer.setdefault(node.key, 0)
    return layer


# A step with more nodes than this is laid out in several columns side by side, so that the figure stays
# about one screen high and the entity itself, in the middle, is in view when the tab opens.
MAX_PER_COLUMN = 10


def _positions(nodes: list[FigureNode], edges: list[FigureEdge]) -> dict[str, tuple[float, float]]:
    layer = _layers(nodes, edges)
    steps: dict[int, list[FigureNode]] = defaultdict(list)
    for node in nodes:
        steps[layer[node.key]].append(node)
    # x of each step's first column: the root's step at 0, each further step past the columns of the one before.
    start = {0: 0.0}
    for direction in (1, -1):
        step = direction
        while step in steps:
            before = steps[step - direction]
            start[step] = start[step - direction] + direction * math.ceil(len(before) / MAX_PER_COLUMN)
            step += direction
    positions = {}
    for step, group in steps.items():
        group.sort(key=lambda n: (not n.root, n.kind, n.name.lower()))
        direction = -1 if step < 0 else 1
        for index, node in enumerate(group):
            column, row = divmod(index, MAX_PER_COLUMN)
            height = min(len(group) - column * MAX_PER_COLUMN, MAX_PER_COLUMN)
            x = start[step] + direction * column
            positions[node.key] = (float(x), (height - 1) / 2 - row)
    return positions


def _label(node: FigureNode) -> str:
    # A discovered resource's name ends in a hash ("orders-a6978afc"); its title is its AWS name and type. The
    # hover text keeps the reference.
    return node.title or f"{node.kind.lower()}:{node.name}"


def dependency_figure(nodes: list[FigureNode], edges: list[FigureEdge]) -> dict:
    """A Plotly figure (data + layout) for the nodes and edges; empty data when there are no nodes."""
    if not nodes:
        return {"data": [], "layout": {}}
    pos = _positions(nodes, edges)
    line_x, line_y, arrows = [], [], []
    for edge in edges:
        if edge.source not in pos or edge.target not in pos:
            continue
        (x0, y0), (x1, y1) = pos[edge.dependant], pos[edge.dependency]
        line_x += [x0, x1, None]
        line_y += [y0, y1, None]
        arrows.append(
            {
                "x": x1,
                "y": y1,
                "ax": x0,
                "ay": y0,
                "xref": "x",
                "yref": "y",
                "axref": "x",
                "ayref": "y",
                "showarrow": True,
                "arrowhead": 2,
                "arrowsize": 1.2,
                "arrowwidth": 1,
                "arrowcolor": "#98a2b3",
                "standoff": 12,
                "text": "",
                "hovertext": edge.type,
            }
        )
    edge_trace = {
        "type": "scatter",
        "mode": "lines",
        "x": line_x,
        "y": line_y,
        "line": {"width": 1, "color": "#ced4da"},
        "hoverinfo": "skip",
        "showlegend": False,
    }
    node_trace = {
        "type": "scatter",
        "mode": "markers+text",
        "x": [pos[n.key][0] for n in nodes],
        "y": [pos[n.key][1] for n in nodes],
        "text": [_label(n) for n in nodes],
        "textposition": "bottom center",
        "hovertext": [
            f"{n.key}{' — ' + n.title if n.title else ''}{'' if n.url else ' (not in the catalog)'}" for n in nodes
        ],
        "hoverinfo": "text",
        "customdata": [n.url for n in nodes],
        "marker": {
            "size": [24 if n.root else 16 for n in nodes],
            "color": [KIND_COLOURS.get(n.kind.lower(), OTHER_COLOUR) if n.url else UNRESOLVED_COLOUR for n in nodes],
            "line": {"width": [3 if n.root else 1 for n in nodes], "color": "#16243a"},
            "symbol": ["circle" if n.url else "circle-open" for n in nodes],
        },
        "showlegend": False,
    }
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    return {
        "data": [edge_trace, node_trace],
        "layout": {
            "annotations": arrows,
            "xaxis": {"visible": False, "range": [min(xs) - 0.6, max(xs) + 0.6], "fixedrange": False},
            "yaxis": {"visible": False, "range": [min(ys) - 0.8, max(ys) + 0.8]},
            "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
            "hovermode": "closest",
            "dragmode": "pan",
            "plot_bgcolor": "#ffffff",
            "paper_bgcolor": "#ffffff",
            "height": max(360, 70 * max(len([1 for p in pos.values() if p[0] == x]) for x in set(xs))),
        },
    }
