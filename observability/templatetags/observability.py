"""Observability pieces for any page: `{% load observability %}`.

{% entity_alarm_badge entity %}   the alarms of a Component or Resource, for its page header
"""

from django import template

from catalog.tabs import tab_for
from observability.metrics import selectors

register = template.Library()

ALARM_KINDS = ("component", "resource")


@register.inclusion_tag("observability/metrics/_entity_alarm_badge.html")
def entity_alarm_badge(entity):
    if entity.kind_key not in ALARM_KINDS:
        return {"summary": None}
    summary, alarms = selectors.entity_alarm_summary(entity)
    return {
        "entity": entity,
        "summary": summary,
        "synced_at": min((a.synced_at for a in alarms), default=None),
        # An ECS cluster's alarms, say, show without a Metrics tab to link to.
        "metrics_tab": tab_for(entity, "metrics") is not None,
    }
