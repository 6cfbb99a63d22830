"""The saga alerts panel of team pages (registered in portal.teams.panels from ObservabilityConfig.ready).
It reads the database only, and shows nothing when the team has no open alert."""

from django.http import HttpRequest

from observability.sagas import selectors
from portal.models import Team
from portal.teams.panels import TeamPanel


def saga_alerts_context(request: HttpRequest, team: Team) -> dict:
    """The team's open saga alerts, newest first, and how many there are (two queries at most)."""
    alerts, total = selectors.team_open_alerts(team)
    return {"alerts": alerts, "total": total}


def saga_alerts_panel() -> TeamPanel:
    return TeamPanel(
        key="saga-alerts", template="observability/sagas/_team_alerts.html", context=saga_alerts_context, order=30
    )
