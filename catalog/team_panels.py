"""The catalog's panels on a team page (portal.teams.panels): the scorecard of what the team owns, above
the members, and the entities it owns, below them. Registered from CatalogConfig.ready()."""

from django.http import HttpRequest

from catalog import selectors
from catalog.scorecards import selectors as scorecard_selectors
from portal.models import Team
from portal.teams.panels import TeamPanel

TEAM_ENTITIES_SHOWN = 25


def scorecard_context(request: HttpRequest, team: Team) -> dict:
    """templates/catalog/scorecards/_rollup.html: the levels of what the team owns and its trend (one query)."""
    return {"rollup": scorecard_selectors.team_scorecard(team.slug), "subject": team.name}


def entities_context(request: HttpRequest, team: Team) -> dict:
    """templates/catalog/_team_entities.html: the first entities the team owns, and how many (two queries at most)."""
    owned = selectors.team_owned_entities(team_slug=team.slug, limit=TEAM_ENTITIES_SHOWN)
    return {"owned_entities": owned.shown, "owned_count": owned.count, "owner_ref": owned.owner_ref}


def team_panels() -> list[TeamPanel]:
    return [
        TeamPanel(key="scorecard", template="catalog/scorecards/_rollup.html", context=scorecard_context, order=10),
        # After the members section (MEMBERS_ORDER): the longest part of the page, at its end.
        TeamPanel(key="entities", template="catalog/_team_entities.html", context=entities_context, order=70),
    ]
