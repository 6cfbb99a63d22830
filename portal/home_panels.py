"""The sections of the home page about the user's own teams, in one registry that other apps extend.

A portal.registry.Registry, like the team page's (portal.teams.panels): a panel is a spec, a key, the
template rendered on the home page, a function that loads the template's context from the request and the
user's teams, and its place on the page (lowest order first). The portal knows no feature app; the catalog
and observability add theirs from their AppConfig.ready():

    from portal.home_panels import HomePanel, register_home_panel
    register_home_panel(HomePanel(key="firing-alarms", template="observability/metrics/_home_alarms.html",
                                  context=firing_alarms_context, order=20))

Today's page: the teams' firing alarms 10, saga alerts 20, services 30. A panel reads the database only (what
sync tasks stored): the home page never waits on AWS. Each panel's context is loaded once, for all the
user's teams together, so the page costs the same queries for one team or ten; a user in no team gets no
panel (the page says how to join one).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.http import HttpRequest

from portal.models import Team
from portal.registry import Registry


@dataclass(frozen=True)
class HomePanel:
    key: str
    template: str
    context: Callable[[HttpRequest, Sequence[Team]], dict]
    order: int = 100  # position on the page, lowest first


_registry = Registry[HomePanel]("home panel")
register_home_panel = _registry.register
unregister_home_panel = _registry.unregister


def home_panels() -> list[HomePanel]:
    return list(_registry)
