"""The Metrics tab of entity pages (registered in catalog.tabs from ObservabilityConfig.ready)."""

from django.http import HttpRequest

from catalog.annotations import CLOUDWATCH_METRICS_ANNOTATION
from catalog.models import Entity
from catalog.tabs import EntityTab
from observability.metrics.golden_signals import BY_TYPE
from observability.metrics.panels import entity_metrics
from observability.metrics.views import range_choices
from observability.timeranges import DEFAULT_RANGE, TimeRangeError, parse_window, window_for

SCRIPTS = ("vendor/plotly/plotly.min.js", "observability/charts.js")


def has_metrics(entity: Entity) -> bool:
    """Components, Resources of a type in the golden-signal table, and anything with the annotation."""
    if entity.kind_key == "component":
        return True
    if entity.kind_key == "resource" and entity.spec_type in BY_TYPE:
        return True
    return CLOUDWATCH_METRICS_ANNOTATION in entity.annotations


def metrics_context(request: HttpRequest, entity: Entity) -> dict:
    try:
        window = parse_window(request.GET)
    except TimeRangeError as error:
        # Nothing is fetched for a range that makes no sense; the form says what to fix.
        return {
            "range_error": str(error),
            "tab_status": 400,
            "window": window_for(DEFAULT_RANGE),
            "range_choices": range_choices(),
            "params": request.GET,
        }
    return {
        "view": entity_metrics(entity, window),
        "window": window,
        "range_choices": range_choices(),
        "params": request.GET,
    }


def metrics_tab() -> EntityTab:
    return EntityTab(
        slug="metrics",
        label="Metrics",
        icon="bi-graph-up",
        order=40,
        template="observability/metrics/entity_tab.html",
        context=metrics_context,
        applies=has_metrics,
        scripts=SCRIPTS,
    )
