"""The catalog's own scorecard rules, and the batch loaders they read; the registry finds this module as it
finds every app's scorecard_rules (catalog.scorecards.registry).

Conventions a team follows to pass them (also in docs/catalog.md):

- runbook: a `metadata.links` entry whose `type` is "runbook" or whose title contains
  "runbook", or the annotation `meridian.io/runbook: <url>`;
- on-call: any `pagerduty.com/...` annotation (the PagerDuty plugin's `pagerduty.com/service-id`
  or `pagerduty.com/integration-key`), any `opsgenie.com/...` annotation (`opsgenie.com/team`,
  `opsgenie.com/component-selector`), or `meridian.io/oncall: <rota or URL>`;
- linked AWS resources: at least one Resource found by AWS discovery (not orphaned) that names
  the component in `spec.dependencyOf` or that the component names in `spec.dependsOn`.
"""

from catalog.annotations import ONCALL_ANNOTATION, ONCALL_ANNOTATION_PREFIXES, RUNBOOK_ANNOTATION
from catalog.models import Entity, Location, Relation, ScoreLevel
from catalog.refs import RefError, parse_ref
from catalog.scorecards.api_definitions import definition_problem
from catalog.scorecards.registry import ScoringContext, context_provider, rule

OWNED_KINDS = {"component", "api", "resource", "system", "domain"}
OWNER_KINDS = ("group", "user")
# Components of these types run nowhere, so "linked AWS resources" does not apply to them.
NOT_DEPLOYED_COMPONENT_TYPES = {"library", "documentation"}


def _owner_key(entity: Entity) -> str:
    owner = entity.spec.get("owner")
    if not owner:
        return ""
    try:
        return parse_ref(owner, default_kind="Group", default_namespace=entity.namespace).key
    except RefError:
        return ""


# --- batch loaders ----------------------------------------------------------------------------


@context_provider("existing_owners")
def existing_owners(entities: list[Entity]) -> set[str]:
    """Ref keys of the batch's owners that exist as Group or User entities (one query)."""
    keys = {k for k in (_owner_key(e) for e in entities) if k}
    if not keys:
        return set()
    return set(
        Entity.objects.filter(ref_key__in=keys, kind_key__in=OWNER_KINDS, orphaned=False).values_list(
            "ref_key", flat=True
        )
    )


@context_provider("provided_apis")
def provided_apis(entities: list[Entity]) -> dict[int, list[tuple[str, bool]]]:
    """Component id -> [(API ref key, resolves?)] for the batch's components (one query)."""
    ids = [e.pk for e in entities if e.kind_key == "component"]
    found: dict[int, list[tuple[str, bool]]] = {}
    if not ids:
        return found
    rows = (
        Relation.objects.filter(source_id__in=ids, type="providesApi")
        .order_by()
        .values_list("source_id", "target_key", "target_id")
    )
    for source_id, target_key, target_id in rows:
        found.setdefault(source_id, []).append((target_key, target_id is not None))
    return found


@context_provider("linked_resources")
def linked_resources(entities: list[Entity]) -> set[int]:
    """Ids of the batch's components linked to a discovered, not orphaned Resource (two queries)."""
    components = {e.ref_key: e.pk for e in entities if e.kind_key == "component"}
    if not components:
        return set()
    discovered = {"orphaned": False, "kind_key": "resource", "location__type": Location.Type.DISCOVERY}
    named_by_resource = Relation.objects.filter(
        type="dependencyOf",
        target_key__in=list(components),
        **{f"source__{k}": v for k, v in discovered.items()},
    ).values_list("target_key", flat=True)
    linked = {components[key] for key in named_by_resource.order_by().distinct()}
    depends_on_resource = Relation.objects.filter(
        type="dependsOn",
        source_id__in=list(components.values()),
        **{f"target__{k}": v for k, v in discovered.items()},
    ).values_list("source_id", flat=True)
    linked.update(depends_on_resource.order_by().distinct())
    return linked


