"""The one shape of the registries through which apps extend each other's pages.

The entity page's tabs, overview panels and header badges (catalog.tabs), the catalog list's row badges
(catalog.row_badges), the team page's panels (portal.teams.panels) and the home page's (portal.home_panels)
are each a Registry of frozen dataclass specs with a key and an `order`: keyed (a second spec with a key
already taken is a start-up error, not a silent replacement), kept in order (lowest order first, then key,
so the page does not depend on which app's ready() ran first), filled from the AppConfig.ready() of the
apps that extend them, so the app that owns a page never imports the apps that add to it.

    _tabs = Registry[EntityTab]("entity tab", key="slug")
    register_tab = _tabs.register
"""

from collections.abc import Iterator
from operator import attrgetter
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str, *, key: str = "key"):
        self._what = what  # named in the error of a duplicate key
        self._key = attrgetter(key)
        self._items: list[T] = []

    def register(self, item: T) -> T:
        key = self._key(item)
        if any(self._key(existing) == key for existing in self._items):
            raise ValueError(f"a {self._what} {key!r} is already registered")
        self._items.append(item)
        self._items.sort(key=lambda spec: (spec.order, self._key(spec)))
        return item

    def unregister(self, key: str) -> None:
        """For tests that register a spec of their own."""
        self._items[:] = [item for item in self._items if self._key(item) != key]

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items))  # a copy: a page iterating while a test unregisters sees one state

    def __len__(self) -> int:
        return len(self._items)
