"""The catalog's panel on the home page (portal.home_panels): the services the user's teams own. Registered from
CatalogConfig.ready()."""

from collections.abc import Sequence

from django.http import HttpRequest

from catalog import selectors
from portal.home_panels import HomePanel
from portal.models import Team

SERVICES_SHOWN = 12


def services_context(request: HttpRequest, teams: Sequence[Team]) -> dict:
    """templates/catalog/_home_services.html: the first Components the teams own, and how many (two queries at
    most)."""
    owned = selectors.teams_components(team_slugs=[team.slug for team in teams], limit=SERVICES_SHOWN)
    return {"services": owned.shown, "services_count": owned.count, "services_owners": owned.owner_refs}


def home_panels() -> list[HomePanel]:
    return [HomePanel(key="services", template="catalog/_home_services.html", context=services_context, order=30)]
