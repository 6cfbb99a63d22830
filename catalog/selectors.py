"""Reads of the catalog: filtered lists, facets, text search, lookups by reference, relations and graphs.

Everything here reads the indexed copies of the document (kind_key, owner_key, system_key, EntityTag...),
never the JSON document, except the annotation filter, which has no column of its own.
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Count, F, Func, Q, QuerySet, TextField, Value

from catalog.models import Entity, EntityTag, Relation
from catalog.refs import RefError, parse_ref
from catalog.relations import INVERSE
from catalog.version import catalog_version


class InvalidFilters(ValueError):
    """Query parameters that do not make a valid filter; `errors` maps each parameter to its problems."""

    def __init__(self, errors: Mapping[str, list[str]]):
        self.errors = {name: [str(message) for message in messages] for name, messages in errors.items()}
        super().__init__("; ".join(f"{name}: {' '.join(messages)}" for name, messages in self.errors.items()))


# --- lists and facets ---------------------------------------------------------------------------------------


def entity_list(*, params: Mapping, queryset: QuerySet | None = None) -> QuerySet:
    """Entities matching the filter parameters (a QueryDict or a dict), in the order `sort` asks for.

    Raises InvalidFilters naming the parameter when a value is not valid, so nothing is silently ignored.
    """
    from catalog.filters import EntityFilterSet

    filterset = EntityFilterSet(data=params, queryset=queryset if queryset is not None else entity_base_queryset())
    if not filterset.is_valid():
        raise InvalidFilters(filterset.errors)
    return filterset.qs


def entity_base_queryset() -> QuerySet:
    # The owning team and the location are shown on every row; joined here rather than fetched per row.
    return Entity.objects.select_related("owner_team", "location")


FACETS = ("kind", "type", "owner", "lifecycle", "system", "tag")
# The column each facet counts; a facet's name is also the filter parameter it narrows.
_FACET_COLUMNS = {
    "kind": "kind_key",
    "type": "spec_type",
    "owner": "owner_key",
    "lifecycle": "lifecycle",
    "system": "system_key",
}
FACET_LIMIT = 100


def entity_facets(
    queryset: QuerySet, *, params: Mapping | None = None, facets=FACETS, limit: int = FACET_LIMIT
) -> dict[str, list[tuple[str, int]]]:
    """Counts per value of each facet, most frequent first (at most `limit` values each), one GROUP BY per facet.

    `queryset` is the filtered list. With `params` (the same filter parameters that made it) each facet is
    counted with every filter applied except its own, so choosing kind=component still shows how many APIs
    there are; the tag facet keeps the tag filter, since tags combine with AND (see docs/catalog.md).

    With `params`, the counts are cached until the catalog next changes (catalog.version): they are the
    same for every request with the same filters, and at 100,000 entities take ~100 ms to count.
    """
    if params is None:
        return _count_facets(queryset, params=None, facets=facets, limit=limit)
    key = facets_cache_key(params, facets=facets, limit=limit)
    cached = cache.get(key)
    if cached is None:
        cached = _count_facets(queryset, params=params, facets=facets, limit=limit)
        cache.set(key, cached, FACETS_CACHE_SECONDS)
    return cached


FACETS_CACHE_SECONDS = 600


def facets_cache_key(params: Mapping, *, facets=FACETS, limit: int = FACET_LIMIT) -> str:
    """The key entity_facets caches the counts under: the filters (not the page, the sort...) and the catalog's
    version. Also a key for what is derived from the counts and the filters alone (the list's facet sidebar)."""
    items = sorted(
        (name, tuple(params.getlist(name)) if hasattr(params, "getlist") else _as_tuple(params[name]))
        for name in params
        if name not in ("page", "cursor", "limit", "fields", "sort")
    )
    digest = hashlib.sha256(repr((items, tuple(facets), limit)).encode()).hexdigest()
    return f"catalog:facets:{catalog_version()}:{digest}"


def _as_tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _count_facets(queryset: QuerySet, *, params: Mapping | None, facets, limit: int) -> dict:
    results = {}
    # Facets counted over the same rows (the whole filtered list) share one query on PostgreSQL.
    shared = []
    for facet in facets:
        if facet != "tag" and (params is None or not _has_value(params, facet)):
            shared.append(facet)
            continue
        base = queryset
        if params is not None and facet != "tag":
            base = entity_list(params=_without(params, facet), queryset=entity_base_queryset())
        results[facet] = _facet_counts(base.order_by(), facet, limit)
    if connection.vendor == "postgresql" and len(shared) > 1:
        results.update(_grouped_facet_counts(queryset.order_by(), shared, limit))
    else:
        results.update({facet: _facet_counts(queryset.order_by(), facet, limit) for facet in shared})
    return {facet: results[facet] for facet in facets}


def _facet_counts(base: QuerySet, facet: str, limit: int) -> list[tuple[str, int]]:
    if facet == "tag":
        # Unfiltered, every tag row counts: no need to match them against all entities.
        tags = EntityTag.objects.filter(entity__in=base.values("pk")) if base.query.where else EntityTag.objects.all()
        rows = tags.values_list("tag").annotate(n=Count("entity_id")).order_by("-n", "tag")
    else:
        column = _FACET_COLUMNS[facet]
        rows = base.exclude(**{column: ""}).values_list(column).annotate(n=Count("pk")).order_by("-n", column)
    return [(value, count) for value, count in rows[:limit]]


def _grouped_facet_counts(base: QuerySet, facets: list[str], limit: int) -> dict[str, list[tuple[str, int]]]:
    """Several column facets in one pass over the rows: GROUP BY GROUPING SETS ((kind_key), (spec_type), ...).

    One scan instead of one per facet (at 100,000 entities: 90 ms against 200 ms for five). In each result
    row only the column of its grouping set is not NULL (the columns themselves are never NULL).
    """
    columns = [_FACET_COLUMNS[facet] for facet in facets]
    inner, params = base.values(*columns).query.sql_with_params()
    names = ", ".join(f"sub.{column}" for column in columns)
    sets = ", ".join(f"(sub.{column})" for column in columns)
    sql = f"SELECT {names}, COUNT(*) FROM ({inner}) sub GROUP BY GROUPING SETS ({sets})"  # noqa: S608 - columns are ours
    counts: dict[str, list[tuple[str, int]]] = {facet: [] for facet in facets}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for *values, count in cursor.fetchall():
            position = next(i for i, value in enumerate(values) if value is not None)
            if values[position] != "":
                counts[facets[position]].append((values[position], count))
    return {facet: sorted(rows, key=lambda r: (-r[1], r[0]))[:limit] for facet, rows in counts.items()}


def _has_value(params: Mapping, name: str) -> bool:
    values = params.getlist(name) if hasattr(params, "getlist") else params.get(name)
    return bool(values)


def _without(params: Mapping, name: str) -> Mapping:
    if hasattr(params, "copy") and hasattr(params, "setlist"):
        reduced = params.copy()
        reduced.pop(name, None)
        return reduced
    return {key: value for key, value in params.items() if key != name}


# --- full-text search ---------------------------------------------------------------------------------------

# Letters and digits only: the same split PostgreSQL's parser makes at '-', '_', '.', so "orders-api" finds
# "orders-api", and no user input reaches to_tsquery's own syntax.
_WORD = re.compile(r"[^\W_]+")
MAX_SEARCH_TERMS = 8


def search_terms(q: str) -> list[str]:
    return _WORD.findall((q or "").lower())[:MAX_SEARCH_TERMS]


def entity_search(queryset: QuerySet, q: str) -> QuerySet:
    """Entities whose name, title, description or tags contain words starting with every word of `q`.

    PostgreSQL: to_tsvector('simple', search_text) @@ to_tsquery('simple', 'w1:* & w2:*'), the expression
    of the GIN index in migration 0002, so the index answers it. SQLite: a substring match per word.
    """
    terms = search_terms(q)
    if not terms:
        return queryset
    if connection.vendor == "postgresql":
        return queryset.filter(_ts_match(" & ".join(f"{term}:*" for term in terms)))
    for term in terms:
        queryset = queryset.filter(search_text__icontains=term)
    return queryset


def _ts_match(tsquery: str) -> Func:
    # Written out rather than with django.contrib.postgres's SearchVector, which wraps the column in
    # COALESCE() and so no longer matches the index expression.
    vector = Func(F("search_text"), template="to_tsvector('simple', %(expressions)s)", output_field=TextField())
    query = Func(Value(tsquery), template="to_tsquery('simple', %(expressions)s)", output_field=TextField())
    return Func(vector, query, template="%(expressions)s", arg_joiner=" @@ ", output_field=BooleanField())


# --- one entity ---------------------------------------------------------------------------------------------


def parse_entity_ref(ref: str):
    """'kind:namespace/name', 'kind:name' (namespace default) or 'kind/namespace/name'; the kind is required."""
    text = (ref or "").strip().strip("/")
    if ":" not in text and text.count("/") == 2:
        kind, namespace, name = text.split("/")
        text = f"{kind}:{namespace}/{name}"
    parsed = parse_ref(text)
    if "/" in parsed.name or ":" in parsed.name:
        raise RefError(f"reference {ref!r} is not of the form kind:namespace/name")
    return parsed


def entity_by_ref(ref: str) -> Entity:
    """The entity a full reference names, case-insensitively. Raises Entity.DoesNotExist, or RefError if malformed."""
    return entity_base_queryset().get(ref_key=parse_entity_ref(ref).key)


# --- relations ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelationView:
    """One relation seen from an entity: `entity --type--> target`.

    "outgoing" relations come from the entity's own spec; "incoming" ones from the other entity's spec, with the
    type inverted (team's ownerOf for a component's ownedBy). `target` is None while the reference is unresolved.
    """

    type: str
    direction: str
    target_ref: str
    target: Entity | None

    @property
    def resolved(self) -> bool:
        return self.target is not None


# The end entities of a relation are shown briefly; their documents (the bulk of a row) are not loaded.
_BRIEF = ("id", "kind", "kind_key", "namespace", "name", "title", "ref_key")


def entity_relations_queryset(entity: Entity) -> QuerySet:
    """The Relation rows touching `entity` in either direction, with both ends joined (one query)."""
    only = ["id", "type", "target_key", "source_id", "target_id"]
    only += [f"source__{name}" for name in _BRIEF] + [f"target__{name}" for name in _BRIEF]
    return (
        Relation.objects.filter(Q(source=entity) | Q(target_key=entity.ref_key))
        .select_related("source", "target")
        .only(*only)
        .order_by("type", "target_key", "id")
    )


def relation_view(entity: Entity, relation: Relation) -> RelationView:
    if relation.source_id == entity.pk:
        return RelationView(relation.type, "outgoing", relation.target_key, relation.target)
    return RelationView(INVERSE.get(relation.type, relation.type), "incoming", relation.source.ref_key, relation.source)


def entity_relations(entity: Entity, *, limit: int | None = None) -> list[RelationView]:
    """The entity's relations in both directions, resolved or not, sorted by type then the other end's ref."""
    rows = entity_relations_queryset(entity)
    if limit is not None:
        rows = rows[:limit]
    views = [relation_view(entity, relation) for relation in rows]
    # A self-reference is one row seen from both ends; keep its outgoing side only once.
    return sorted(views, key=lambda view: (view.type, view.target_ref, view.direction))


# --- dependency graph ---------------------------------------------------------------------------------------

MAX_GRAPH_DEPTH = 3
MAX_GRAPH_NODES = 300


@dataclass
class GraphNode:
    ref: str
    kind: str
    name: str
    title: str = ""
    id: int | None = None  # None for an unresolved reference
    depth: int = 0
    expanded: bool = False  # False at the edge of the graph: its own neighbours were not fetched

    @property
    def resolved(self) -> bool:
        return self.id is not None


@dataclass(frozen=True)
class GraphEdge:
    source: str  # ref keys, in the stored direction: source --type--> target
    type: str
    target: str


@dataclass
class _Walk:
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], GraphEdge] = field(default_factory=dict)


