"""Badges other apps add to the rows of the catalog list (alarm state, ...), computed once per page.

The catalog does not know the later apps; they register a provider from their AppConfig.ready(), as tabs
are registered (catalog.tabs):

    from catalog.row_badges import RowBadges, register_row_badges
    register_row_badges(RowBadges(key="alarms", provider=alarm_badges))  # -> {entity id: safe HTML}

A provider gets the page's rows at once, so it costs a fixed number of queries whatever the page size, and
returns finished HTML for the rows that have something to show: the row template then makes one dictionary
lookup per row instead of an include (a list page's render time is mostly per-row template work).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from catalog.models import Entity
from portal.registry import Registry


@dataclass(frozen=True)
class RowBadges:
    key: str
    provider: Callable[[Sequence[Entity]], dict[int, SafeString]]
    order: int = 100  # position in the row, lowest first


_registry = Registry[RowBadges]("row badges provider")
register_row_badges = _registry.register
unregister_row_badges = _registry.unregister


def row_badges(entities: Sequence[Entity]) -> dict[int, SafeString]:
    """Entity id -> the badges every provider gives its row, in the registry's order."""
    if not entities:
        return {}
    per_entity: dict[int, list[SafeString]] = {}
    for badges in _registry:
        for entity_id, html in badges.provider(entities).items():
            per_entity.setdefault(entity_id, []).append(html)
    return {
        entity_id: format_html_join(" ", "{}", ((html,) for html in badges)) for entity_id, badges in per_entity.items()
    }
