"""The saga alerts panel of the home page (registered in portal.home_panels from ObservabilityConfig.ready).
It reads the alerts the saga sync stored; it never calls AWS, and shows nothing when no alert is open."""

from collections.abc import Sequence

from django.http import HttpRequest

from observability.sagas import selectors
from portal.home_panels import HomePanel
from portal.models import Team


def saga_alerts_context(request: HttpRequest, teams: Sequence[Team]) -> dict:
    """The teams' open saga alerts, newest first, and how many there are (two queries at most)."""
    alerts, total = selectors.teams_open_alerts(teams)
    return {"alerts": alerts, "total": total}


def saga_alerts_panel() -> HomePanel:
    return HomePanel(
        key="saga-alerts", template="observability/sagas/_home_alerts.html", context=saga_alerts_context, order=20
    )
