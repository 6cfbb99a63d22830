"""Scorecard pieces for any page: `{% load scorecards %}`.

{% team_scorecard team %}               a team's levels, what fails most, and its trend
{% system_scorecard system_entity %}    the same for a system
{% entity_scorecard entity as card %}   an entity's scorecard, computed live (or None)
"""

from django import template

from catalog.scorecards import selectors
from catalog.scorecards.registry import LEVELS

register = template.Library()

TREND_WIDTH, TREND_HEIGHT = 240, 48


@register.inclusion_tag("catalog/scorecards/_rollup.html")
def team_scorecard(team, days: int = selectors.TREND_DAYS):
    return {"rollup": selectors.team_scorecard(team.slug, days=days), "subject": team.name}


@register.inclusion_tag("catalog/scorecards/_rollup.html")
def system_scorecard(system, days: int = selectors.TREND_DAYS):
    return {"rollup": selectors.system_scorecard(system, days=days), "subject": system.name}


@register.simple_tag
def entity_scorecard(entity):
    return selectors.entity_scorecard(entity)


@register.simple_tag
def scorecard_levels():
    return LEVELS


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
