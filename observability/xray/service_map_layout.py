"""A layered layout for the service map: callers to the left of what they call, few crossings, the same every time.

No graph-drawing dependency: the classic Sugiyama steps, small enough to read.

1. Cycles are broken by a depth-first search in name order: an edge that closes a cycle (A calls
   B calls A) is laid out as if reversed; it is still drawn in its own direction.
2. Layers by longest path from the nodes nothing calls: a node sits one layer right of its
   furthest caller, so every call runs left to right.
3. A call spanning several layers gets a bend point in each layer between (a "dummy" node), so
   it takes room like a node, routes around the nodes and counts in the crossing reduction.
4. Crossings are reduced by barycentre sweeps: each layer is ordered by the mean position of its
   neighbours in the layer before (down sweeps) or after (up sweeps); the ordering with the
   fewest crossings seen is kept. Ties keep the previous order, which starts as name order.
5. Coordinates: x is the layer, y the position in the layer, centred on 0 (first on top).

Everything iterates in sorted order, so the same graph always gets the same picture.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

SWEEPS = 6  # down-and-up rounds; more rarely helps at 50-100 nodes


@dataclass(frozen=True)
class Layout:
    positions: dict[str, tuple[float, float]]  # node -> (x, y)
    routes: dict[tuple[str, str], list[tuple[float, float]]]  # edge -> points from caller to callee
    layers: list[list[str]]  # real nodes, in layer order and top to bottom
    crossings: int  # of the chosen ordering (bend points included)


def _dummy(edge: tuple[str, str], step: int) -> str:
    # NUL cannot appear in a node key (names come from X-Ray and the catalog), so these never collide.
    return f"\x00{edge[0]}\x00{edge[1]}\x00{step}"


def _is_dummy(key: str) -> bool:
    return key.startswith("\x00")


def _feedback_edges(nodes: list[str], out: dict[str, list[str]], into: dict[str, list[str]]) -> set[tuple[str, str]]:
    """Edges that close a cycle in a depth-first search started from uncalled nodes first, in name order."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()
    starts = [n for n in nodes if not into[n]] + [n for n in nodes if into[n]]
    for start in starts:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(out[start]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(out[child])))
    return back


def _longest_path_layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    into_count = {n: 0 for n in nodes}
    out = defaultdict(list)
    for source, target in edges:
        out[source].append(target)
        into_count[target] += 1
    layer = {n: 0 for n in nodes}
    ready = sorted(n for n in nodes if into_count[n] == 0)
    while ready:
        node = ready.pop(0)
        for target in out[node]:
            layer[target] = max(layer[target], layer[node] + 1)
            into_count[target] -= 1
            if into_count[target] == 0:
                ready.append(target)
                ready.sort()
    return layer


def _inversions(values: list[int]) -> int:
    """How many pairs i < j have values[i] > values[j] (a crossing each)."""
    seen: list[int] = []
    count = 0
    for value in values:
        count += len(seen) - bisect_right(seen, value)
        seen.insert(bisect_right(seen, value), value)
    return count


def count_crossings(layers: list[list[str]], edges: Iterable[tuple[str, str]]) -> int:
    """Crossings between adjacent layers of edges that join adjacent layers (what the layout has after step 3)."""
    where = {key: (number, index) for number, layer in enumerate(layers) for index, key in enumerate(layer)}
    between: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for source, target in edges:
        (ls, ps), (lt, pt) = where[source], where[target]
        if lt == ls + 1:
            between[ls].append((ps, pt))
        elif ls == lt + 1:
            between[lt].append((pt, ps))
    return sum(_inversions([b for _, b in sorted(pairs)]) for pairs in between.values())


def _reorder(layer: list[str], neighbours: dict[str, list[str]], position: dict[str, int]) -> list[str]:
    """The layer sorted by the mean position of each node's neighbours in the adjacent layer; a node with
    none there keeps its place, and ties keep the current order."""
    current = {key: index for index, key in enumerate(layer)}

    def barycentre(key: str) -> float:
        found = [position[n] for n in neighbours[key] if n in position]
        return sum(found) / len(found) if found else float(current[key])

    return sorted(layer, key=lambda key: (barycentre(key), current[key]))


def layered_layout(nodes: Iterable[str], edges: Iterable[tuple[str, str]], *, sweeps: int = SWEEPS) -> Layout:
    keys = sorted(set(nodes))
    calls = sorted({(s, t) for s, t in edges if s != t and s in keys and t in keys})
    if not keys:
        return Layout(positions={}, routes={}, layers=[], crossings=0)
    out, into = defaultdict(list), defaultdict(list)
    for source, target in calls:
        out[source].append(target)
        into[target].append(source)
    back = _feedback_edges(keys, out, into)
    # The direction each call is laid out in (left to right).
    laid = {(s, t): ((t, s) if (s, t) in back else (s, t)) for s, t in calls}
    layer = _longest_path_layers(keys, sorted(set(laid.values())))

    # Split long calls into one-layer steps through bend points.
    chains: dict[tuple[str, str], list[str]] = {}
    for call, (left, right) in laid.items():
        chain = [left]
        for step in range(1, layer[right] - layer[left]):
            bend = _dummy(call, step)
            layer[bend] = layer[left] + step
            chain.append(bend)
        chain.append(right)
        chains[call] = chain
    steps = sorted({(a, b) for chain in chains.values() for a, b in pairwise(chain)})
    before, after = defaultdict(list), defaultdict(list)
    for a, b in steps:
        after[a].append(b)
        before[b].append(a)

    depth = max(layer.values()) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for key in sorted(layer, key=lambda k: (_is_dummy(k), k)):
        layers[layer[key]].append(key)

    def position_in(number: int, current: list[list[str]]) -> dict[str, int]:
        return {key: index for index, key in enumerate(current[number])}

    # The first down sweep sets the starting order; then keep the best of the sweeps that follow.
    for number in range(1, depth):
        layers[number] = _reorder(layers[number], before, position_in(number - 1, layers))
    best, best_crossings = [list(layer_) for layer_ in layers], count_crossings(layers, steps)
    for _ in range(sweeps):
        for number in range(depth - 2, -1, -1):
            layers[number] = _reorder(layers[number], after, position_in(number + 1, layers))
        for number in range(1, depth):
            layers[number] = _reorder(layers[number], before, position_in(number - 1, layers))
        crossings = count_crossings(layers, steps)
        if crossings < best_crossings:
            best, best_crossings = [list(layer_) for layer_ in layers], crossings
        if best_crossings == 0:
            break

    coordinates = {}
    for number, members in enumerate(best):
        middle = (len(members) - 1) / 2
        for index, key in enumerate(members):
            coordinates[key] = (float(number), middle - index)
    routes = {}
    for call, chain in chains.items():
        points = [coordinates[key] for key in chain]
        routes[call] = points if laid[call] == call else points[::-1]
    return Layout(
        positions={key: coordinates[key] for key in keys},
        routes=routes,
        layers=[[key for key in members if not _is_dummy(key)] for members in best],
        crossings=best_crossings,
    )
