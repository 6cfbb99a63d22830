"""Reads of the catalog: filtered lists, facets, text search, lookups by reference, relations and graphs.

Everything here reads the indexed copies of the document (kind_key, owner_key, system_key, EntityTag...),
never the JSON document, except the annotation filter, which has no column of its own.
"""

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.db.models.fields.json import HasKey, KeyTextTransform, KeyTransform
from django.db.models.functions import Lower

from catalog.annotations import ACCOUNT_ANNOTATION, ARN_ANNOTATION, REGION_ANNOTATION
from catalog.filters import EntityFilterSet
from catalog.models import Entity, EntityTag, Location, Relation
from catalog.refs import DEFAULT_NAMESPACE, RefError, parse_ref, ref_key
from catalog.relations import INVERSE
from catalog.templatetags.catalog_ui import entity_path
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
    filterset = EntityFilterSet(data=params, queryset=queryset if queryset is not None else entity_base_queryset())
    if not filterset.is_valid():
        raise InvalidFilters(filterset.errors)
    return filterset.qs


def entity_base_queryset() -> QuerySet:
    # The owning team and the location are shown on every row; joined here rather than fetched per row.
    return Entity.objects.select_related("owner_team", "location")


def entity_api_queryset() -> QuerySet:
    """entity_base_queryset less what the API's answers never show: the search words, and of the owning team and
    the location everything but what names them (a page of 50 parsed 100 of their timestamps, and dropped them)."""
    return entity_base_queryset().defer(
        "search_text",
        "owner_team__name",
        "owner_team__description",
        "owner_team__created_at",
        "location__created_at",
        "location__last_imported_at",
    )


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
class RelatedEntity:
    """The other end of a relation, briefly: enough to show and link it (its document is not read)."""

    id: int
    kind: str
    kind_key: str
    namespace: str
    name: str
    title: str
    ref_key: str

    @property
    def pk(self) -> int:
        return self.id


@dataclass(frozen=True)
class RelationView:
    """One relation seen from an entity: `entity --type--> target`.

    "outgoing" relations come from the entity's own spec; "incoming" ones from the other entity's spec, with the
    type inverted (team's ownerOf for a component's ownedBy). `target` is None while the reference is unresolved.
    """

    type: str
    direction: str
    target_ref: str
    target: RelatedEntity | Entity | None

    @property
    def resolved(self) -> bool:
        return self.target is not None


# The end entities of a relation are shown briefly; their documents (the bulk of a row) are not loaded.
_BRIEF = ("id", "kind", "kind_key", "namespace", "name", "title", "ref_key")


def _touching(entity: Entity) -> QuerySet:
    return Relation.objects.filter(Q(source=entity) | Q(target_key=entity.ref_key)).order_by("type", "target_key", "id")


def entity_relations_queryset(entity: Entity) -> QuerySet:
    """The Relation rows touching `entity` in either direction, with both ends joined (one query)."""
    only = ["id", "type", "target_key", "source_id", "target_id"]
    only += [f"source__{name}" for name in _BRIEF] + [f"target__{name}" for name in _BRIEF]
    return _touching(entity).select_related("source", "target").only(*only)


def relation_view(entity: Entity, relation: Relation) -> RelationView:
    if relation.source_id == entity.pk:
        return RelationView(relation.type, "outgoing", relation.target_key, relation.target)
    return RelationView(INVERSE.get(relation.type, relation.type), "incoming", relation.source.ref_key, relation.source)


def entity_relations(entity: Entity, *, limit: int | None = None) -> list[RelationView]:
    """The entity's relations in both directions, resolved or not, sorted by type then the other end's ref.

    Read as tuples, not model rows: three model instances a relation (the row and both ends, deferred fields
    and all) were a fifth of the time of GET /entities/by-ref/ (docs/benchmarks.md, "The cost of one request").
    """
    ends = len(_BRIEF)
    rows = _touching(entity).values_list(
        "type",
        "target_key",
        "source_id",
        *(f"target__{name}" for name in _BRIEF),
        *(f"source__{name}" for name in _BRIEF),
    )
    if limit is not None:
        rows = rows[:limit]
    views = []
    for relation_type, target_key, source_id, *columns in rows:
        if source_id == entity.pk:
            target = RelatedEntity(*columns[:ends]) if columns[0] is not None else None
            views.append(RelationView(relation_type, "outgoing", target_key, target))
        else:
            source = RelatedEntity(*columns[ends:])
            views.append(RelationView(INVERSE.get(relation_type, relation_type), "incoming", source.ref_key, source))
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


