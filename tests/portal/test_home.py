"""The home page shows the AWS accounts' last known state from the database, and keeps rendering when AWS is down."""

import pytest
from django.utils import timezone

from portal.aws.models import AwsAccount

pytestmark = pytest.mark.django_db


def test_home_shows_accounts_and_a_notice_when_aws_is_unreachable(alice_client, django_assert_max_num_queries):
    AwsAccount.objects.create(
        name="prod",
        account_id="123456789012",
        regions=["eu-west-1"],
        status=AwsAccount.Status.ERROR,
        last_verified_at=timezone.now(),
        last_error="The AWS endpoint http://127.0.0.1:9 is unreachable",
        last_error_code="endpoint_unreachable",
    )
    # 1 session, 2 user, 3 my teams, 4 accounts, 5 the menu's memberships; no AWS call at all.
    with django_assert_max_num_queries(5):
        response = alice_client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="aws-notice"' in page
    assert "prod" in page and "Error" in page


def test_home_without_accounts_says_how_to_add_one(alice_client):
    response = alice_client.get("/")
    assert "No AWS account is configured" in response.content.decode()


def test_apps_add_panels_about_the_users_teams_through_the_registry(alice, alice_client):
    from portal.home_panels import HomePanel, home_panels, register_home_panel, unregister_home_panel
    from tests.factories import MembershipFactory, TeamFactory

    assert [p.key for p in home_panels()] == ["firing-alarms", "saga-alerts", "services"]
    seen = []

    def context(request, teams):
        seen.append([team.slug for team in teams])
        return {"greeting": "hello"}

    register_home_panel(HomePanel(key="test", template="teams/_role_badge.html", context=context, order=1))
    try:
        with pytest.raises(ValueError, match="already registered"):
            register_home_panel(HomePanel(key="test", template="x.html", context=context))
        assert alice_client.get("/").status_code == 200
        assert seen == []  # in no team: no panel about teams
        MembershipFactory(team=TeamFactory(slug="team-a", name="A"), user=alice)
        MembershipFactory(team=TeamFactory(slug="team-b", name="B"), user=alice)
        assert 'data-testid="home-panels"' in alice_client.get("/").content.decode()
        assert [sorted(slugs) for slugs in seen] == [["team-a", "team-b"]]  # once, for every team together
    finally:
        unregister_home_panel("test")
