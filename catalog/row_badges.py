"""Badges other apps add to the rows of the catalog list (alarm state, ...), computed once per page.

The catalog does not know the later apps; they register a provider from their AppConfig.ready(), as tabs
are registered (catalog.tabs):

    from catalog.row_badges import register_row_badges
    register_row_badges("alarms", alarm_badges)   # alarm_badges(entities) -> {entity id: safe HTML}

A provider gets the page's rows at once, so it costs a fixed number of queries whatever the page size, and
returns finished HTML for the rows that have something to show: the row template then makes one dictionary
lookup per row instead of an include (a list page's render time is mostly per-row template work).
"""

from collections.abc import Callable, Sequence

from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from catalog.models import Entity

RowBadges = Callable[[Sequence[Entity]], dict[int, SafeString]]

_providers: dict[str, RowBadges] = {}


def register_row_badges(name: str, provider: RowBadges) -> None:
    if name in _providers:
        raise ValueError(f"row badges {name!r} are already registered")
    _providers[name] = provider


def unregister_row_badges(name: str) -> None:
    """For tests that register a provider of their own."""
    _providers.pop(name, None)


def row_badges(entities: Sequence[Entity]) -> dict[int, SafeString]:
    """Entity id -> the badges every provider gives its row, in registration order."""
    if not entities:
        return {}
    per_entity: dict[int, list[SafeString]] = {}
    for provider in _providers.values():
        for entity_id, html in provider(entities).items():
            per_entity.setdefault(entity_id, []).append(html)
    return {
        entity_id: format_html_join(" ", "{}", ((html,) for html in badges)) for entity_id, badges in per_entity.items()
    }
