"""The X-Ray parts of entity pages: the "X-Ray" tab (declared vs observed, the entity's service map, links to its
traces) and the overview's notice. Registered from the app's ready() by `register_xray_ui()`.

Which entities: Components (X-Ray knows a service by its Component's name) and any entity carrying the
annotation `meridian.io/xray-service-name` (a table, queue or API X-Ray shows under another name). Decided
from the row alone, as the tab bar needs.
"""

from catalog.annotations import XRAY_NAME_ANNOTATION
from catalog.models import Entity
from catalog.tabs import EntityTab, OverviewPanel, register_overview_panel, register_tab
from observability.xray.service_map import xray_names_of


def has_xray(entity: Entity) -> bool:
    return entity.kind_key == "component" or XRAY_NAME_ANNOTATION in entity.annotations


def xray_tab_context(request, entity: Entity) -> dict:
    from observability.xray.views import entity_xray_context

    return {**entity_xray_context(request, entity), "xray_names": xray_names_of(entity)}


def xray_tab() -> EntityTab:
    return EntityTab(
        slug="xray",
        label="X-Ray",
        icon="bi-bezier2",
        order=55,
        template="observability/xray/entity_tab.html",
        context=xray_tab_context,
        applies=has_xray,
        scripts=("vendor/plotly/plotly.min.js", "observability/xray.js"),
        stylesheets=("observability/xray.css",),
    )


def register_xray_ui() -> None:
    register_tab(xray_tab())
    register_overview_panel(
        OverviewPanel(key="xray", template="observability/xray/_overview_loader.html", applies=has_xray)
    )