# --- reads for the apps built on the catalog -----------------------------------------------------------------
#
# Observability (and the apps to come) read the catalog only through these, so the catalog's schema (its
# columns, the JSON paths into documents, the relation types) can change without breaking them. Each is a fixed
# number of queries whatever the number of entities, and none reads a whole document it does not need.

_ANNOTATIONS = KeyTransform("annotations", KeyTransform("metadata", "document"))


@dataclass(frozen=True)
class EntityBrief:
    """An entity as another app lists it: enough to name it, link to it and tell who owns it, without its
    document."""

    id: int
    ref_key: str
    kind: str
    kind_key: str
    namespace: str
    name: str
    title: str
    system_key: str
    owner_key: str
    owner_team_id: int | None

    @property
    def url(self) -> str:
        return entity_path(self.namespace, self.kind_key, self.name)

    @property
    def short_ref(self) -> str:
        return self.ref_key.replace(":default/", ":", 1)


BRIEF_FIELDS = tuple(f.name for f in dataclass_fields(EntityBrief))


def _brief(row: Mapping) -> EntityBrief:
    return EntityBrief(**{name: row[name] for name in BRIEF_FIELDS})


def team_owner_ref(team_slug: str) -> str:
    """The ref key of a team's Group, what spec.owner names: the catalog's link from entities to portal teams."""
    return ref_key("group", DEFAULT_NAMESPACE, team_slug)


def system_list() -> QuerySet[Entity]:
    """The catalog's live Systems, by namespace and name, without their documents."""
    return (
        Entity.objects.filter(kind_key="system", orphaned=False)
        .order_by("namespace", "name")
        .only("id", "namespace", "name", "title", "kind", "kind_key")
    )


def entity_annotations(entity_id: int) -> dict:
    """One entity's annotations ({} for an entity that is gone). One query."""
    annotations = Entity.objects.filter(pk=entity_id).values_list("document__metadata__annotations", flat=True).first()
    return annotations if isinstance(annotations, dict) else {}


@dataclass(frozen=True)
class AnnotatedComponent:
    id: int
    ref_key: str
    owner_team_id: int | None
    annotations: dict


def components_with_annotations(ids: Iterable[int], *, or_having: str = "") -> dict[int, AnnotatedComponent]:
    """Id -> the live Components among `ids`, and every live one carrying the annotation `or_having`, with their
    annotations (not their whole documents), by ref. One query."""
    wanted = Q(pk__in=list(ids))
    if or_having:
        wanted |= Q(document__metadata__annotations__has_key=or_having)
    rows = (
        Entity.objects.filter(wanted, kind_key="component", orphaned=False)
        .order_by("ref_key")
        .values_list("id", "ref_key", "owner_team_id", "document__metadata__annotations")
    )
    return {pk: AnnotatedComponent(pk, ref, team, annotations or {}) for pk, ref, team, annotations in rows}


def entities_with_annotation(annotation: str) -> list[tuple[EntityBrief, object]]:
    """(entity, the annotation's value) for every live entity carrying the annotation, by ref. One query."""
    rows = (
        Entity.objects.filter(HasKey(_ANNOTATIONS, annotation), orphaned=False)
        .annotate(annotation_value=KeyTextTransform(annotation, _ANNOTATIONS))
        .order_by("ref_key")
        .values(*BRIEF_FIELDS, "annotation_value")
    )
    return [(_brief(row), row["annotation_value"]) for row in rows]


def components_named(names: Iterable[str]) -> list[tuple[EntityBrief, bool]]:
    """(component, orphaned) for every Component whose name is one of `names`, ignoring case, live ones first,
    then by ref. One query."""
    lowered = sorted({name.lower() for name in names})
    if not lowered:
        return []
    rows = (
        Entity.objects.annotate(name_lower=Lower("name"))
        .filter(kind_key="component", name_lower__in=lowered)
        .order_by("orphaned", "ref_key")
        .values(*BRIEF_FIELDS, "orphaned")
    )
    return [(_brief(row), row["orphaned"]) for row in rows]


