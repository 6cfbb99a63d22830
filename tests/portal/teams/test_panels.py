"""The team page's panel registry (portal.teams.panels): what the apps register, in order; a panel of one's
own placed before or after the members by its order; and only the page that shows a panel loads its context."""

import pytest
from django.urls import reverse

from portal.teams.panels import MEMBERS_ORDER, TeamPanel, register_team_panel, team_panels, unregister_team_panel
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TEAM = reverse("teams:detail", args=["team-orders"])


@pytest.fixture
def badge_panel():
    """A panel of this test's, just above the members, that counts how often its context is loaded."""
    loaded = []

    def context(request, team):
        loaded.append(team.slug)
        return {"role": "panel-of-the-test"}

    register_team_panel(
        TeamPanel(key="test-badge", template="teams/_role_badge.html", context=context, order=MEMBERS_ORDER - 1)
    )
    try:
        yield loaded
    finally:
        unregister_team_panel("test-badge")


def test_the_apps_register_their_panels_around_the_members():
    assert [panel.key for panel in team_panels()] == [
        "scorecard",
        "alarms",
        "saga-alerts",
        "members",
        "entities",
        "audit",
    ]


def test_a_key_is_registered_once():
    with pytest.raises(ValueError, match="'members' is already registered"):
        register_team_panel(TeamPanel(key="members", template="teams/_members.html", context=lambda r, t: {}))


def test_a_panel_shows_in_its_place_with_its_context_which_stays_its_own(client_as, people, badge_panel):
    response = client_as("viewer").get(TEAM)

    body = response.content.decode()
    assert body.index('data-testid="team-alarms"') < body.index("panel-of-the-test") < body.index('id="members"')
    assert badge_panel == ["team-orders"]
    # The members table's role badges still show each member's role, not the panel's "role".
    assert body.count("panel-of-the-test") == 1


def test_the_member_forms_answer_htmx_without_loading_other_panels(client_as, people, badge_panel):
    UserFactory(username="nina")
    response = client_as("team_admin").post(
        reverse("teams:member_add", args=["team-orders"]), {"username": "nina"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200 and 'data-member="nina"' in response.content.decode()
    assert badge_panel == []
