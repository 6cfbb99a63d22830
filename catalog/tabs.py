"""The tabs of an entity page, in one registry that other apps extend (a portal.registry.Registry).

A tab is a spec: its URL slug, label, icon, the template rendered inside the
entity page, a function that loads the tab's context, and a test of whether the
tab applies to an entity (decided from the entity row alone, without a query,
since the tab bar is drawn on every tab). The catalog's own tabs
(catalog.entity_tabs) and those of observability, deployments, audit and costs
are registered from their AppConfig.ready():

    from catalog.tabs import EntityTab, register_tab
    register_tab(EntityTab(slug="metrics", label="Metrics", icon="bi-graph-up", order=50,
                           template="observability/metrics/entity_tab.html", context=metrics_context,
                           applies=lambda entity: entity.kind_key == "component"))

Only the tab being viewed loads its context, so an extra tab costs nothing on the others. A context may
set "tab_status" (e.g. 400 when the tab's query parameters are invalid) for the page's response status.

Apps may also put a panel on the overview (a template included at the top of it, with the overview's
context), e.g. a notice loaded after the page by htmx, so the overview never waits on another app:

    register_overview_panel(OverviewPanel(key="xray", template="observability/xray/_overview_loader.html",
                                          applies=lambda entity: entity.kind_key == "component"))

and badges in the header line that every tab shows (an alarm state, open alerts):

    register_header_badge(HeaderBadge(key="alarms", template="observability/metrics/_entity_header.html"))
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpRequest

from catalog.models import Entity
from portal.registry import Registry

# Path segments of the entity page that are views of their own, not tabs.
RESERVED_SLUGS = frozenset({"edit", "delete", "definition"})


def _always(entity: Entity) -> bool:
    return True


@dataclass(frozen=True)
class EntityTab:
    slug: str  # "" for the overview; otherwise /catalog/<namespace>/<kind>/<name>/<slug>/
    label: str
    icon: str  # a Bootstrap Icons class
    template: str
    context: Callable[[HttpRequest, Entity], dict]
    applies: Callable[[Entity], bool] = field(default=_always)
    order: int = 100  # position in the tab bar, lowest first
    # Static files the tab needs (paths for {% static %}); its context may narrow them with
    # "tab_scripts" / "tab_css" keys, e.g. to skip Swagger UI when no definition is OpenAPI.
    scripts: tuple[str, ...] = ()
    stylesheets: tuple[str, ...] = ()


_registry = Registry[EntityTab]("tab", key="slug")
unregister_tab = _registry.unregister


def register_tab(tab: EntityTab) -> EntityTab:
    if tab.slug in RESERVED_SLUGS:
        raise ValueError(f"tab slug {tab.slug!r} is taken by an entity page view")
    return _registry.register(tab)


def tabs_for(entity: Entity) -> list[EntityTab]:
    return [tab for tab in _registry if tab.applies(entity)]


def tab_for(entity: Entity, slug: str) -> EntityTab | None:
    return next((tab for tab in tabs_for(entity) if tab.slug == slug), None)


@dataclass(frozen=True)
class OverviewPanel:
    key: str
    template: str
    applies: Callable[[Entity], bool] = field(default=_always)
    order: int = 100  # position on the overview, lowest first


_overview_panels = Registry[OverviewPanel]("overview panel")
register_overview_panel = _overview_panels.register


def overview_panels_for(entity: Entity) -> list[OverviewPanel]:
    return [panel for panel in _overview_panels if panel.applies(entity)]


@dataclass(frozen=True)
class HeaderBadge:
    """A template included in the header line of every tab of an entity page (after its kind, type and
    lifecycle), with the page's context: an alarm state, open alerts, a dashboard link. It costs every tab of
    the page, so it should be a query or two at most, and `applies` keeps it off the entities it has nothing for."""

    key: str
    template: str
    applies: Callable[[Entity], bool] = field(default=_always)
    order: int = 100  # position in the header line, lowest first


_header_badges = Registry[HeaderBadge]("header badge")
register_header_badge = _header_badges.register


def header_badges_for(entity: Entity) -> list[HeaderBadge]:
    return [badge for badge in _header_badges if badge.applies(entity)]
