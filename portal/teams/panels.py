"""The sections of a team page, in one registry that other apps extend.

A panel is a spec: a key, the template rendered on the team page, a function that loads the template's
context from the request and the team, and its place on the page (lowest order first). The portal knows no
feature app; the catalog and observability add theirs from their AppConfig.ready():

    from portal.teams.panels import TeamPanel, register_team_panel
    register_team_panel(TeamPanel(key="alarms", template="observability/metrics/_team_alarms.html",
                                  context=alarms_context, order=20))

The members section (the table and the add-member form) is itself a panel, the portal's own, at
MEMBERS_ORDER: so another app's panel goes before or after it by its order alone, and the page has no
slots to know about. Today's page: scorecard 10, alarms 20, saga alerts 30, members 50, owned entities 70.

The team page loads each panel's context once, in the view, and renders the panel's template with the
page's context plus that one (a panel's keys do not leak into the next panel). A page answered with the
members section alone (the htmx member forms) loads no other panel's context.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

from portal.models import Role, Team
from portal.permissions import MANAGE, can
from portal.registry import Registry
from portal.teams.forms import MemberAddForm

MEMBERS_ORDER = 50


@dataclass(frozen=True)
class TeamPanel:
    key: str
    template: str
    context: Callable[[HttpRequest, Team], dict]
    order: int = 100  # position on the page, lowest first


_registry = Registry[TeamPanel]("team panel")
register_team_panel = _registry.register
unregister_team_panel = _registry.unregister


def team_panels() -> list[TeamPanel]:
    return list(_registry)


def members_context(request: HttpRequest, team: Team) -> dict:
    """The members section's context (templates/teams/_members.html and the add-member form)."""
    return {
        "may_manage": can(request.user, MANAGE, team),
        "roles": Role.choices,
        "add_form": MemberAddForm(),
    }


register_team_panel(
    TeamPanel(key="members", template="teams/_members_panel.html", context=members_context, order=MEMBERS_ORDER)
)
