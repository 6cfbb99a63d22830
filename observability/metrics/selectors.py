"""Reads for observability pages: which AWS resources each service has, their alarms, the services of a team
or system. None of them calls AWS, and none runs a query per service: each is a fixed number of queries
whatever the number of services (the query-count tests name them).

A Component's resources are the Resources linked to it in the catalog (not orphaned): those naming it
in spec.dependencyOf (how AWS discovery links what it finds) and those it names in spec.dependsOn.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from catalog import selectors as catalog_selectors
from catalog.models import Entity
from catalog.selectors import AwsResource, ComponentResource
from observability.metrics.dimensions import ResourceRef, make_ref, needs_lookup, resource_ref
from observability.models import Alarm, CloudWatchSync, ResourceDimensions

STATE_ORDER = {Alarm.State.ALARM: 0, Alarm.State.INSUFFICIENT_DATA: 1, Alarm.State.OK: 2}


@dataclass(frozen=True)
class LinkedService:
    component_id: int
    namespace: str
    name: str
    resources: tuple[ResourceRef, ...]


def _ref_from(resource: AwsResource) -> ResourceRef | None:
    return make_ref(
        entity_id=resource.entity_id,
        name=resource.name,
        title=resource.title,
        resource_type=resource.spec_type,
        arn=resource.arn,
        account_id=resource.account_id,
        region=resource.region,
    )


def _services(rows: list[ComponentResource], *, limit: int | None = None) -> list[LinkedService]:
    """The catalog's rows of (component, resource) grouped per component, by name, each with its resources."""
    by_component: dict[int, tuple[str, str, dict[int, ResourceRef]]] = {}
    for row in rows:
        found = by_component.setdefault(row.component_id, (row.component_namespace, row.component_name, {}))
        ref = _ref_from(row.resource)
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


def services_with_resources(ids: Iterable[int]) -> list[LinkedService]:
    """The Components among `ids` that have linked AWS resources, each with them, by name. One query."""
    return _services(catalog_selectors.component_resources(ids=ids))


def entity_resources(entity: Entity) -> list[ResourceRef]:
    """The AWS resources whose metrics an entity page shows: a Component's linked ones (one query), or a
    Resource itself (none)."""
    if entity.kind_key == "resource":
        ref = resource_ref(entity)
        return [ref] if ref else []
    if entity.kind_key != "component":
        return []
    found = services_with_resources([entity.pk])
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
    services = services_with_resources(ids)
    resources_of: dict[int, list[ResourceRef]] = {s.component_id: list(s.resources) for s in services}
    # Resources in the list are their own resource; load those not already loaded as a component's resource.
    known = {ref.entity_id: ref for refs in resources_of.values() for ref in refs}
    loose = [resource_ref(e) for e in catalog_selectors.resource_entities(ids - known.keys())]
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


def team_services(team_slug: str, *, limit: int | None = None) -> list[LinkedService]:
    rows = catalog_selectors.component_resources(owner_refs=[catalog_selectors.team_owner_ref(team_slug)])
    return _services(rows, limit=limit)


def system_services(system: Entity, *, limit: int | None = None) -> list[LinkedService]:
    return _services(catalog_selectors.component_resources(system_ref=system.ref_key), limit=limit)


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


def teams_firing_alarms(team_slugs: Iterable[str]) -> list[tuple[LinkedService, Alarm]]:
    """(service, alarm) for every alarm in ALARM on the AWS resources of the services some teams own, as last
    synced (observability.metrics.tasks), longest firing first. Two queries whatever the number of teams."""
    owner_refs = [catalog_selectors.team_owner_ref(slug) for slug in team_slugs]
    if not owner_refs:
        return []
    services = _services(catalog_selectors.component_resources(owner_refs=owner_refs))
    service_of = {ref.arn: service for service in services for ref in service.resources}
    firing = [alarm for alarm in alarms_for(service_of) if alarm.state == Alarm.State.ALARM]
    firing.sort(key=lambda alarm: (alarm.state_updated_at is None, alarm.state_updated_at, alarm.name))
    return [(service_of[alarm.resource_arn], alarm) for alarm in firing]


def sync_states() -> list[CloudWatchSync]:
    return list(CloudWatchSync.objects.select_related("account").order_by("account__name", "region"))