def dependency_graph(
    entity: Entity,
    depth: int = 2,
    *,
    relation_types=None,
    max_nodes: int = MAX_GRAPH_NODES,
    near_kinds: frozenset[str] = frozenset(),
) -> tuple[list[GraphNode], list[GraphEdge]]:
    """The entity's neighbourhood: breadth first over relations in both directions, one query per level.

    `depth` is clamped to 1..3. At most `max_nodes` nodes: past that, new neighbours are left out and the node
    that reached them stays unexpanded. `relation_types` (stored types, e.g. {"dependsOn", "providesApi"})
    narrows which relations are followed. Entities of `near_kinds` (lower case, e.g. {"resource"}) are shown
    next to the entity itself only, not next to its neighbours.
    """
    depth = max(1, min(int(depth), MAX_GRAPH_DEPTH))
    walk = _Walk()
    walk.nodes[entity.ref_key] = _node(entity, 0)
    frontier = {entity.ref_key: entity.pk}
    for level in range(1, depth + 1):
        if not frontier:
            break
        rows = Relation.objects.filter(Q(source_id__in=frontier.values()) | Q(target_key__in=frontier.keys()))
        if relation_types:
            rows = rows.filter(type__in=relation_types)
        only = ["id", "type", "target_key", "source_id", "target_id"]
        only += [f"source__{name}" for name in _BRIEF] + [f"target__{name}" for name in _BRIEF]
        rows = rows.select_related("source", "target").only(*only).order_by("id")
        for key in frontier:
            walk.nodes[key].expanded = True
        next_frontier = {}
        for relation in rows:
            source, target_key = relation.source, relation.target_key
            added = True
            ends = ((source.ref_key, source), (target_key, relation.target))
            if level > 1 and any(key not in walk.nodes and key.partition(":")[0] in near_kinds for key, _ in ends):
                continue  # e.g. a neighbour's own AWS resources
            for key, end in ends:
                if key in walk.nodes:
                    continue
                if len(walk.nodes) >= max_nodes:
                    added = False
                    continue
                walk.nodes[key] = _node(end, level) if end is not None else _unresolved(key, level)
                if end is not None:
                    next_frontier[key] = end.pk
            if added:
                edge = GraphEdge(source.ref_key, relation.type, target_key)
                walk.edges[(edge.source, edge.type, edge.target)] = edge
            else:
                for key in (source.ref_key, target_key):
                    if key in frontier:
                        walk.nodes[key].expanded = False
        frontier = next_frontier
    nodes = sorted(walk.nodes.values(), key=lambda node: (node.depth, node.ref))
    edges = sorted(walk.edges.values(), key=lambda edge: (edge.source, edge.type, edge.target))
    return nodes, edges


