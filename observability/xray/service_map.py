"""The X-Ray service map: the graphs of every configured account and region, merged, mapped to the catalog.

    service_map(window, estate_scope())         the whole estate
    service_map(window, system_scope(system))   a system's services and their direct neighbours
    service_map(window, team_scope(team))       a team's services and their direct neighbours
    service_map(window, entity_scope(entity))   one service and its direct neighbours

Fetching: one GetServiceGraph (and its pages) per enabled AwsAccount and each of its regions,
through observability.xray.aws, each answer kept for a minute (fresh_for()) per (account, region, range)
by portal.aws.freshness.fetch_or_last_good: a second view within a minute makes no AWS call, and
when AWS is slow, throttling or down the page gets the last good graph, marked stale, with the
reason. Calls are made with the client factory's page timeouts and stop once the page has spent
PAGE_AWS_BUDGET seconds on AWS, so AWS trouble costs a page a few seconds at most, never an error.

Merging: nodes are X-Ray's services by (name, type); the same service seen in two accounts or
regions is one node with the calls of both. X-Ray's "client" nodes (one in front of each entry
point) become one node, "Clients".

Nodes to entities (three queries whatever the graph's size): an entity whose annotation
`meridian.io/xray-service-name` names the node (a name, or several separated by commas: an ECS
service and its Lambda twin, a DynamoDB table as X-Ray names it); else, for an AWS resource
(DynamoDB table, SQS queue, SNS topic, S3 bucket), the Resource AWS discovery made of it, found
by its ARN (observability.xray.resources); else, for a service, the Component of the node's name
(case-insensitively; the default namespace first).

Health of a node (the calls it answered) or an edge (the calls over it), worst first:

    critical   faults (5xx) >= 5% of the calls
    warning    faults >= 1%, or errors (4xx) >= 10%, or throttles (429) >= 5%
    ok         calls, below those
    idle       no calls of its own in the range (clients, services that only called others)

Latency p50/p99 come from the response-time histograms (nearest rank over the buckets).
"""

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property

from django.conf import settings

from catalog import selectors as catalog_selectors
from catalog.annotations import XRAY_NAME_ANNOTATION
from catalog.models import Entity
from catalog.selectors import EntityBrief
from observability.timeranges import Window
from observability.xray import aws as aws_xray
from observability.xray.aws import Calls, ServiceGraph
from observability.xray.resources import display_name, is_aws_resource, resource_arn
from portal.aws.clients import PageBudget, page_timeouts
from portal.aws.freshness import Fetched, fetch_or_last_good
from portal.aws.models import AwsAccount
from portal.aws.selectors import enabled_account_regions

CLIENTS = "clients"

FAULT_CRITICAL = 0.05
FAULT_WARNING = 0.01
ERROR_WARNING = 0.10
THROTTLE_WARNING = 0.05

CRITICAL, WARNING, OK, IDLE = "critical", "warning", "ok", "idle"
HEALTH_ORDER = (CRITICAL, WARNING, OK, IDLE)
HEALTH_COLOURS = {CRITICAL: "#dc3545", WARNING: "#fd7e14", OK: "#198754", IDLE: "#adb5bd"}
HEALTH_LABELS = {
    CRITICAL: f"faults ≥ {FAULT_CRITICAL:.0%}",
    WARNING: f"faults ≥ {FAULT_WARNING:.0%}, errors ≥ {ERROR_WARNING:.0%} or throttles ≥ {THROTTLE_WARNING:.0%}",
    OK: "healthy",
    IDLE: "no calls answered",
}


def fresh_for() -> timedelta:
    """How long an X-Ray answer serves views without asking AWS again (OBSERVABILITY_XRAY_FRESH_SECONDS)."""
    return timedelta(seconds=settings.OBSERVABILITY_XRAY_FRESH_SECONDS)


# --- traffic figures ----------------------------------------------------------------------------------------


def merge_calls(first: Calls | None, second: Calls | None) -> Calls | None:
    if first is None or second is None:
        return first or second
    buckets: dict[float, int] = defaultdict(int)
    for value, count in first.histogram + second.histogram:
        buckets[value] += count
    return Calls(
        total=first.total + second.total,
        ok=first.ok + second.ok,
        errors=first.errors + second.errors,
        throttles=first.throttles + second.throttles,
        faults=first.faults + second.faults,
        response_time=first.response_time + second.response_time,
        histogram=tuple(sorted(buckets.items())),
    )


