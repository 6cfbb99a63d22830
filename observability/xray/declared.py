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

from catalog.annotations import XRAY_NAME_ANNOTATION
from catalog.models import Entity
from catalog.selectors import DeclaredDependency, EntityBrief, declared_dependencies
from observability.xray.service_map import ServiceMap

UNDECLARED_CALL = "undeclared_call"  # this entity calls another, undeclared
UNDECLARED_CALLER = "undeclared_caller"  # another entity calls this one, undeclared
UNOBSERVED = "unobserved"  # declared, never seen


@dataclass(frozen=True)
class Declaration:
    caller_id: int
    callee: EntityBrief
    via: str  # "dependsOn", "dependencyOf", or "the API api:orders"
    callee_traceable: bool  # X-Ray could show it: a Component, or annotated with its X-Ray name


def _via(dependency: DeclaredDependency) -> str:
    if dependency.relation == "providesApi":
        return f"the API {dependency.api_key.replace(':default/', ':', 1)}"
    return dependency.relation


def declarations(caller_ids) -> list[Declaration]:
    """What the callers declare they call (three queries, catalog.selectors.declared_dependencies). A callee is
    traceable when X-Ray could show it: a Component, or an entity annotated with its X-Ray name; the API entity a
    caller consumes only by its annotation (X-Ray shows the API's provider, not the API)."""
    found = []
    for dependency in declared_dependencies(caller_ids, annotation=XRAY_NAME_ANNOTATION):
        annotated = bool(dependency.callee_annotation)
        traceable = (
            annotated
            if dependency.relation == "consumesApi"
            else (dependency.callee.kind_key == "component" or annotated)
        )
        found.append(Declaration(dependency.caller_id, dependency.callee, _via(dependency), traceable))
    return found


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str
    other: EntityBrief | None  # the entity at the other end
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
    links: dict[int, EntityBrief] = {}
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
