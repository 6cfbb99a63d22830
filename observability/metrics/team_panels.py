"""The CloudWatch alarms panel of team pages (registered in portal.teams.panels from ObservabilityConfig.ready)."""

from django.http import HttpRequest

from observability.metrics import selectors
from portal.models import Team
from portal.teams.panels import TeamPanel


def alarms_context(request: HttpRequest, team: Team) -> dict:
    """The team's alarms (the firing ones listed) and its dashboard link; three queries at most."""
    summary, firing = selectors.team_alarm_summary(team.slug)
    return {"summary": summary, "firing": firing}


def alarms_panel() -> TeamPanel:
    return TeamPanel(key="alarms", template="observability/metrics/_team_alarms.html", context=alarms_context, order=20)
