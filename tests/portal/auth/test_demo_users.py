from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from portal.models import Membership, Role, Team, User

pytestmark = pytest.mark.django_db

EXPECTED_ROLES = {
    ("orders-maintainer", "team-orders"): Role.MAINTAINER,
    ("orders-viewer", "team-orders"): Role.VIEWER,
    ("payments-maintainer", "team-payments"): Role.MAINTAINER,
    ("payments-viewer", "team-payments"): Role.VIEWER,
    ("platform-maintainer", "team-platform"): Role.MAINTAINER,
    ("platform-viewer", "team-platform"): Role.VIEWER,
}


def _run(*args) -> str:
    out = StringIO()
    call_command("demo_users", *args, stdout=out)
    return out.getvalue()


def _roles():
    return {(u, t): r for u, t, r in Membership.objects.values_list("user__username", "team__slug", "role")}


def test_creates_the_admin_and_a_maintainer_and_viewer_per_demo_team():
    output = _run()

    assert dict(Team.objects.values_list("slug", "name")) == {
        "team-orders": "Orders",
        "team-payments": "Payments",
        "team-platform": "Platform",
    }
    assert _roles() == EXPECTED_ROLES
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("meridian-demo")
    assert "demo only" in output
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in output.splitlines() if line.startswith("|")
    ]
    assert rows[0] == ["Username", "Password", "Role"]
    assert ["admin", "meridian-demo", "portal admin"] in rows
    assert ["orders-viewer", "meridian-demo", "viewer of team-orders"] in rows
    assert len(rows) == 8


def test_running_again_changes_nothing_but_restores_drift_and_passwords(client):
    _run()
    viewer = User.objects.get(username="orders-viewer")
    viewer.set_password("changed-by-someone")
    viewer.save(update_fields=["password"])
    Membership.objects.filter(user__username="orders-maintainer").update(role=Role.VIEWER)
    users_before = User.objects.count()

    output = _run()

    assert User.objects.count() == users_before == 7
    assert Team.objects.count() == 3
    assert _roles() == EXPECTED_ROLES
    assert "orders-viewer" in output
    # The printed password works again, through the real sign-in form.
    response = client.post("/accounts/login/", {"username": "orders-viewer", "password": "meridian-demo"})
    assert response.status_code == 302


def test_keeps_teams_the_demo_estate_already_created():
    Team.objects.create(slug="team-orders", name="Orders (from the estate)", description="seeded")
    _run()
    assert Team.objects.get(slug="team-orders").description == "seeded"


def test_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="does not run in production"):
        _run()
    assert not User.objects.exists()


def test_a_demo_user_made_sole_admin_keeps_it_rather_than_orphan_the_team():
    _run()
    Membership.objects.filter(user__username="orders-viewer").update(role=Role.ADMIN)
    err = StringIO()

    call_command("demo_users", stdout=StringIO(), stderr=err)

    assert Membership.objects.get(user__username="orders-viewer").role == Role.ADMIN
    assert "Kept orders-viewer as admin" in err.getvalue()
