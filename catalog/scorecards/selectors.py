"""Reads for scorecards: an entity's scorecard, and the rollups and trends of teams and systems."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from catalog.models import Entity, ScorecardRollup, ScoreLevel
from catalog.refs import ref_key
from catalog.scorecards.evaluate import EntityScorecard, evaluate
from catalog.scorecards.registry import LEVELS, Rule, get_rule

TREND_DAYS = 30


def entity_scorecard(entity: Entity) -> EntityScorecard | None:
    """The entity's scorecard as of now, computed live (one query per context provider, at most 4
    with the catalog's own rules), so the entity page never shows a stale score. None when no
    rule applies to the entity's kind (users, locations)."""
    cards = evaluate([entity])
    return cards[0] if cards else None


@dataclass(frozen=True)
class RuleFailures:
    rule: Rule
    count: int


@dataclass(frozen=True)
class Rollup:
    """A team's or a system's levels on its latest day, and its trend."""

    scope: str
    key: str
    latest: ScorecardRollup | None
    trend: list[ScorecardRollup] = field(default_factory=list)  # oldest day first
    failures: list[RuleFailures] = field(default_factory=list)  # most failed rule first

    @property
    def computed_at(self):
        return self.latest.computed_at if self.latest else None

    @property
    def levels(self) -> list[tuple[str, str, int, int]]:
        """(level, label, count, percent of entities) from gold down to none, for a stacked bar."""
        if self.latest is None:
            return []
        total = self.latest.entities or 1
        order = [*reversed(LEVELS), ScoreLevel.NONE]
        return [
            (
                str(level),
                ScoreLevel(level).label,
                getattr(self.latest, level),
                round(100 * getattr(self.latest, level) / total),
            )
            for level in order
        ]

    @property
    def share_at_least_bronze(self) -> list[tuple[str, int]]:
        """(day, percent of entities at bronze or better) for each day of the trend."""
        return [
            (row.day.isoformat(), round(100 * (row.entities - row.none) / row.entities) if row.entities else 0)
            for row in self.trend
        ]


def _rollup(scope: str, key: str, *, days: int) -> Rollup:
    since = timezone.localdate() - timedelta(days=days - 1)
    trend = list(ScorecardRollup.objects.filter(scope=scope, key=key, day__gte=since).order_by("day"))
    latest = trend[-1] if trend else None
    failures = []
    if latest is not None:
        for rule_id, count in sorted(latest.failures.items(), key=lambda item: (-item[1], item[0])):
            rule = get_rule(rule_id)
            if rule is not None and count:
                failures.append(RuleFailures(rule=rule, count=count))
    return Rollup(scope=scope, key=key, latest=latest, trend=trend, failures=failures)


def team_scorecard(team_slug: str, *, days: int = TREND_DAYS) -> Rollup:
    """The levels of what the team's Group (group:default/<slug>) owns, with the daily trend (one query)."""
    return _rollup(ScorecardRollup.Scope.TEAM, ref_key("group", "default", team_slug), days=days)


def system_scorecard(system: Entity | str, *, days: int = TREND_DAYS) -> Rollup:
    """The levels of the entities that are part of a system (an Entity or its ref key), with the trend."""
    key = system.ref_key if isinstance(system, Entity) else system
    return _rollup(ScorecardRollup.Scope.SYSTEM, key, days=days)
