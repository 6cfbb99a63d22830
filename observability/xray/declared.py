"""Declared vs observed: the calls X-Ray saw against the dependencies the catalog declares.

A call from entity A to entity B (an edge of the service map whose two ends map to catalog
entities, see observability.xray.service_map) is declared when any of these holds:

- A's spec.dependsOn names B, or B's spec.dependencyOf names A;
- A consumes an API that B provides (A's spec.consumesApis and B's spec.providesApis share one);
- A consumes B itself, when B is an API entity X-Ray knows by name.

For an entity page this reports, over the map's time range:

- each call A makes that is not declared ("orders-api calls payments-api, not declared in dependsOn");
- each call another entity makes to it that the caller does not declare;
- each dependency A declares on something X-Ray could show (a Component, or an entity with the
  `meridian.io/xray-service-name` annotation) that no call was seen for, saying too when the
  dependency is not in X-Ray at all (not instrumented, or idle).

Nothing is said about dependencies when A itself is not in X-Ray in the range: no traffic proves
nothing. Three queries, whatever the number of relations.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform, KeyTransform

from catalog.annotations import XRAY_NAME_ANNOTATION
from catalog.models import Entity, Relation
from observability.xray.service_map import EntityLink, ServiceMap

UNDECLARED_CALL = "undeclared_call"  # this entity calls another, undeclared
UNDECLARED_CALLER = "undeclared_caller"  # another entity calls this one, undeclared
UNOBSERVED = "unobserved"  # declared, never seen

_BRIEF = ("id", "ref_key", "kind", "kind_key", "namespace", "name", "title", "system_key", "owner_key", "owner_team_id")


def _link(entity: Entity) -> EntityLink:
    return EntityLink(
        id=entity.pk,
        ref_key=entity.ref_key,
        kind=entity.kind,
        kind_key=entity.kind_key,
        namespace=entity.namespace,
        name=entity.name,
        title=entity.title,
        system_key=entity.system_key,
        owner_key=entity.owner_key,
        owner_team_id=entity.owner_team_id,
    )


def _annotation_of(prefix: str):
    return KeyTextTransform(
        XRAY_NAME_ANNOTATION, KeyTransform("annotations", KeyTransform("metadata", f"{prefix}__document"))
    )


@dataclass(frozen=True)
class Declaration:
    caller_id: int
    callee: EntityLink
    via: str  # "dependsOn", "dependencyOf", or "the API api:orders"
    callee_traceable: bool  # X-Ray could show it: a Component, or annotated with its X-Ray name


def declarations(caller_ids) -> list[Declaration]:
    """What the callers declare they call, in three queries: dependsOn/dependencyOf, APIs consumed, their providers."""
    ids = sorted(set(caller_ids))
    if not ids:
        return []
    found: list[Declaration] = []
    only = ["id", "type", "source_id", "target_id", "target_key"]
    only += [f"source__{f}" for f in _BRIEF] + [f"target__{f}" for f in _BRIEF]
    rows = (
        Relation.objects.filter(
            Q(type="dependsOn", source_id__in=ids, target__isnull=False) | Q(type="dependencyOf", target_id__in=ids)
        )
        .select_related("source", "target")
        .only(*only)
        .annotate(source_xray=_annotation_of("source"), target_xray=_annotation_of("target"))
        .order_by("id")
    )
    for row in rows:
        if row.type == "dependsOn":
            caller, callee, annotated = row.source, row.target, row.target_xray
        else:  # B dependencyOf A: A depends on B
            caller, callee, annotated = row.target, row.source, row.source_xray
        traceable = callee.kind_key == "component" or bool(annotated)
        found.append(Declaration(caller.pk, _link(callee), row.type, traceable))

    consumed = (
        Relation.objects.filter(type="consumesApi", source_id__in=ids)
        .select_related("target")
        .only("id", "target_key", "source_id", "target_id", *[f"target__{f}" for f in _BRIEF])
        .annotate(target_xray=_annotation_of("target"))
        .order_by("id")
    )
    apis: list[tuple[int, str]] = []
    for row in consumed:
        apis.append((row.source_id, row.target_key))
        if row.target is not None:  # the API entity itself, which X-Ray may know by its annotation
            found.append(Declaration(row.source_id, _link(row.target), "consumesApi", bool(row.target_xray)))
    if apis:
        providers = defaultdict(list)
        rows = (
            Relation.objects.filter(type="providesApi", target_key__in={key for _, key in apis})
            .select_related("source")
            .only("id", "target_key", "source_id", *[f"source__{f}" for f in _BRIEF])
            .annotate(source_xray=_annotation_of("source"))
            .order_by("id")
        )
        for row in rows:
            providers[row.target_key].append(row)
        for caller_id, api_key in apis:
            for row in providers[api_key]:
                traceable = row.source.kind_key == "component" or bool(row.source_xray)
                via = f"the API {api_key.replace(':default/', ':', 1)}"
                found.append(Declaration(caller_id, _link(row.source), via, traceable))
    return found


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str
    other: EntityLink | None  # the entity at the other end
    requests: int | None  # calls seen, for observed ones


@dataclass
class Comparison:
    entity_name: str
    observed: bool  # the entity is in X-Ray in this range
    window_label: str
    findings: list[Finding] = field(default_factory=list)
    matching: int = 0  # declared dependencies seen as calls

    @property
    def undeclared(self) -> list[Finding]:
        return [f for f in self.findings if f.kind in (UNDECLARED_CALL, UNDECLARED_CALLER)]

    @property
    def unobserved(self) -> list[Finding]:
        return [f for f in self.findings if f.kind == UNOBSERVED]


def compare(entity: Entity, smap: ServiceMap) -> Comparison:
    """What X-Ray saw of `entity` in the whole map (not narrowed) against what the catalog declares."""
    window = smap.window.phrase
    comparison = Comparison(entity_name=entity.name, observed=False, window_label=window)
    nodes = smap.by_key
    own = {n.key for n in smap.nodes if n.entity is not None and n.entity.id == entity.pk}
    if not own:
        return comparison
    comparison.observed = True
    # Calls between entities, summed over the X-Ray nodes that stand for each.
    seen: dict[tuple[int, int], int] = defaultdict(int)
    links: dict[int, EntityLink] = {}
    for edge in smap.edges:
        if edge.source not in own and edge.target not in own:
            continue
        caller, callee = nodes[edge.source].entity, nodes[edge.target].entity
        if caller is None or callee is None or caller.id == callee.id:
            continue
        seen[(caller.id, callee.id)] += edge.calls.total
        links[caller.id], links[callee.id] = caller, callee
    callers = {entity.pk} | {a for a, b in seen if b == entity.pk}
    declared = declarations(callers)
    pairs = {(d.caller_id, d.callee.id) for d in declared}

    for (caller_id, callee_id), requests in sorted(seen.items(), key=lambda item: (item[0][0] != entity.pk, -item[1])):
        if (caller_id, callee_id) in pairs:
            comparison.matching += caller_id == entity.pk
            continue
        caller, callee = links[caller_id], links[callee_id]
        if caller_id == entity.pk:
            comparison.findings.append(
                Finding(
                    UNDECLARED_CALL,
                    f"{caller.name} calls {callee.name}, not declared in dependsOn "
                    f"(nor through an API {callee.name} provides): {requests:,} calls in {window}.",
                    callee,
                    requests,
                )
            )
        else:
            comparison.findings.append(
                Finding(
                    UNDECLARED_CALLER,
                    f"{caller.name} calls {callee.name}, not declared in {caller.name}'s dependsOn "
                    f"(nor through an API {callee.name} provides): {requests:,} calls in {window}.",
                    caller,
                    requests,
                )
            )

    in_xray = {n.entity.id for n in smap.nodes if n.entity is not None}
    reported: set[int] = set()
    for declaration in declared:
        callee = declaration.callee
        if declaration.caller_id != entity.pk or not declaration.callee_traceable or callee.id == entity.pk:
            continue
        if (entity.pk, callee.id) in seen or callee.id in reported:
            continue
        reported.add(callee.id)
        absent = "" if callee.id in in_xray else f"; {callee.name} is not in X-Ray at all (not instrumented, or idle)"
        comparison.findings.append(
            Finding(
                UNOBSERVED,
                f"{entity.name} declares a dependency on {callee.name} ({declaration.via}), "
                f"never observed in {window}{absent}.",
                callee,
                None,
            )
        )
    return comparison