# AWS resources: the Resource entities AWS discovery writes (catalog.discovery), or that people declare, with the
# three annotations that place them in AWS. A Component's resources are the live Resources linked to it: those
# naming it in spec.dependencyOf (how discovery links what it finds by the `service` tag) and those it names in
# spec.dependsOn.


@dataclass(frozen=True)
class AwsResource:
    entity_id: int
    name: str
    title: str
    spec_type: str
    arn: str | None
    account_id: str | None
    region: str | None


@dataclass(frozen=True)
class ComponentResource:
    """One AWS resource of one Component."""

    component_id: int
    component_namespace: str
    component_name: str
    resource: AwsResource


_AWS_ANNOTATIONS = {"arn": ARN_ANNOTATION, "account_id": ACCOUNT_ANNOTATION, "region": REGION_ANNOTATION}


def _prefixed(prefix: str, lookups: dict) -> Q:
    return Q(**{f"{prefix}__{key}": value for key, value in lookups.items()})


def _linked(relation_type: str, component_end: str, resource_end: str, component_lookups: dict) -> QuerySet:
    """The relations of one direction between the components matched and live Resources, as rows of the
    component's id, namespace and name, and the Resource's fields and annotations (read from its end only)."""
    columns = {
        "component_id": F(f"{component_end}_id"),
        "component_namespace": F(f"{component_end}__namespace"),
        "component_name": F(f"{component_end}__name"),
        "resource_entity_id": F(f"{resource_end}_id"),
        **{f"resource_{name}": F(f"{resource_end}__{name}") for name in ("name", "title", "spec_type")},
        **{
            # KeyTextTransform over the joined entity's document (KT() would not follow the relation).
            f"resource_{name}": KeyTextTransform(key, f"{resource_end}__document__metadata__annotations")
            for name, key in _AWS_ANNOTATIONS.items()
        },
    }
    return (
        Relation.objects.filter(
            _prefixed(component_end, {"kind_key": "component", **component_lookups}),
            _prefixed(resource_end, {"kind_key": "resource", "orphaned": False}),
            type=relation_type,
        )
        .order_by()
        .values(**columns)
    )


def component_resources(
    *, ids: Iterable[int] | None = None, owner_refs: Iterable[str] = (), system_ref: str = ""
) -> list[ComponentResource]:
    """The AWS resources of the Components among `ids`, or of the live ones some teams (their Groups' refs) own,
    or of a System's live ones: one of the three. One query: the relation rows, with the resource's fields and
    annotations read from the joined entity at the Resource's end (a component's document, which may be
    large, is never read). Unordered."""
    if ids is not None:
        lookups: dict = {"id__in": list(ids)}
    elif owner_refs := list(owner_refs):
        lookups = {"owner_key__in": owner_refs, "orphaned": False}
    elif system_ref:
        lookups = {"system_key": system_ref, "orphaned": False}
    else:
        raise TypeError("component_resources() needs ids, owner_refs or system_ref")
    # One query, a UNION ALL of the two directions, each read from its own index (relations by target, by
    # source). One WHERE with an OR of both made PostgreSQL plan a parallel bitmap scan of both indexes: 10 ms
    # for a catalog page's 50 components at 100,000 entities, against 1.5 ms so.
    rows = _linked("dependencyOf", "target", "source", lookups).union(
        _linked("dependsOn", "source", "target", lookups), all=True
    )
    return [
        ComponentResource(
            component_id=row["component_id"],
            component_namespace=row["component_namespace"],
            component_name=row["component_name"],
            resource=AwsResource(
                entity_id=row["resource_entity_id"],
                **{name: row[f"resource_{name}"] for name in ("name", "title", "spec_type", *_AWS_ANNOTATIONS)},
            ),
        )
        for row in rows
    ]


