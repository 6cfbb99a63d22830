import pytest

from audit.models import AuditEvent
from portal.models import Team

pytestmark = pytest.mark.django_db

INLINE = {
    "memberships-TOTAL_FORMS": "0",
    "memberships-INITIAL_FORMS": "0",
    "memberships-MIN_NUM_FORMS": "0",
    "memberships-MAX_NUM_FORMS": "1000",
}


def test_a_team_made_in_the_admin_goes_through_the_service_and_is_audited(client_as, people):
    response = client_as("portal_admin").post(
        "/admin/portal/team/add/", {"slug": "team-search", "name": "Search", "description": "", **INLINE}
    )

    assert response.status_code == 302
    team = Team.objects.get(slug="team-search")
    event = AuditEvent.objects.get(action="team.create")
    assert (event.target_id, event.actor_label) == (str(team.pk), "root")


def test_renaming_in_the_admin_records_before_and_after_and_keeps_the_slug(client_as, people, orders):
    client = client_as("portal_admin")
    response = client.post(
        f"/admin/portal/team/{orders.pk}/change/",
        {"slug": "team-hijack", "name": "Order Management", "description": "", **INLINE},
    )

    assert response.status_code == 302
    orders.refresh_from_db()
    assert (orders.slug, orders.name) == ("team-orders", "Order Management")
    event = AuditEvent.objects.get(action="team.update")
    assert (event.before["name"], event.after["name"]) == ("Orders", "Order Management")


def test_memberships_are_read_only_in_the_admin(client_as, people):
    client = client_as("portal_admin")
    assert client.get("/admin/portal/membership/").status_code == 200
    assert client.get("/admin/portal/membership/add/").status_code == 403
