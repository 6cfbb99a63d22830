"""The entity page's own tabs: what each loads, registered in catalog.tabs (from CatalogConfig.ready) beside the
other apps' tabs."""

from django.http import HttpRequest

from catalog import selectors
from catalog.annotations import ACCOUNT_ANNOTATION, ARN_ANNOTATION, REGION_ANNOTATION
from catalog.definitions import render_definition
from catalog.graph_figure import FigureEdge, FigureNode, dependency_figure
from catalog.models import Entity, Location
from catalog.tabs import EntityTab, overview_panels_for, register_tab
from catalog.templatetags.catalog_ui import ref_url
from portal.models import Team

# Relations read for the APIs and AWS tabs: a component has a handful; the cap keeps a pathological one bounded.
RELATIONS_LIMIT = 1000

# --- overview ------------------------------------------------------------------------------------------------

# A Group can own thousands of entities; the overview lists this many relations and links to the filtered
# catalog for the rest, so the page stays one bounded query.
RELATIONS_SHOWN = 200


def overview_context(request: HttpRequest, entity: Entity) -> dict:
    relations = selectors.entity_relations(entity, limit=RELATIONS_SHOWN + 1)
    more = len(relations) > RELATIONS_SHOWN
    relations = relations[:RELATIONS_SHOWN]
    outgoing = {(r.type, r.target_ref): r.resolved for r in relations if r.direction == "outgoing"}
    return {
        "overview_panels": [panel.template for panel in overview_panels_for(entity)],
        # A Group in the default namespace is the portal team of the same slug (one concept, two views).
        "group_team": Team.objects.filter(slug__iexact=entity.name).first()
        if entity.kind_key == "group" and entity.namespace == "default"
        else None,
        "relations": relations,
        "relations_more": more,
        "owner_resolved": outgoing.get(("ownedBy", entity.owner_key), False),
        "system_resolved": outgoing.get(("partOf", entity.system_key), False),
    }


# --- dependencies -------------------------------------------------------------------------------------------

# Relations that make one entity need another; ownership and membership would pull in whole teams.
DEPENDENCY_RELATIONS = ("dependsOn", "dependencyOf", "providesApi", "consumesApi")
DEFAULT_DEPTH = 2


def _depth(request: HttpRequest) -> tuple[int, str]:
    raw = request.GET.get("depth", "")
    if not raw:
        return DEFAULT_DEPTH, ""
    try:
        depth = int(raw)
    except ValueError:
        return DEFAULT_DEPTH, f"Depth {raw[:20]!r} is not a number; showing {DEFAULT_DEPTH} steps."
    if not 1 <= depth <= selectors.MAX_GRAPH_DEPTH:
        clamped = max(1, min(depth, selectors.MAX_GRAPH_DEPTH))
        return clamped, f"Depth goes from 1 to {selectors.MAX_GRAPH_DEPTH}; showing {clamped}."
    return depth, ""


def dependencies_context(request: HttpRequest, entity: Entity) -> dict:
    depth, depth_error = _depth(request)
    # A service's own AWS resources are shown, not those of every neighbour: at depth 2 those were most of the
    # graph (the platform's subnets and security groups, the saga's queues) and hid the services.
    nodes, edges = selectors.dependency_graph(
        entity, depth, relation_types=DEPENDENCY_RELATIONS, near_kinds=frozenset({"resource"})
    )
    figure_nodes = [
        FigureNode(
            key=node.ref,
            kind=node.kind,
            name=node.name,
            title=node.title,
            url=ref_url(node.ref) if node.resolved else "",
            root=node.ref == entity.ref_key,
        )
        for node in nodes
    ]
    figure_edges = [FigureEdge(source=edge.source, target=edge.target, type=edge.type) for edge in edges]
    return {
        "depth": depth,
        "depth_error": depth_error,
        "depth_choices": range(1, selectors.MAX_GRAPH_DEPTH + 1),
        "graph_nodes": figure_nodes,
        "graph_edges": figure_edges,
        "truncated": len(nodes) >= selectors.MAX_GRAPH_NODES,
        "figure": dependency_figure(figure_nodes, figure_edges),
    }


# --- APIs ---------------------------------------------------------------------------------------------------

SWAGGER_SCRIPTS = (
    "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
    "catalog/swagger.js",
)
SWAGGER_CSS = ("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",)


def has_apis(entity: Entity) -> bool:
    if entity.kind_key == "api":
        return True
    spec = entity.spec
    return entity.kind_key == "component" and bool(spec.get("providesApis") or spec.get("consumesApis"))


