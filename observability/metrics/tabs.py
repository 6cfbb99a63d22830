"""The Metrics tab of entity pages (registered in catalog.tabs from ObservabilityConfig.ready)."""

from django.http import HttpRequest

from catalog.annotations import CLOUDWATCH_METRICS_ANNOTATION
from catalog.models import Entity
from catalog.tabs import EntityTab
from observability.metrics.golden_signals import BY_TYPE
from observability.metrics.panels import entity_metrics
from observability.timeranges import CHART_RANGES

SCRIPTS = ("vendor/plotly/plotly.min.js", "observability/charts.js")


def has_metrics(entity: Entity) -> bool:
    """Components, Resources of a type in the golden-signal table, and anything with the annotation."""
    if entity.kind_key == "component":
        return True
    if entity.kind_key == "resource" and entity.spec_type in BY_TYPE:
        return True
    return CLOUDWATCH_METRICS_ANNOTATION in entity.annotations


def metrics_context(request: HttpRequest, entity: Entity) -> dict:
    window, range_error = CHART_RANGES.read(request.GET)
    context = {"window": window, "range_choices": CHART_RANGES.choices(), "params": request.GET}
    if range_error:
        # Nothing is fetched for a range that makes no sense; the form says what to fix.
        return {**context, "range_error": range_error, "tab_status": 400}
    return {**context, "view": entity_metrics(entity, window)}


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
