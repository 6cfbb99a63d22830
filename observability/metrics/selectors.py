"""Reads for observability pages: which AWS resources each service has, their alarms, the services of a team
or system. None of them calls AWS, and none runs a query per service: each is a fixed number of queries
whatever the number of services (the query-count tests name them).

A Component's resources are the Resources linked to it in the catalog (not orphaned): those naming it
in spec.dependencyOf (how AWS discovery links what it finds) and those it names in spec.dependsOn.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import F, Q
from django.db.models.fields.json import KeyTextTransform

from catalog.annotations import ACCOUNT_ANNOTATION, ARN_ANNOTATION, REGION_ANNOTATION
from catalog.models import Entity, Relation
from observability.metrics.dimensions import ResourceRef, make_ref, needs_lookup, resource_ref
from observability.models import Alarm, CloudWatchSync, ResourceDimensions

# The fields of a Resource entity that observability reads (its document holds the ARN annotation).
RESOURCE_FIELDS = ("id", "kind_key", "namespace", "name", "title", "spec_type", "document")

STATE_ORDER = {Alarm.State.ALARM: 0, Alarm.State.INSUFFICIENT_DATA: 1, Alarm.State.OK: 2}


@dataclass(frozen=True)
class LinkedService:
    component_id: int
    namespace: str
    name: str
    resources: tuple[ResourceRef, ...]


def _prefixed(prefix: str, lookups: dict) -> Q:
    return Q(**{f"{prefix}__{key}": value for key, value in lookups.items()})


# What a query reads of the resource at either end of a relation: its fields and the three annotations.
_ANNOTATIONS = {"arn": ARN_ANNOTATION, "account": ACCOUNT_ANNOTATION, "region": REGION_ANNOTATION}


def _linked(relation_type: str, component_end: str, resource_end: str, component_lookups: dict):
    """The relations of one direction between the components matched and live Resources, as rows of the
    component's id, namespace and name, and the Resource's fields and annotations (read from its end only)."""
    columns = {
        "component_id": F(f"{component_end}_id"),
        "component_namespace": F(f"{component_end}__namespace"),
        "component_name": F(f"{component_end}__name"),
        "resource_id": F(f"{resource_end}_id"),
        **{f"resource_{name}": F(f"{resource_end}__{name}") for name in ("name", "title", "spec_type")},
        **{
            # KeyTextTransform over the joined entity's document (KT() would not follow the relation).
            f"resource_{name}": KeyTextTransform(key, f"{resource_end}__document__metadata__annotations")
            for name, key in _ANNOTATIONS.items()
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


def _ref_from(row: dict) -> ResourceRef | None:
    return make_ref(
        entity_id=row["resource_id"],
        name=row["resource_name"],
        title=row["resource_title"],
        resource_type=row["resource_spec_type"],
        arn=row["resource_arn"],
        account_id=row["resource_account"],
        region=row["resource_region"],
    )


def services_with_resources(component_lookups: dict, *, limit: int | None = None) -> list[LinkedService]:
    """Components matching `component_lookups` (e.g. {"id__in": [...]}, {"owner_key": ...}) that have linked
    AWS resources, each with them, by name. One query: the relation rows, with the resource's fields and
    annotations read from the joined entity at the Resource's end (the component's document, which may be
    large, is never read)."""
    # One query, a UNION ALL of the two directions, each read from its own index (relations by target, by
    # source). One WHERE with an OR of both made PostgreSQL plan a parallel bitmap scan of both indexes: 10 ms
    # for a catalog page's 50 components at 100,000 entities, against 1.5 ms so.
    rows = _linked("dependencyOf", "target", "source", component_lookups).union(
        _linked("dependsOn", "source", "target", component_lookups), all=True
    )
    by_component: dict[int, tuple[str, str, dict[int, ResourceRef]]] = {}
    for row in rows:
        found = by_component.setdefault(row["component_id"], (row["component_namespace"], row["component_name"], {}))
        ref = _ref_from(row)
        if ref is not None:
            found[2][ref.entity_id] = ref
    chosen = sorted(by_component.items(), key=lambda item: (item[1][1], item[1][0], item[0]))[:limit]
    return [
        LinkedService(
            component_id=component_id,
            namespace=namespace,
            name=name,
            resources=tuple(sorted(refs.values(), key=lambda ref: (ref.resource_type, ref.name))),
        )
        for component_id, (namespace, name, refs) in chosen
    ]


def entity_resources(entity: Entity) -> list[ResourceRef]:
    """The AWS resources whose metrics an entity page shows: a Component's linked ones (one query), or a
    Resource itself (none)."""
    if entity.kind_key == "resource":
        ref = resource_ref(entity)
        return [ref] if ref else []
    if entity.kind_key != "component":
        return []
    found = services_with_resources({"id": entity.pk})
    return list(found[0].resources) if found else []


def entity_alarm_summary(entity: Entity) -> tuple["AlarmSummary", list[Alarm]]:
    """An entity's alarms for its page header: two queries for a Component, one for a Resource."""
    alarms = alarms_for(ref.arn for ref in entity_resources(entity))
    summary = AlarmSummary()
    for alarm in alarms:
        summary.add(alarm)
    return summary, alarms


