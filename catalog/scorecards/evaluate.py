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
    """The highest level at which at least one rule applies and every applying rule, of it and of every level
    below, passes. A level no rule of which applies is not reached by passing the levels below: a Resource,
    which has bronze rules only, is bronze at best, never gold by default."""
    reached = ScoreLevel.NONE
    for level in LEVELS:
        applying = [r for r in results if r.rule.level == level and r.passed is not None]
        if any(r.passed is False for r in applying):
            break
        if applying:
            reached = level
    return str(reached)


def evaluate(entities: list[Entity]) -> list[EntityScorecard]:
    """Score each entity of the batch; entities no rule applies to (by kind, or every check answering "does not
    apply") are left out: they have no level, which is not the same as failing one."""
    rules = all_rules()
    applicable = {e.pk: [r for r in rules if r.applies_to(e)] for e in entities}
    scored = [e for e in entities if applicable[e.pk]]
    needed = sorted({name for e in scored for r in applicable[e.pk] for name in r.needs})
    context = ScoringContext({name: provider(name)(scored) for name in needed})
    scorecards = []
    for entity in scored:
        results = [RuleResult(rule=r, passed=r.check(entity, context)) for r in applicable[entity.pk]]
        if all(r.passed is None for r in results):
            continue
        scorecards.append(EntityScorecard(entity=entity, level=level_of(results), results=results))
    return scorecards
