"""The alarm state of each row of the catalog list, for catalog.row_badges."""

import hashlib
from collections.abc import Sequence

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from catalog.models import Entity
from catalog.version import catalog_version
from observability.metrics.selectors import alarm_states_for
from observability.metrics.version import alarms_version

ALARM_KINDS = ("component", "resource")
# A bound on how long a badge can outlive a change that moves neither token: the periodic sweep that resolves
# relations left unresolved (catalog.services.relations_resolve_all) writes no new catalog version.
BADGES_CACHE_SECONDS = 600
BADGE_TEMPLATE = "observability/metrics/_alarm_state.html"


def alarm_badges(entities: Sequence[Entity]) -> dict[int, SafeString]:
    """Entity id -> its alarm badge, for the Components and Resources of the page that have alarms.

    alarm_states_for costs three queries whatever the page size (two thirds of a catalog page's query time
    at 100,000 entities); the badge is rendered only for the rows that have alarms (a handful on most pages).
    The answer is cached under the page's entity ids and the two things it is derived from: the catalog
    (which resources a component has, their ARNs: catalog.version) and the synced alarms
    (observability.metrics.version). So the same page viewed again makes no query until either changes.
    """
    ids = sorted(entity.pk for entity in entities if entity.kind_key in ALARM_KINDS)
    if not ids:
        return {}
    digest = hashlib.sha256(repr(ids).encode()).hexdigest()
    key = f"observability:alarm-badges:{catalog_version()}:{alarms_version()}:{digest}"
    badges = cache.get(key)
    if badges is None:
        badges = {
            entity_id: mark_safe(render_to_string(BADGE_TEMPLATE, {"summary": summary}).strip())  # noqa: S308 - a template's output, escaped by it
            for entity_id, summary in alarm_states_for(ids).items()
        }
        cache.set(key, badges, BADGES_CACHE_SECONDS)
    return badges