def dimension_lookups(refs: Iterable[ResourceRef]) -> dict[str, dict]:
    """ARN -> the dimensions the sync learnt, for the resources that need them (one query, or none)."""
    arns = {ref.arn for ref in refs if needs_lookup(ref)}
    if not arns:
        return {}
    return dict(ResourceDimensions.objects.filter(arn__in=arns).values_list("arn", "dimensions"))


def alarms_for(arns: Iterable[str]) -> list[Alarm]:
    """The synced alarms on these resources, firing ones first (one query)."""
    arns = {a for a in arns if a}
    if not arns:
        return []
    alarms = list(Alarm.objects.filter(resource_arn__in=arns).select_related("account"))
    return sorted(alarms, key=lambda a: (STATE_ORDER.get(a.state, 3), a.name))


@dataclass
class AlarmSummary:
    """The alarms of one entity (or team) at a glance: counts per state and the worst state."""

    alarm: int = 0
    insufficient: int = 0
    ok: int = 0
    firing: list[str] = field(default_factory=list)  # names of alarms in ALARM, at most FIRING_SHOWN

    FIRING_SHOWN = 3

    @property
    def total(self) -> int:
        return self.alarm + self.insufficient + self.ok

    @property
    def worst(self) -> str:
        if self.alarm:
            return Alarm.State.ALARM
        if self.insufficient:
            return Alarm.State.INSUFFICIENT_DATA
        return Alarm.State.OK if self.ok else ""

    def add(self, alarm: Alarm) -> None:
        if alarm.state == Alarm.State.ALARM:
            self.alarm += 1
            if len(self.firing) < self.FIRING_SHOWN:
                self.firing.append(alarm.name)
        elif alarm.state == Alarm.State.OK:
            self.ok += 1
        else:
            self.insufficient += 1


def alarm_states_for(entity_ids: Iterable[int]) -> dict[int, AlarmSummary]:
    """Entity id -> the summary of its alarms, for a list of entities (Components and Resources; other kinds
    and entities without alarms are left out). Three queries whatever the number of entities: the relations of
    the components to their resources (with the resources' annotations), the Resources among the ids, the alarms.
    For lists such as the catalog's (docs/observability.md, "Alarm state in lists")."""
    ids = set(entity_ids)
    if not ids:
        return {}
    services = services_with_resources({"id__in": ids})
    resources_of: dict[int, list[ResourceRef]] = {s.component_id: list(s.resources) for s in services}
    # Resources in the list are their own resource; load those not already loaded as a component's resource.
    known = {ref.entity_id: ref for refs in resources_of.values() for ref in refs}
    loose = [
        resource_ref(e)
        for e in Entity.objects.filter(pk__in=ids - known.keys(), kind_key="resource").only(*RESOURCE_FIELDS)
    ]
    for ref in [*loose, *(known[i] for i in ids & known.keys())]:
        if ref is not None:
            resources_of[ref.entity_id] = [ref]
    alarms_by_arn: dict[str, list[Alarm]] = {}
    for alarm in alarms_for(ref.arn for refs in resources_of.values() for ref in refs):
        alarms_by_arn.setdefault(alarm.resource_arn, []).append(alarm)
    summaries = {}
    for entity_id, refs in resources_of.items():
        summary = AlarmSummary()
        for arn in {ref.arn for ref in refs}:
            for alarm in alarms_by_arn.get(arn, []):
                summary.add(alarm)
        if summary.total:
            summaries[entity_id] = summary
    return summaries


def team_owner_key(team_slug: str) -> str:
    """The ref key a team's Group has in the catalog: what spec.owner names (catalog's team page uses the same)."""
    return f"group:default/{team_slug}"


def team_services(team_slug: str, *, limit: int | None = None) -> list[LinkedService]:
    return services_with_resources({"owner_key": team_owner_key(team_slug), "orphaned": False}, limit=limit)


def system_services(system: Entity, *, limit: int | None = None) -> list[LinkedService]:
    return services_with_resources({"system_key": system.ref_key, "orphaned": False}, limit=limit)


def team_alarm_summary(team_slug: str) -> tuple[AlarmSummary, list[tuple[str, Alarm]]]:
    """A team's alarms: the summary, and (service name, alarm) for those in ALARM. Three queries."""
    services = team_services(team_slug)
    service_of = {ref.arn: s.name for s in services for ref in s.resources}
    summary = AlarmSummary()
    firing = []
    for alarm in alarms_for(service_of):
        summary.add(alarm)
        if alarm.state == Alarm.State.ALARM:
            firing.append((service_of.get(alarm.resource_arn, ""), alarm))
    return summary, firing


def sync_states() -> list[CloudWatchSync]:
    return list(CloudWatchSync.objects.select_related("account").order_by("account__name", "region"))


def last_alarm_sync(account_regions: Iterable[tuple[str, str]]) -> dict[tuple[str, str], CloudWatchSync]:
    """(account id, region) -> its sync row, for the freshness line of alarm panels (one query)."""
    pairs = set(account_regions)
    if not pairs:
        return {}
    rows = CloudWatchSync.objects.filter(
        account__account_id__in={a for a, _ in pairs}, region__in={r for _, r in pairs}
    ).select_related("account")
    return {(row.account.account_id, row.region): row for row in rows if (row.account.account_id, row.region) in pairs}
