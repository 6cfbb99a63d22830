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
- scorecards_rescore(): what an import or a discovery changed (catalog.signals.entities_applied), right after
  it commits, and today's rollups of the teams and systems concerned, from the stored scores.
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
    "location__type",  # with select_related("location"): has-description asks whether discovery wrote it
)
# The most changed entities one sweep takes on; the next sweep continues.
CHANGED_LIMIT = 20_000


@dataclass
class _Tally:
    entities: int = 0
    levels: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)

    def add(self, card: EntityScorecard) -> None:
        self.add_stored(card.level, card.failed)

    def add_stored(self, level: str, failed: list[str]) -> None:
        self.entities += 1
        self.levels[level] += 1
        self.failures.update(failed)


@dataclass
class ComputeSummary:
    entities: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    rollups: int = 0


def _batches(queryset, batch_size: int) -> Iterator[list[Entity]]:
    """Keyset pages by primary key: each page is one query, however deep into the table."""
    last = 0
    while True:
        batch = list(
            queryset.filter(pk__gt=last).select_related("location").order_by("pk").only(*SCORED_FIELDS)[:batch_size]
        )
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
                owner_key=card.entity.owner_key,
                system_key=card.entity.system_key,
                computed_at=now,
            )
            for card in cards
        ],
        update_conflicts=True,
        unique_fields=["entity"],
        update_fields=["level", "passed", "failed", "entity_etag", "owner_key", "system_key", "computed_at"],
    )


def _score_batch(batch: list[Entity], now) -> list[EntityScorecard]:
    cards = evaluate(batch)
    with transaction.atomic():
        _store(cards, now)
        unscored = {e.pk for e in batch} - {card.entity.pk for card in cards}
        if unscored:  # no rule applies to them (any more): they have no level, not a stale one
            EntityScore.objects.filter(entity_id__in=unscored).delete()
    return cards


def _rollup_keys(entity: Entity | EntityScore) -> list[tuple[str, str]]:
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


def _rollup_row(scope: str, key: str, tally: _Tally, *, day: date, now) -> ScorecardRollup:
    return ScorecardRollup(
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


@transaction.atomic
def _rollups_write(tallies: dict[tuple[str, str], _Tally], *, day: date, now) -> int:
    rows = [_rollup_row(scope, key, tally, day=day, now=now) for (scope, key), tally in tallies.items()]
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


def _score_with_neighbours(entity_ids: list[int], batch_size: int) -> list[EntityScorecard]:
    now = timezone.now()
    kinds = scored_kinds()
    cards: list[EntityScorecard] = []
    for start in range(0, len(entity_ids), batch_size):
        ids = set(entity_ids[start : start + batch_size])
        ids.update(
            Relation.objects.filter(source_id__in=ids, target_id__isnull=False).values_list("target_id", flat=True)
        )
        ids.update(Relation.objects.filter(target_id__in=ids).values_list("source_id", flat=True))
        batch = list(
            Entity.objects.filter(pk__in=ids, kind_key__in=kinds)
            .select_related("location")
            .order_by("pk")
            .only(*SCORED_FIELDS)
        )
        cards += _score_batch(batch, now)
    return cards


def scorecards_compute_entities(*, entity_ids: list[int], batch_size: int = BATCH_SIZE) -> int:
    """Score these entities and their related ones (both directions); returns how many were scored."""
    return len(_score_with_neighbours(entity_ids, batch_size))


def scorecards_rescore(*, refs: list[str], batch_size: int = BATCH_SIZE) -> int:
    """What an import or a discovery changed, right after it: those entities, their related ones and any other
    whose score is missing or stale, then today's rollups of their teams, their systems and the whole catalog
    from the stored scores, so the team page agrees with the entity pages without waiting for the hourly run.
    Returns how many entities were scored."""
    keys = sorted({ref.lower() for ref in refs})
    ids = set(Entity.objects.filter(ref_key__in=keys).values_list("pk", flat=True))
    ids.update(changed_entity_ids())
    # The rollups these entities were counted in, before a change of owner or system moved them out.
    ordered = sorted(ids)
    scopes = {
        key
        for start in range(0, len(ordered), batch_size)
        for score in EntityScore.objects.filter(entity_id__in=ordered[start : start + batch_size]).only(
            "owner_key", "system_key"
        )
        for key in _rollup_keys(score)
    }
    cards = _score_with_neighbours(ordered, batch_size)
    scopes |= {key for card in cards for key in _rollup_keys(card.entity)}
    scorecards_rollups_refresh(keys=scopes)
    return len(cards)


def _stored_tallies(keys: set[tuple[str, str]]) -> dict[tuple[str, str], _Tally]:
    """The tallies of these rollups from the stored scores of live entities. One query per scope asked for."""
    tallies: dict[tuple[str, str], _Tally] = {key: _Tally() for key in keys}
    live = EntityScore.objects.filter(entity__orphaned=False).order_by()
    columns = {ScorecardRollup.Scope.TEAM: "entity__owner_key", ScorecardRollup.Scope.SYSTEM: "entity__system_key"}
    for scope, column in columns.items():
        wanted = [key for s, key in keys if s == scope]
        if wanted:
            rows = live.filter(**{f"{column}__in": wanted}).values_list(column, "level", "failed")
            for key, level, failed in rows:
                tallies[(scope, key)].add_stored(level, failed)
    if (ScorecardRollup.Scope.CATALOG, "") in keys:
        for level, failed in live.values_list("level", "failed"):
            tallies[(ScorecardRollup.Scope.CATALOG, "")].add_stored(level, failed)
    return tallies


@transaction.atomic
def scorecards_rollups_refresh(*, keys: set[tuple[str, str]], day: date | None = None) -> int:
    """Rewrite today's rollups of these (scope, key) pairs from the stored scores; a team or system left with
    nothing drops out of the day, as in scorecards_compute_all."""
    now = timezone.now()
    day = day or timezone.localdate(now)
    tallies = _stored_tallies(set(keys))
    emptied = [key for key, tally in tallies.items() if not tally.entities and key[0] != ScorecardRollup.Scope.CATALOG]
    for scope, key in emptied:
        ScorecardRollup.objects.filter(scope=scope, key=key, day=day).delete()
        del tallies[(scope, key)]
    ScorecardRollup.objects.bulk_create(
        [_rollup_row(scope, key, tally, day=day, now=now) for (scope, key), tally in tallies.items()],
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["scope", "key", "day"],
        update_fields=["entities", "none", "bronze", "silver", "gold", "failures", "computed_at"],
    )
    return len(tallies)


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