def percentile(histogram: Iterable[tuple[float, int]], fraction: float) -> float | None:
    """The value at `fraction` (0.5, 0.99) of a histogram of (value, count), by nearest rank; None if empty."""
    buckets = sorted(histogram)
    total = sum(count for _, count in buckets)
    if total <= 0:
        return None
    rank = max(1, math.ceil(round(fraction * total, 9)))  # rounded first: 0.99 * 100 is 99.00000000000001
    seen = 0
    for value, count in buckets:
        seen += count
        if seen >= rank:
            return value
    return buckets[-1][0]


@dataclass(frozen=True)
class Traffic:
    requests: int
    fault_rate: float
    error_rate: float
    throttle_rate: float
    p50: float | None  # seconds
    p99: float | None
    mean: float | None
    health: str

    @property
    def colour(self) -> str:
        return HEALTH_COLOURS[self.health]


def health_of(calls: Calls | None) -> str:
    if calls is None or calls.total <= 0:
        return IDLE
    faults, errors, throttles = (n / calls.total for n in (calls.faults, calls.errors, calls.throttles))
    if faults >= FAULT_CRITICAL:
        return CRITICAL
    if faults >= FAULT_WARNING or errors >= ERROR_WARNING or throttles >= THROTTLE_WARNING:
        return WARNING
    return OK


def traffic(calls: Calls | None) -> Traffic:
    if calls is None or calls.total <= 0:
        return Traffic(0, 0.0, 0.0, 0.0, None, None, None, IDLE)
    return Traffic(
        requests=calls.total,
        fault_rate=calls.faults / calls.total,
        error_rate=calls.errors / calls.total,
        throttle_rate=calls.throttles / calls.total,
        p50=percentile(calls.histogram, 0.5),
        p99=percentile(calls.histogram, 0.99),
        mean=calls.response_time / calls.total,
        health=health_of(calls),
    )


# --- fetching -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceState:
    """How one account and region's graph was got: when AWS gave it, and why not this time if it did not."""

    account_name: str
    account_id: str
    region: str
    fetched_at: object  # datetime | None
    stale: bool
    error: str
    error_code: str

    @property
    def label(self) -> str:
        return f"{self.account_name} {self.region}"


def graph_cache_key(account: AwsAccount, region: str, window: Window) -> str:
    return f"xray:service-graph:{account.account_id}:{region}:{window.cache_key}"


def fetch_graphs(
    window: Window, sources: list[tuple[AwsAccount, str]] | None = None
) -> list[tuple[SourceState, ServiceGraph | None]]:
    """Each source's graph: cached, else fetched (page timeouts) while the page's AWS budget lasts, else last good."""
    sources = enabled_account_regions() if sources is None else sources
    budget = PageBudget()  # cached graphs cost it nothing
    timeouts = page_timeouts()
    found = []
    for account, region in sources:

        def fetch(account=account, region=region):
            budget.check(f"the X-Ray graph of {account.name} {region} was not fetched")
            with budget.spending():
                return aws_xray.service_graph(account, region, start=window.start, end=window.end, timeouts=timeouts)

        result: Fetched = fetch_or_last_good(graph_cache_key(account, region, window), fetch, fresh_for=fresh_for())
        state = SourceState(
            account_name=account.name,
            account_id=account.account_id,
            region=region,
            fetched_at=result.fetched_at,
            stale=result.stale,
            error=result.error,
            error_code=result.error_code,
        )
        found.append((state, result.value))
    return found


# --- nodes to entities --------------------------------------------------------------------------------------


def annotated_names(value) -> list[str]:
    if not isinstance(value, str):
        return []
    return [name.strip() for name in value.split(",") if name.strip()]


def annotated_entities(names: Iterable[str]) -> dict[str, EntityBrief]:
    """The entity whose meridian.io/xray-service-name annotation names each X-Ray service name. One query."""
    wanted = set(names)
    found: dict[str, EntityBrief] = {}
    if not wanted:
        return found
    for entity, value in catalog_selectors.entities_with_annotation(XRAY_NAME_ANNOTATION):
        for name in annotated_names(value):
            if name in wanted and name not in found:
                found[name] = entity
    return found


def components_for_names(names: Iterable[str]) -> dict[str, EntityBrief]:
    """The Component of each name, ignoring case, a live one and one of the default namespace first. One query."""
    wanted = {name.lower(): name for name in sorted(set(names))}
    found: dict[str, EntityBrief] = {}
    if not wanted:
        return found
    components = catalog_selectors.components_named(wanted)
    for entity, _ in sorted(components, key=lambda c: (c[1], c[0].namespace != "default", c[0].ref_key)):
        name = wanted.get(entity.name.lower())
        if name is not None and name not in found:
            found[name] = entity
    return found


