"""Run the registered rules on a batch of entities: a level and the passed/failed rule ids for each.

Queries: one per context provider needed by the rules that apply to the batch, whatever the
batch's size; the checks themselves read only the entity and the context.
"""

from dataclasses import dataclass, field

from catalog.models import Entity, ScoreLevel
from catalog.scorecards.registry import LEVELS, Rule, ScoringContext, all_rules, provider


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    passed: bool | None  # None: does not apply to this entity


@dataclass(frozen=True)
class EntityScorecard:
    entity: Entity
    level: str
    results: list[RuleResult] = field(default_factory=list)

    @property
    def passed(self) -> list[str]:
        return [r.rule.id for r in self.results if r.passed is True]

    @property
    def failed(self) -> list[str]:
        return [r.rule.id for r in self.results if r.passed is False]


def level_of(results: list[RuleResult]) -> str:
    """The highest level whose rules, and those of every level below, all pass."""
    reached = ScoreLevel.NONE
    for level in LEVELS:
        if any(r.passed is False for r in results if r.rule.level == level):
            break
        reached = level
    return str(reached)


def evaluate(entities: list[Entity]) -> list[EntityScorecard]:
    """Score each entity of the batch; entities of kinds no rule applies to are left out."""
    rules = all_rules()
    applicable = {e.pk: [r for r in rules if r.applies_to(e)] for e in entities}
    scored = [e for e in entities if applicable[e.pk]]
    needed = sorted({name for e in scored for r in applicable[e.pk] for name in r.needs})
    context = ScoringContext({name: provider(name)(scored) for name in needed})
    scorecards = []
    for entity in scored:
        results = [RuleResult(rule=r, passed=r.check(entity, context)) for r in applicable[entity.pk]]
        scorecards.append(EntityScorecard(entity=entity, level=level_of(results), results=results))
    return scorecards
