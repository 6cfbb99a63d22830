"""Saga pieces for any page: `{% load sagas %}`.

{% entity_saga_alerts entity %}   open saga alerts of an entity, for its page header
{{ execution.outcome|outcome_badge }}   the Bootstrap badge class of an outcome
"""

from django import template

from observability.sagas import selectors as saga_selectors
from observability.sagas.marking import has_saga_alerts

register = template.Library()

_BADGES = {
    "committed": "text-bg-success",
    "compensated": "text-bg-warning",
    "compensation_failed": "text-bg-danger",
    "failed": "text-bg-secondary",
    "stuck": "text-bg-dark",
    "running": "text-bg-info",
    "pending": "text-bg-light border",
}


@register.filter
def outcome_badge(outcome: str) -> str:
    return _BADGES.get(str(outcome), "text-bg-light border")


@register.inclusion_tag("observability/sagas/_entity_alerts.html")
def entity_saga_alerts(entity):
    if not has_saga_alerts(entity):
        return {"counts": {}}
    counts = saga_selectors.entity_open_alert_counts(entity)
    return {
        "entity": entity,
        "counts": counts,
        "total": sum(counts.values()),
        "href": saga_selectors.entity_open_alerts_link(entity, counts),
    }
