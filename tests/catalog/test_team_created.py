"""A team created after the entities it owns were imported (in the admin, by demo_users) gets them:
portal.teams.signals.team_created, received by catalog.services.team_entities_link_on_create."""

from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from catalog.models import Entity
from catalog.services import Incoming, entities_apply, location_for
from portal.actors import Actor
from portal.models import Membership, Role, Team, User
from portal.permissions import CHANGE, can
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_INLINE = {
    "memberships-TOTAL_FORMS": "0",
    "memberships-INITIAL_FORMS": "0",
    "memberships-MIN_NUM_FORMS": "0",
    "memberships-MAX_NUM_FORMS": "1000",
}


def component(name: str, owner: str) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "description": f"The {name} service"},
        "spec": {"type": "service", "lifecycle": "production", "owner": owner},
    }


def imported(*documents) -> list[Entity]:
    location = location_for(type="file", target="/srv/catalog/search.yaml")
    entities_apply(
        actor=Actor.for_system("test"),
        location=location,
        incoming=[Incoming(document=d, source=location.target, index=i) for i, d in enumerate(documents)],
    )
    return list(Entity.objects.order_by("name"))


def test_a_team_made_in_the_admin_gets_its_entities_and_its_maintainers_edit_them(client):
    indexer, ranker = imported(component("indexer", "group:default/team-search"), component("ranker", "team-search"))
    assert (indexer.owner_team, ranker.owner_team) == (None, None)  # no such team yet

    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    response = client.post("/admin/portal/team/add/", {"slug": "team-search", "name": "Search", **ADMIN_INLINE})
    assert response.status_code == 302

    team = Team.objects.get(slug="team-search")
    assert set(Entity.objects.filter(owner_team=team).values_list("name", flat=True)) == {"indexer", "ranker"}
    maintainer = MembershipFactory(team=team, user=UserFactory(username="sam"), role=Role.MAINTAINER).user
    client.force_login(maintainer)
    indexer.refresh_from_db()
    document = {**indexer.document, "metadata": {**indexer.document["metadata"], "description": "Now faster."}}
    edit = reverse("catalog:entity_edit", args=["default", "component", "indexer"])
    response = client.post(edit, {"document": yaml.safe_dump(document, sort_keys=False), "etag": indexer.etag})
    assert response.status_code == 302
    indexer.refresh_from_db()
    assert indexer.description == "Now faster."


def test_demo_users_teams_get_the_entities_imported_before_them():
    (orders_api,) = imported(component("orders-api", "group:default/team-orders"))

    call_command("demo_users", stdout=StringIO())

    orders_api.refresh_from_db()
    assert orders_api.owner_team == Team.objects.get(slug="team-orders")
    maintainer = User.objects.get(username="orders-maintainer")
    assert Membership.objects.get(user=maintainer).role == Role.MAINTAINER
    assert can(maintainer, CHANGE, orders_api)