def _node(entity: Entity, depth: int) -> GraphNode:
    return GraphNode(
        ref=entity.ref_key, kind=entity.kind, name=entity.name, title=entity.title, id=entity.pk, depth=depth
    )


def _unresolved(key: str, depth: int) -> GraphNode:
    kind, _, rest = key.partition(":")
    return GraphNode(ref=key, kind=kind, name=rest.rpartition("/")[2], depth=depth, expanded=True)


# --- a team's entities --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamEntities:
    owner_ref: str  # the team's Group, as spec.owner names it: group:default/<slug>
    shown: list[Entity]  # the first ones, by kind, with their stored scores
    count: int  # all of them


def team_owned_entities(*, team_slug: str, limit: int) -> TeamEntities:
    """The first `limit` entities a team owns, by kind, and how many it owns.

    Owned means spec.owner names the team's Group (group:default/<slug>), the same filter the catalog's
    ?owner= link uses, so the count here and the catalog's agree. Two queries at most: the rows, and the
    count only when there may be more than were read.
    """
    owner_ref = f"group:default/{team_slug}"
    owned = (
        entity_list(params={"owner": [owner_ref], "sort": "kind"})
        .select_related("score")
        .defer("document", "search_text")
    )
    shown = list(owned[:limit])
    count = len(shown) if len(shown) < limit else owned.count()
    return TeamEntities(owner_ref=owner_ref, shown=shown, count=count)
