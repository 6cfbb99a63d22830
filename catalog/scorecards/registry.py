"""The one registry of scorecard rules and of the batch loaders (context providers) they read.

A rule's check gets the entity and a `ScoringContext`; it returns True (passes), False
(fails) or None (does not apply to this entity, e.g. "provided APIs resolve" for a component
that provides none). It must not query the database: whatever it needs about other rows comes
from a context provider named in `needs`, which loads it once for a whole batch of entities.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.module_loading import autodiscover_modules

from catalog.models import Entity, ScoreLevel

# The levels a rule may count for, lowest first. An entity reaches a level when it passes every
# rule of that level and of the levels below (rules that do not apply to it are left out).
LEVELS: tuple[str, ...] = (ScoreLevel.BRONZE, ScoreLevel.SILVER, ScoreLevel.GOLD)

Check = Callable[[Entity, "ScoringContext"], bool | None]
Provider = Callable[[list[Entity]], Any]


@dataclass(frozen=True)
class Rule:
    id: str  # stable: stored in scores and rollups
    title: str
    why: str  # one sentence shown to teams
    kinds: frozenset[str]  # lower-case kinds it applies to
    level: str  # bronze, silver or gold
    check: Check = field(compare=False)
    needs: tuple[str, ...] = ()  # context providers the check reads

    def applies_to(self, entity: Entity) -> bool:
        return entity.kind_key in self.kinds


class ScoringContext:
    """What the providers loaded for one batch, by provider name."""

    def __init__(self, data: dict[str, Any]):
        self._data = data

    def __getitem__(self, name: str) -> Any:
        return self._data[name]


_rules: dict[str, Rule] = {}
_providers: dict[str, Provider] = {}
_discovered = False


def rule(*, id: str, title: str, why: str, kinds: Iterable[str], level: str, needs: Iterable[str] = ()):
    """Register the decorated function as the check of a rule."""
    if level not in LEVELS:
        raise ValueError(f"scorecard rule {id!r}: level must be one of {', '.join(LEVELS)}, not {level!r}")

    def register(check: Check) -> Check:
        if id in _rules and _rules[id].check is not check:
            raise ValueError(f"scorecard rule {id!r} is registered twice")
        _rules[id] = Rule(
            id=id,
            title=title,
            why=why,
            kinds=frozenset(k.lower() for k in kinds),
            level=level,
            check=check,
            needs=tuple(needs),
        )
        return check

    return register


def context_provider(name: str):
    """Register the decorated function as the loader of `context[name]` for a batch of entities."""

    def register(provider: Provider) -> Provider:
        if name in _providers and _providers[name] is not provider:
            raise ValueError(f"scorecard context provider {name!r} is registered twice")
        _providers[name] = provider
        return provider

    return register


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    # Every app's scorecard_rules module, the catalog's own (catalog/scorecard_rules.py) included.
    autodiscover_modules("scorecard_rules")
    _discovered = True
    for r in _rules.values():
        missing = [n for n in r.needs if n not in _providers]
        if missing:
            raise LookupError(f"scorecard rule {r.id!r} needs context providers nobody registered: {missing}")


def all_rules() -> list[Rule]:
    """Every registered rule, lowest level first, then by id (the order pages list them in)."""
    _discover()
    return sorted(_rules.values(), key=lambda r: (LEVELS.index(r.level), r.id))


def get_rule(rule_id: str) -> Rule | None:
    _discover()
    return _rules.get(rule_id)


def provider(name: str) -> Provider:
    _discover()
    return _providers[name]


def scored_kinds() -> frozenset[str]:
    """Kinds at least one rule applies to; entities of other kinds get no score."""
    return frozenset().union(*(r.kinds for r in all_rules()))
