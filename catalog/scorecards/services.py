"""Compute and store scorecards: the latest score of every entity, and each day's rollups.

Scores are derived data, recomputed from the catalog at any time, so they are not audited (as
AWS account verification results are not): the audit log records the entity changes that move
them. Each batch is its own transaction, so a long run never holds one open.

- scorecards_compute_all(): every scored entity in batches of `batch_size`, then today's rollup
  per team, per system and for the whole catalog (overwriting today's rows: the last run of a
  day is that day's history). The periodic task runs it hourly.
- scorecards_compute_changed(): entities whose etag differs from the one they were scored at
  (new or edited ones), plus their related entities, whose scores may depend on them (a
  component whose Resource appeared, whose API arrived). The periodic task runs it every few
  minutes, so a change shows in lists within minutes; the entity page itself computes live.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import Entity, EntityScore, Relation, ScorecardRollup, ScoreLevel
from catalog.scorecards.evaluate import EntityScorecard, evaluate
from catalog.scorecards.registry import scored_kinds

BATCH_SIZE = 1000
# The columns the rules read (the document holds the rest); the search text is left behind.
SCORED_FIELDS = (
    "id",
    "kind_key",
    "namespace",
    "name",
    "ref_key",
    "document",
    "etag",
    "owner_key",
    "system_key",
    "orphaned",
)
# The most changed entities one sweep takes on; the next sweep continues.
CHANGED_LIMIT = 20_000


@dataclass
class _Tally:
    entities: int = 0
    levels: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)

    def add(self, card: EntityScorecard) -> None:
        self.entities += 1
        self.levels[card.level] += 1
        self.failures.update(card.failed)


@dataclass
class ComputeSummary:
    entities: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    rollups: int = 0


def _batches(queryset, batch_size: int) -> Iterator[list[Entity]]:
    """Keyset pages by primary key: each page is one query, however deep into the table."""
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last).order_by("pk").only(*SCORED_FIELDS)[:batch_size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def _store(cards: list[EntityScorecard], now) -> None:
    """One INSERT ... ON CONFLICT UPDATE for the whole batch."""
    EntityScore.objects.bulk_create(
        [
            EntityScore(
                entity_id=card.entity.pk,
                level=card.level,
                passed=card.passed,
                failed=card.failed,
                entity_etag=card.entity.etag,
                computed_at=now,
            )
            for card in cards
        ],
        update_conflicts=True,
        unique_fields=["entity"],
        update_fields=["level", "passed", "failed", "entity_etag", "computed_at"],
    )


def _score_batch(batch: list[Entity], now) -> list[EntityScorecard]:
    cards = evaluate(batch)
    with transaction.atomic():
        _store(cards, now)
    return cards


def _rollup_keys(entity: Entity) -> list[tuple[str, str]]:
    keys = [(ScorecardRollup.Scope.CATALOG, "")]
    if entity.owner_key.startswith("group:"):
        keys.append((ScorecardRollup.Scope.TEAM, entity.owner_key))
    if entity.system_key:
        keys.append((ScorecardRollup.Scope.SYSTEM, entity.system_key))
    return keys


def scorecards_compute_all(*, batch_size: int = BATCH_SIZE, day: date | None = None) -> ComputeSummary:
    """Score every entity of a scored kind, then write the day's rollups (orphans are left out of them)."""
    now = timezone.now()
    day = day or timezone.localdate(now)
    tallies: dict[tuple[str, str], _Tally] = {}
    summary = ComputeSummary()
    levels: Counter = Counter()
    for batch in _batches(Entity.objects.filter(kind_key__in=scored_kinds()), batch_size):
        for card in _score_batch(batch, now):
            summary.entities += 1
            levels[card.level] += 1
            if card.entity.orphaned:
                continue
            for key in _rollup_keys(card.entity):
                tallies.setdefault(key, _Tally()).add(card)
    summary.levels = dict(levels)
    summary.rollups = _rollups_write(tallies, day=day, now=now)
    return summary


@transaction.atomic
def _rollups_write(tallies: dict[tuple[str, str], _Tally], *, day: date, now) -> int:
    rows = [
        ScorecardRollup(
            scope=scope,
            key=key,
            day=day,
            entities=tally.entities,
            none=tally.levels[ScoreLevel.NONE],
            bronze=tally.levels[ScoreLevel.BRONZE],
            silver=tally.levels[ScoreLevel.SILVER],
            gold=tally.levels[ScoreLevel.GOLD],
            failures=dict(sorted(tally.failures.items())),
            computed_at=now,
        )
        for (scope, key), tally in tallies.items()
    ]
    if not rows:
        # An empty catalog still has a (zero) rollup for the day, so the trend has no gap.
        rows = [ScorecardRollup(scope=ScorecardRollup.Scope.CATALOG, key="", day=day, computed_at=now)]
    # A team or system that lost its last entity since an earlier run today drops out of the day.
    stale = ScorecardRollup.objects.filter(day=day)
    for scope in ScorecardRollup.Scope.values:
        stale = stale.exclude(scope=scope, key__in=[r.key for r in rows if r.scope == scope])
    stale.delete()
    ScorecardRollup.objects.bulk_create(
        rows,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["scope", "key", "day"],
        update_fields=["entities", "none", "bronze", "silver", "gold", "failures", "computed_at"],
    )
    return len(rows)


def scorecards_compute_entities(*, entity_ids: list[int], batch_size: int = BATCH_SIZE) -> int:
    """Score these entities and their related ones (both directions); returns how many were scored."""
    now = timezone.now()
    kinds = scored_kinds()
    scored = 0
    for start in range(0, len(entity_ids), batch_size):
        ids = set(entity_ids[start : start + batch_size])
        ids.update(
            Relation.objects.filter(source_id__in=ids, target_id__isnull=False).values_list("target_id", flat=True)
        )
        ids.update(Relation.objects.filter(target_id__in=ids).values_list("source_id", flat=True))
        batch = list(Entity.objects.filter(pk__in=ids, kind_key__in=kinds).order_by("pk").only(*SCORED_FIELDS))
        scored += len(_score_batch(batch, now))
    return scored


def changed_entity_ids(*, limit: int = CHANGED_LIMIT) -> list[int]:
    """Scored kinds whose score is missing or was computed from another version of the document."""
    stale = Q(score__isnull=True) | ~Q(score__entity_etag=F("etag"))
    return list(
        Entity.objects.filter(kind_key__in=scored_kinds())
        .filter(stale)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def scorecards_compute_changed(*, limit: int = CHANGED_LIMIT, batch_size: int = BATCH_SIZE) -> int:
    ids = changed_entity_ids(limit=limit)
    if not ids:
        return 0
    return scorecards_compute_entities(entity_ids=ids, batch_size=batch_size)