def apis_context(request: HttpRequest, entity: Entity) -> dict:
    if entity.kind_key == "api":
        selected, groups, choices = entity, [], [entity]
    else:
        relations = selectors.entity_relations(entity, limit=RELATIONS_LIMIT)
        groups = [
            {
                "slug": slug,
                "label": label,
                "apis": [
                    {"key": r.target_ref, "resolved": r.resolved, "id": r.target.pk if r.resolved else None}
                    for r in relations
                    if r.direction == "outgoing" and r.type == relation_type
                ],
            }
            for slug, label, relation_type in (
                ("provided", "Provides", "providesApi"),
                ("consumed", "Consumes", "consumesApi"),
            )
        ]
        choices = [api for group in groups for api in group["apis"] if api["resolved"]]
        wanted = request.GET.get("api", "")
        chosen = next((api for api in choices if api["key"] == wanted), choices[0] if choices else None)
        # The list above shows relations briefly; only the API on display is loaded with its document.
        selected = selectors.entity_base_queryset().get(pk=chosen["id"]) if chosen else None
    definition = render_definition(selected.spec) if selected else None
    context = {
        "api_groups": groups,
        "api_choices": choices,
        "selected_api": selected,
        "selected_key": selected.ref_key if selected else "",
        "definition": definition,
        "tab_scripts": (),
        "tab_css": (),
    }
    if definition and definition.viewer == "swagger":
        context.update(tab_scripts=SWAGGER_SCRIPTS, tab_css=SWAGGER_CSS)
    return context


# --- AWS resources ------------------------------------------------------------------------------------------


def aws_resources_context(request: HttpRequest, entity: Entity) -> dict:
    """Resources this component depends on (its spec.dependsOn), or that name it (their spec.dependencyOf,
    which is how AWS discovery links what it finds by the `service` tag)."""
    how: dict[int, set[str]] = {}
    for relation in selectors.entity_relations(entity, limit=RELATIONS_LIMIT):
        if relation.resolved and relation.target.kind_key == "resource":
            label = "its spec.dependsOn" if relation.direction == "outgoing" else "the resource's spec.dependencyOf"
            how.setdefault(relation.target.pk, set()).add(label)
    # The relation rows carry brief entities; the resources' annotations (ARN, region) need the documents.
    resources = selectors.entity_base_queryset().filter(pk__in=how).order_by("spec_type", "name") if how else []
    return {
        "resources": [
            {
                "entity": resource,
                "arn": _arn(resource),
                "region": resource.annotations.get(REGION_ANNOTATION, ""),
                "account": resource.annotations.get(ACCOUNT_ANNOTATION, ""),
                "linked_by": sorted(how[resource.pk]),
                # Discovered resources are as fresh as their account and region's last discovery run.
                "discovered_at": resource.location.last_imported_at
                if resource.location and resource.location.type == Location.Type.DISCOVERY
                else None,
            }
            for resource in resources
        ]
    }


def _arn(resource: Entity) -> str:
    annotations = resource.annotations
    if isinstance(annotations.get(ARN_ANNOTATION), str):
        return annotations[ARN_ANNOTATION]
    return next((value for value in annotations.values() if isinstance(value, str) and value.startswith("arn:")), "")


# --- registration -------------------------------------------------------------------------------------------


def register_builtin_tabs() -> None:
    """The overview, dependencies, APIs and AWS resources tabs (once, from CatalogConfig.ready)."""
    for tab in (
        EntityTab(
            slug="",
            label="Overview",
            icon="bi-info-circle",
            order=0,
            template="catalog/tabs/overview.html",
            context=overview_context,
        ),
        EntityTab(
            slug="dependencies",
            label="Dependencies",
            icon="bi-diagram-3",
            order=10,
            template="catalog/tabs/dependencies.html",
            context=dependencies_context,
            applies=lambda entity: entity.kind_key in ("component", "api", "resource"),
            scripts=("vendor/plotly/plotly.min.js", "catalog/graph.js"),
        ),
        EntityTab(
            slug="apis",
            label="APIs",
            icon="bi-plug",
            order=20,
            template="catalog/tabs/apis.html",
            context=apis_context,
            applies=has_apis,
        ),
        EntityTab(
            slug="aws",
            label="AWS resources",
            icon="bi-cloud",
            order=30,
            template="catalog/tabs/aws_resources.html",
            context=aws_resources_context,
            applies=lambda entity: entity.kind_key == "component",
        ),
    ):
        register_tab(tab)