def entities_for_names(names: Iterable[str]) -> dict[str, EntityBrief]:
    """The entity each X-Ray service name stands for (annotation first, then a Component's name). Two queries."""
    wanted = set(names)
    found = annotated_entities(wanted)
    found.update(components_for_names(wanted - set(found)))
    return found


def link_entities(nodes: list["MapNode"]) -> None:
    """Set each node's entity: the annotation's, else for an AWS resource the Resource discovery made of its ARN,
    else for a service the Component of its name. A table called `orders` is never the Component `orders`.
    Three queries whatever the map's size."""
    named = [n for n in nodes if not n.is_client]
    annotated = annotated_entities(n.name for n in named)
    unlinked = [n for n in named if n.name not in annotated]
    resources = catalog_selectors.resources_by_arn(arn for n in unlinked for arn in n.arns)
    services = components_for_names(n.name for n in unlinked if not is_aws_resource(n.type))
    for node in named:
        node.entity = (
            annotated.get(node.name)
            or next((resources[arn] for arn in node.arns if arn in resources), None)
            or services.get(node.name)
        )


def xray_names_of(entity: Entity) -> list[str]:
    """The X-Ray service names that stand for this entity: its annotation's, else its own name."""
    return annotated_names(entity.annotations.get(XRAY_NAME_ANNOTATION)) or [entity.name]


# --- scopes -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    kind: str  # estate, system, team, entity
    label: str
    contains: Callable[[EntityBrief], bool] | None  # None: everything (the estate)


def estate_scope() -> Scope:
    return Scope("estate", "the estate", None)


def system_scope(system: Entity) -> Scope:
    key = system.ref_key
    return Scope("system", system.title or system.name, lambda link: link.system_key == key or link.ref_key == key)


def team_scope(team) -> Scope:
    group = catalog_selectors.team_owner_ref(team.slug)
    team_id = team.pk
    return Scope("team", team.name, lambda link: link.owner_team_id == team_id or link.owner_key == group)


def entity_scope(entity: Entity) -> Scope:
    entity_id = entity.pk
    return Scope("entity", entity.name, lambda link: link.id == entity_id)


# --- the map ------------------------------------------------------------------------------------------------


@dataclass
class MapNode:
    key: str
    name: str
    type: str
    calls: Calls | None = None
    entity: EntityBrief | None = None
    sources: list[tuple[str, str]] = field(default_factory=list)  # (account name, region) it was seen in
    in_scope: bool = True
    instrumented: bool = False  # X-Ray's State "active": the service writes segments (not inferred, not a client)
    arns: list[str] = field(default_factory=list)  # an AWS resource's ARN in each account and region it was seen in

    @property
    def label(self) -> str:
        """What the map calls it: X-Ray's name, or the resource's own name where X-Ray shows an ARN."""
        return display_name(self.name)

    @cached_property
    def traffic(self) -> Traffic:
        # Read once the graphs are merged (merging changes `calls`); a narrowed copy computes its own.
        return traffic(self.calls)

    @property
    def is_client(self) -> bool:
        return self.key == CLIENTS

    @property
    def inferred(self) -> bool:
        """An AWS resource or remote endpoint X-Ray inferred from calls to it, not an instrumented service."""
        return not self.instrumented and not self.is_client


@dataclass
class MapEdge:
    source: str
    target: str
    calls: Calls

    @cached_property
    def traffic(self) -> Traffic:
        # Read once the graphs are merged (merging changes `calls`); a narrowed copy computes its own.
        return traffic(self.calls)


@dataclass
class ServiceMap:
    scope: Scope
    window: Window
    nodes: list[MapNode]  # by key
    edges: list[MapEdge]  # by (source, target)
    sources: list[SourceState]

    @property
    def by_key(self) -> dict[str, MapNode]:
        return {node.key: node for node in self.nodes}

    @property
    def fetched_at(self):
        """When the oldest graph shown was fetched (None if none was)."""
        times = [s.fetched_at for s in self.sources if s.fetched_at is not None]
        return min(times) if times else None

    @property
    def stale(self) -> bool:
        return any(s.stale for s in self.sources)

    @property
    def notices(self) -> list[SourceState]:
        return [s for s in self.sources if s.stale]

    @property
    def never_fetched(self) -> bool:
        return bool(self.sources) and all(s.fetched_at is None for s in self.sources)


def node_key(name: str, type_: str) -> str:
    return CLIENTS if type_ == "client" else f"{type_}|{name}"


