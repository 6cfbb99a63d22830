"""The alarm state of each row of the catalog list, for catalog.row_badges."""

from collections.abc import Sequence

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from catalog.models import Entity
from observability.selectors import alarm_states_for

ALARM_KINDS = ("component", "resource")


def alarm_badges(entities: Sequence[Entity]) -> dict[int, SafeString]:
    """Entity id -> its alarm badge, for the Components and Resources of the page that have alarms.

    alarm_states_for costs three queries whatever the page size; the badge is rendered only for the rows
    that have alarms (a handful on most pages).
    """
    ids = [entity.pk for entity in entities if entity.kind_key in ALARM_KINDS]
    states = alarm_states_for(ids) if ids else {}
    return {
        entity_id: mark_safe(render_to_string("observability/_alarm_state.html", {"summary": summary}).strip())  # noqa: S308 - a template's output, escaped by it
        for entity_id, summary in states.items()
    }