def owners_of_components_with_resources() -> set[str]:
    """The spec.owner (ref keys) of the live Components with at least one live AWS Resource linked to them, either
    way (see above): the owners whose services have something to chart. One query, a UNION of the two
    directions, each read from its own relation index."""
    live = {"kind_key": "resource", "orphaned": False}
    by_dependency_of = Relation.objects.filter(
        _prefixed("source", live), target__kind_key="component", target__orphaned=False, type="dependencyOf"
    ).values_list("target__owner_key")
    by_depends_on = Relation.objects.filter(
        _prefixed("target", live), source__kind_key="component", source__orphaned=False, type="dependsOn"
    ).values_list("source__owner_key")
    return {owner for (owner,) in by_dependency_of.order_by().union(by_depends_on.order_by())}


def resource_entities(ids: Iterable[int]) -> list[Entity]:
    """The Resources among `ids`, with the columns and annotations that place them in AWS. One query."""
    return list(
        Entity.objects.filter(pk__in=list(ids), kind_key="resource").only(
            "id", "kind_key", "namespace", "name", "title", "spec_type", "document"
        )
    )


def resources_by_arn(arns: Iterable[str]) -> dict[str, EntityBrief]:
    """ARN -> the live Resource whose amazonaws.com/arn annotation it is (the first by ref if people declared one
    twice), for those of `arns` the catalog has. One query."""
    wanted = sorted(set(arns))
    if not wanted:
        return {}
    rows = (
        Entity.objects.filter(kind_key="resource", orphaned=False)
        .filter(**{f"document__metadata__annotations__{ARN_ANNOTATION}__in": wanted})
        .annotate(arn=KeyTextTransform(ARN_ANNOTATION, _ANNOTATIONS))
        .order_by("ref_key")
        .values(*BRIEF_FIELDS, "arn")
    )
    found: dict[str, EntityBrief] = {}
    for row in rows:
        found.setdefault(row["arn"], _brief(row))
    return found


@dataclass(frozen=True)
class OwnedResource:
    entity_id: int
    owner_team_id: int | None
    arn: object  # the ARN annotation as written (a person may have written something else than text)


def resources_of_type(spec_type: str) -> list[OwnedResource]:
    """The live Resources of one spec.type (e.g. "state-machine"), with their owning team and ARN. One query."""
    rows = Entity.objects.filter(kind_key="resource", spec_type=spec_type, orphaned=False).values_list(
        "id", "owner_team_id", f"document__metadata__annotations__{ARN_ANNOTATION}"
    )
    return [OwnedResource(pk, team, arn) for pk, team, arn in rows]


def components_of_resources(resource_ids: Iterable[int]) -> dict[int, set[int]]:
    """Resource id -> ids of the Components linked to it, either way (see above). Two queries."""
    ids = list(resource_ids)
    linked: dict[int, set[int]] = {}
    for resource_id, component_id in Relation.objects.filter(
        source_id__in=ids, type="dependencyOf", target__kind_key="component"
    ).values_list("source_id", "target_id"):
        linked.setdefault(resource_id, set()).add(component_id)
    for component_id, resource_id in Relation.objects.filter(
        target_id__in=ids, type="dependsOn", source__kind_key="component"
    ).values_list("source_id", "target_id"):
        linked.setdefault(resource_id, set()).add(component_id)
    return linked


def discovered_resources_exist(*, account_id: str, region: str, spec_type: str) -> bool:
    """Whether AWS discovery found live resources of this spec.type in the account and region. One query."""
    return Entity.objects.filter(
        kind_key="resource",
        spec_type=spec_type,
        orphaned=False,
        location__type=Location.Type.DISCOVERY,
        location__target=f"aws:{account_id}:{region}",
    ).exists()


# Declared dependencies: what entities say they call, for comparing with what is observed (X-Ray).


@dataclass(frozen=True)
class DeclaredDependency:
    caller_id: int
    callee: EntityBrief
    # How it is declared: "dependsOn" (the caller's), "dependencyOf" (the callee's), "consumesApi" (the callee is
    # an API the caller consumes) or "providesApi" (the callee provides `api_key`, an API the caller consumes).
    relation: str
    api_key: str = ""
    callee_annotation: object = None  # the callee's value of the annotation asked for, None without one


def _annotation_of(prefix: str, annotation: str):
    return KeyTextTransform(annotation, KeyTransform("annotations", KeyTransform("metadata", f"{prefix}__document")))