# --- rules --------------------------------------------------------------------------------------


@rule(
    id="has-owner",
    title="Has an owner",
    why="Someone has to answer for it: spec.owner names a team (Group) or person (User) in the catalog.",
    kinds=OWNED_KINDS,
    level=ScoreLevel.BRONZE,
    needs=("existing_owners",),
)
def has_owner(entity: Entity, context: ScoringContext) -> bool:
    key = _owner_key(entity)
    return bool(key) and key in context["existing_owners"]


@rule(
    id="has-description",
    title="Has a description",
    why="People who find it in the catalog need a sentence on what it is for.",
    kinds=OWNED_KINDS | {"group"},
    level=ScoreLevel.BRONZE,
)
def has_description(entity: Entity, context: ScoringContext) -> bool | None:
    # Discovery writes a description of every resource it finds: passing on it would reward the discovery,
    # not the team. Whether the resource is tagged with its team (has-owner) is what the team did. Scored
    # entities come with their location (catalog.scorecards.services, the entity page), so this reads no row.
    if entity.location_id is not None and entity.location.type == Location.Type.DISCOVERY:
        return None
    description = entity.metadata.get("description")
    return isinstance(description, str) and bool(description.strip())


@rule(
    id="has-lifecycle",
    title="Has a lifecycle",
    why="spec.lifecycle (experimental, production, deprecated) tells others whether they may rely on it.",
    kinds={"component", "api"},
    level=ScoreLevel.BRONZE,
)
def has_lifecycle(entity: Entity, context: ScoringContext) -> bool:
    lifecycle = entity.spec.get("lifecycle")
    return isinstance(lifecycle, str) and bool(lifecycle.strip())


@rule(
    id="has-runbook",
    title="Links a runbook",
    why="Whoever is paged at night needs the runbook one click away: a link of type runbook.",
    kinds={"component"},
    level=ScoreLevel.SILVER,
)
def has_runbook(entity: Entity, context: ScoringContext) -> bool:
    for link in entity.links:
        if not isinstance(link, dict) or not link.get("url"):
            continue
        if str(link.get("type") or "").lower() == "runbook" or "runbook" in str(link.get("title") or "").lower():
            return True
    return bool(str(entity.annotations.get(RUNBOOK_ANNOTATION) or "").strip())


@rule(
    id="has-oncall",
    title="Names its on-call",
    why="An incident needs a rota to page: a PagerDuty or Opsgenie annotation, or meridian.io/oncall.",
    kinds={"component"},
    level=ScoreLevel.SILVER,
)
def has_oncall(entity: Entity, context: ScoringContext) -> bool:
    for key, value in entity.annotations.items():
        named = key == ONCALL_ANNOTATION or key.startswith(ONCALL_ANNOTATION_PREFIXES)
        if named and str(value or "").strip():
            return True
    return False


@rule(
    id="valid-api-definition",
    title="Valid API definition",
    why="Consumers build against the definition: an API's must parse, and the APIs a component provides must exist.",
    kinds={"api", "component"},
    level=ScoreLevel.SILVER,
    needs=("provided_apis",),
)
def valid_api_definition(entity: Entity, context: ScoringContext) -> bool | None:
    if entity.kind_key == "api":
        return not definition_problem(entity.spec.get("type", ""), entity.spec.get("definition"))
    provided = context["provided_apis"].get(entity.pk)
    if not provided:
        return None
    return all(resolved for _, resolved in provided)


@rule(
    id="linked-aws-resources",
    title="Linked to its AWS resources",
    why="Linked resources put its metrics, costs and compliance on its page: tag them with its service name.",
    kinds={"component"},
    level=ScoreLevel.GOLD,
    needs=("linked_resources",),
)
def linked_aws_resources(entity: Entity, context: ScoringContext) -> bool | None:
    if str(entity.spec.get("type") or "").lower() in NOT_DEPLOYED_COMPONENT_TYPES:
        return None
    return entity.pk in context["linked_resources"]
