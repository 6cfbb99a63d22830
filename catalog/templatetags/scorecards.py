"""Scorecard pieces for any page: `{% load scorecards %}`.

{% entity_scorecard entity as card %}   an entity's scorecard, computed live (or None)
{{ entity|stored_level|level_badge }}  an entity's stored level as a badge (lists: select_related("score"))
{{ card.level|level_badge }}           any level as a badge
"""

from django import template
from django.utils.safestring import mark_safe

from catalog.scorecards import selectors

register = template.Library()

TREND_WIDTH, TREND_HEIGHT = 240, 48


@register.simple_tag
def entity_scorecard(entity):
    return selectors.entity_scorecard(entity)


# Badges are filters over constant HTML, not template includes: a list page shows one per row, and two nested
# includes per row cost more than the rest of the row (measured on the catalog page, docs/benchmarks.md).
_LEVEL_BADGES = {
    "gold": '<span class="badge rounded-pill" style="background:#c9a227;color:#000" data-level="gold" '
    'title="Scorecard: gold"><i class="bi bi-trophy-fill"></i> Gold</span>',
    "silver": '<span class="badge rounded-pill" style="background:#adb5bd;color:#000" data-level="silver" '
    'title="Scorecard: silver"><i class="bi bi-award-fill"></i> Silver</span>',
    "bronze": '<span class="badge rounded-pill" style="background:#b87333;color:#fff" data-level="bronze" '
    'title="Scorecard: bronze"><i class="bi bi-award"></i> Bronze</span>',
    "none": '<span class="badge rounded-pill text-bg-light border" data-level="none" '
    'title="Scorecard: no level yet">No level</span>',
}


@register.filter
def level_badge(level: str) -> str:
    """A level ("gold", "silver", "bronze", "none") as a badge; anything else (no score yet) as nothing."""
    return mark_safe(_LEVEL_BADGES.get(level, ""))  # noqa: S308 - constant HTML above, no input in it


@register.filter
def stored_level(entity) -> str:
    """The entity's stored scorecard level, or "" before its first scoring."""
    score = getattr(entity, "score", None)  # a missing reverse one-to-one raises an AttributeError subclass
    return score.level if score is not None else ""


@register.filter
def trend_points(rollup) -> str:
    """SVG polyline points of the share of entities at bronze or better, one point per day."""
    shares = [share for _, share in rollup.share_at_least_bronze]
    if not shares:
        return ""
    step = TREND_WIDTH / max(len(shares) - 1, 1)
    return " ".join(
        f"{round(i * step, 1)},{round(TREND_HEIGHT - share * TREND_HEIGHT / 100, 1)}" for i, share in enumerate(shares)
    )