def declared_dependencies(caller_ids: Iterable[int], *, annotation: str) -> list[DeclaredDependency]:
    """What the callers declare they call, with each callee's value of `annotation`, in three queries:
    dependsOn/dependencyOf, the APIs they consume, and those APIs' providers."""
    ids = sorted(set(caller_ids))
    if not ids:
        return []
    found: list[DeclaredDependency] = []
    only = ["id", "type", "source_id", "target_id", "target_key"]
    only += [f"source__{f}" for f in BRIEF_FIELDS] + [f"target__{f}" for f in BRIEF_FIELDS]
    rows = (
        Relation.objects.filter(
            Q(type="dependsOn", source_id__in=ids, target__isnull=False) | Q(type="dependencyOf", target_id__in=ids)
        )
        .select_related("source", "target")
        .only(*only)
        .annotate(source_value=_annotation_of("source", annotation), target_value=_annotation_of("target", annotation))
        .order_by("id")
    )
    for row in rows:
        if row.type == "dependsOn":
            caller, callee, value = row.source, row.target, row.target_value
        else:  # B dependencyOf A: A depends on B
            caller, callee, value = row.target, row.source, row.source_value
        found.append(DeclaredDependency(caller.pk, _brief_of(callee), row.type, callee_annotation=value))

    consumed = (
        Relation.objects.filter(type="consumesApi", source_id__in=ids)
        .select_related("target")
        .only("id", "target_key", "source_id", "target_id", *[f"target__{f}" for f in BRIEF_FIELDS])
        .annotate(target_value=_annotation_of("target", annotation))
        .order_by("id")
    )
    apis: list[tuple[int, str]] = []
    for row in consumed:
        apis.append((row.source_id, row.target_key))
        if row.target is not None:  # the API entity itself
            found.append(
                DeclaredDependency(
                    row.source_id, _brief_of(row.target), "consumesApi", callee_annotation=row.target_value
                )
            )
    if apis:
        providers: dict[str, list] = {}
        rows = (
            Relation.objects.filter(type="providesApi", target_key__in={key for _, key in apis})
            .select_related("source")
            .only("id", "target_key", "source_id", *[f"source__{f}" for f in BRIEF_FIELDS])
            .annotate(source_value=_annotation_of("source", annotation))
            .order_by("id")
        )
        for row in rows:
            providers.setdefault(row.target_key, []).append(row)
        for caller_id, api_key in apis:
            for row in providers.get(api_key, []):
                found.append(
                    DeclaredDependency(
                        caller_id, _brief_of(row.source), "providesApi", api_key, callee_annotation=row.source_value
                    )
                )
    return found


def _brief_of(entity: Entity) -> EntityBrief:
    return EntityBrief(**{name: getattr(entity, name) for name in BRIEF_FIELDS})


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
    owner_ref = team_owner_ref(team_slug)
    owned = (
        entity_list(params={"owner": [owner_ref], "sort": "kind"})
        .select_related("score")
        .defer("document", "search_text")
    )
    shown = list(owned[:limit])
    count = len(shown) if len(shown) < limit else owned.count()
    return TeamEntities(owner_ref=owner_ref, shown=shown, count=count)


@dataclass(frozen=True)
class TeamsComponents:
    owner_refs: list[str]  # the teams' Groups, as spec.owner names them
    shown: list[Entity]  # the first ones, A to Z, with their owning team
    count: int  # all of them


def teams_components(*, team_slugs: Iterable[str], limit: int) -> TeamsComponents:
    """The first `limit` live Components some teams own, A to Z, and how many they own: the same filter as the
    catalog's ?owner=...&kind=component. Two queries at most (the rows; the count only when there may be more)."""
    owner_refs = [team_owner_ref(slug) for slug in team_slugs]
    if not owner_refs:
        return TeamsComponents(owner_refs=[], shown=[], count=0)
    owned = entity_list(params={"owner": owner_refs, "kind": ["component"], "orphaned": "false", "sort": "name"})
    owned = owned.select_related(None).select_related("owner_team").defer("document", "search_text")
    shown = list(owned[:limit])
    count = len(shown) if len(shown) < limit else owned.count()
    return TeamsComponents(owner_refs=owner_refs, shown=shown, count=count)
