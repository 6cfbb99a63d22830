"""A Group in namespace default is a portal team's own: a maintainer can neither declare a new team with one
(API create or import) nor take the Group of another team, which would then block that team's own import."""

import pytest

from catalog.models import Entity
from portal.models import Team
from tests.catalog.api.test_entities_import import post_yaml

pytestmark = pytest.mark.django_db

LIST = "/api/v1/entities/"


def group(name: str, owner: str = "team-orders") -> dict:
    # Groups have no spec.owner in Backstage; one is given here as the squatter would.
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": name},
        "spec": {"type": "team", "children": [], "owner": owner},
    }


def group_yaml(name: str, owner: str = "team-orders") -> bytes:
    return (
        f"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: {name}\n"
        f"spec:\n  type: team\n  children: []\n  owner: {owner}\n"
    ).encode()


def test_a_maintainer_may_not_create_a_new_team_through_a_group(api_as, people):
    response = api_as("maintainer").post(LIST, group("team-squat"), format="json")
    assert response.status_code == 403, response.content
    assert "portal admins" in response.json()["detail"]
    assert not Team.objects.filter(slug="team-squat").exists()
    assert not Entity.objects.filter(kind_key="group").exists()


def test_a_maintainer_may_not_import_a_group_that_makes_a_new_team(api_as, people):
    response = post_yaml(api_as("maintainer"), group_yaml("team-squat"), query="?name=squat.yaml")
    assert response.status_code == 403, response.content
    assert not Team.objects.filter(slug="team-squat").exists()
    assert not Entity.objects.filter(kind_key="group").exists()


def test_a_portal_admin_creates_a_team_through_a_group(api_as, people):
    response = api_as("portal_admin").post(LIST, group("team-new", owner="team-new"), format="json")
    assert response.status_code == 201, response.content
    assert Team.objects.filter(slug="team-new").exists()


@pytest.mark.parametrize("route", ["create", "import"])
def test_the_group_of_another_team_is_that_teams_own(api_as, people, route):
    squatter = api_as("maintainer")  # maintains team-orders
    if route == "create":
        response = squatter.post(LIST, group("team-payments"), format="json")
    else:
        response = post_yaml(squatter, group_yaml("team-payments"), query="?name=squat.yaml")
    assert response.status_code == 403, response.content
    assert not Entity.objects.filter(kind_key="group").exists()
    # The payments team's own import of its Group still goes through.
    own = post_yaml(api_as("outsider"), group_yaml("team-payments", owner="team-payments"), query="?name=pay.yaml")
    assert own.status_code == 200, own.content
    assert Entity.objects.filter(ref_key="group:default/team-payments").exists()


def test_a_teams_maintainer_changes_its_own_group(api_as, people):
    own = api_as("maintainer").post(LIST, group("team-orders"), format="json")
    assert own.status_code == 201, own.content
    other = api_as("outsider").patch(
        f"{LIST}{own.json()['id']}/", {"metadata": {"description": "mine now"}}, format="json", HTTP_IF_MATCH="*"
    )
    assert other.status_code == 403


def test_a_group_is_stored_with_its_own_team_so_the_check_needs_no_query(api_as, people, django_assert_num_queries):
    # spec.owner names another team; the Group is still team-orders' own, as written.
    created = api_as("maintainer").post(LIST, group("team-orders", owner="team-payments"), format="json")
    assert created.status_code == 201, created.content
    stored = Entity.objects.get(ref_key="group:default/team-orders")
    assert stored.owner_team.slug == "team-orders"
    with django_assert_num_queries(0):
        assert stored.owning_team_id == stored.owner_team_id


def test_a_group_stored_before_its_team_is_given_to_the_team_when_it_is_made(api_as, people):
    created = api_as("portal_admin").post(LIST, group("team-later", owner="team-orders"), format="json")
    assert created.status_code == 201, created.content
    team = Team.objects.get(slug="team-later")
    assert Entity.objects.get(ref_key="group:default/team-later").owner_team == team
