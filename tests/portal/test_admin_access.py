"""The admin's sign-in page and index answer everyone: anonymous callers, every demo role, and staff.

Every registered ModelAdmin is asked for its permissions on these pages, so one that assumes a signed-in
user turns the sign-in page itself into a 500 for the people who most need it.
"""

from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client

from portal.management.commands.demo_users import demo_users
from portal.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("demo_users", stdout=StringIO())
    return {demo.username: User.objects.get(username=demo.username) for demo in demo_users()}


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_anonymous_sees_the_sign_in_page_and_is_sent_to_it_from_the_index():
    client = _client()
    assert client.get("/admin/login/").status_code == 200
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_every_demo_role_gets_the_sign_in_page_and_an_answer_from_the_index(demo):
    for username, user in demo.items():
        client = _client(user)
        login = client.get("/admin/login/")
        index = client.get("/admin/")
        if user.is_portal_admin:
            assert login.status_code == 302, username  # already signed in: on to the index
            assert index.status_code == 200, username
        else:
            assert login.status_code == 200, username  # Django asks for a staff account
            assert index.status_code == 302, username
            assert index["Location"].startswith("/admin/login/")


def test_staff_who_are_not_portal_admins_get_the_index():
    staff = UserFactory(username="staffer", is_staff=True)
    assert _client(staff).get("/admin/").status_code == 200


@pytest.mark.parametrize("model_admin", list(admin.site._registry.values()), ids=lambda m: str(m))
def test_no_model_admin_assumes_a_signed_in_user(rf, model_admin):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/admin/")
    request.user = AnonymousUser()
    assert model_admin.has_module_permission(request) is False
    for ask in (model_admin.has_view_permission, model_admin.has_change_permission, model_admin.has_delete_permission):
        assert not ask(request)
    assert not model_admin.has_add_permission(request)