def merge_graphs(fetched: list[tuple[SourceState, ServiceGraph | None]]) -> tuple[list[MapNode], list[MapEdge]]:
    nodes: dict[str, MapNode] = {}
    edges: dict[tuple[str, str], MapEdge] = {}
    for state, graph in fetched:
        if graph is None:
            continue
        keys = {}
        for service in graph.services:
            key = node_key(service.name, service.type)
            keys[service.reference_id] = key
            node = nodes.get(key)
            if node is None:
                name = "Clients" if key == CLIENTS else service.name
                node = nodes[key] = MapNode(key=key, name=name, type=service.type or "")
            node.calls = merge_calls(node.calls, service.calls)
            node.instrumented = node.instrumented or (service.state == "active" and key != CLIENTS)
            if (state.account_name, state.region) not in node.sources:
                node.sources.append((state.account_name, state.region))
            arn = resource_arn(
                node_type=node.type, name=service.name, account_id=service.account_id, region=state.region
            )
            if arn is not None and arn not in node.arns:
                node.arns.append(arn)
        for edge in graph.edges:
            source, target = keys.get(edge.source), keys.get(edge.target)
            if source is None or target is None:
                continue
            found = edges.get((source, target))
            if found is None:
                edges[(source, target)] = MapEdge(source=source, target=target, calls=edge.calls)
            else:
                found.calls = merge_calls(found.calls, edge.calls)
    _stitch(nodes, edges)
    return sorted(nodes.values(), key=lambda n: n.key), [edges[k] for k in sorted(edges)]


def _stitch(nodes: dict[str, MapNode], edges: dict[tuple[str, str], MapEdge]) -> None:
    """Join calls that cross accounts or regions, which each X-Ray sees one half of.

    The caller's X-Ray shows the call as going to an inferred "remote" node named after the callee;
    the callee's X-Ray shows the callee as an entry point called by clients. When exactly one
    instrumented service has that name, the remote node is that service: its calls are redirected to
    it, and its clients' calls, when no more than the redirected ones, were those calls seen from the
    other side and are dropped.
    """
    instrumented: dict[str, list[str]] = defaultdict(list)
    for node in nodes.values():
        if node.instrumented:
            instrumented[node.name].append(node.key)
    redirected: dict[str, int] = defaultdict(int)
    for key in [k for k, n in nodes.items() if n.type == "remote" and not n.instrumented]:
        targets = instrumented.get(nodes[key].name, [])
        if len(targets) != 1:
            continue
        target = targets[0]
        for pair in [pair for pair in edges if key in pair]:
            edge = edges.pop(pair)
            source, callee = (target if end == key else end for end in pair)
            if source == callee:
                continue
            found = edges.get((source, callee))
            if found is None:
                edges[(source, callee)] = MapEdge(source=source, target=callee, calls=edge.calls)
            else:
                found.calls = merge_calls(found.calls, edge.calls)
            if callee == target:
                redirected[target] += edge.calls.total
        for seen in nodes.pop(key).sources:
            if seen not in nodes[target].sources:
                nodes[target].sources.append(seen)
    for target, count in redirected.items():
        entry = edges.get((CLIENTS, target))
        if entry is not None and entry.calls.total <= count:
            del edges[(CLIENTS, target)]
    if CLIENTS in nodes and not any(CLIENTS in pair for pair in edges):
        del nodes[CLIENTS]


def narrow(nodes: list[MapNode], edges: list[MapEdge], scope: Scope) -> tuple[list[MapNode], list[MapEdge]]:
    """The scope's nodes, their direct neighbours, and the calls that touch the scope's nodes (new node objects)."""
    if scope.contains is None:
        return nodes, edges
    inside = {n.key for n in nodes if n.entity is not None and scope.contains(n.entity)}
    kept_edges = [e for e in edges if e.source in inside or e.target in inside]
    kept = inside | {e.source for e in kept_edges} | {e.target for e in kept_edges}
    return [replace(n, in_scope=n.key in inside) for n in nodes if n.key in kept], kept_edges


def narrowed(smap: "ServiceMap", scope: Scope) -> "ServiceMap":
    """The same map seen from a narrower scope (the entity tab compares on the whole map, then shows this)."""
    nodes, edges = narrow(smap.nodes, smap.edges, scope)
    return ServiceMap(scope=scope, window=smap.window, nodes=nodes, edges=edges, sources=smap.sources)


def service_map(window: Window, scope: Scope, *, sources: list[tuple[AwsAccount, str]] | None = None) -> ServiceMap:
    fetched = fetch_graphs(window, sources)
    nodes, edges = merge_graphs(fetched)
    link_entities(nodes)
    nodes, edges = narrow(nodes, edges, scope)
    return ServiceMap(scope=scope, window=window, nodes=nodes, edges=edges, sources=[s for s, _ in fetched])
