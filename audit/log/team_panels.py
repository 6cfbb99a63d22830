"""The audit panel of team pages (registered in portal.teams.panels from AuditConfig.ready): the newest events
about the team's objects and a link to all of them. One query."""

from django.http import HttpRequest
from django.urls import reverse

from audit.log.selectors import events_page, visible_events
from portal.models import Team
from portal.teams.panels import TeamPanel

PANEL_EVENTS = 5


def team_audit_context(request: HttpRequest, team: Team) -> dict:
    events, more = events_page(visible_events(request.user).filter(team_id=team.pk), before=None, size=PANEL_EVENTS)
    return {
        "audit_events": events,
        "audit_more": more is not None,
        "audit_url": f"{reverse('audit:index')}?team={team.slug}",
    }


def audit_panel() -> TeamPanel:
    return TeamPanel(key="audit", template="audit/log/_team_events.html", context=team_audit_context, order=80)
