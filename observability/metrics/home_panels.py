"""The firing CloudWatch alarms panel of the home page (registered in portal.home_panels from
ObservabilityConfig.ready). It reads the alarm states the alarm sync stored; it never calls AWS."""

from collections.abc import Sequence

from django.http import HttpRequest

from observability.metrics import selectors
from portal.home_panels import HomePanel
from portal.models import Team

FIRING_SHOWN = 10


def firing_alarms_context(request: HttpRequest, teams: Sequence[Team]) -> dict:
    """The alarms in ALARM on the teams' services, longest firing first (two queries)."""
    firing = selectors.teams_firing_alarms(team.slug for team in teams)
    return {"firing": firing[:FIRING_SHOWN], "firing_count": len(firing)}


def firing_alarms_panel() -> HomePanel:
    return HomePanel(
        key="firing-alarms", template="observability/metrics/_home_alarms.html", context=firing_alarms_context, order=10
    )
