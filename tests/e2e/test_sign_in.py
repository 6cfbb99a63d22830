"""The sign-in journey in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from portal.models import Membership, Team, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def maria():
    user = User.objects.create_user(username="maria", password="correct-horse-42", first_name="Maria")
    team = Team.objects.create(slug="team-orders", name="Orders")
    Membership.objects.create(user=user, team=team, role="maintainer")
    return user


def test_sign_in_lands_on_the_page_asked_for_with_the_user_and_teams_shown(page, sign_in, maria):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    sign_in("maria", "correct-horse-42")
    expect(page.get_by_role("heading", name="Welcome, Maria")).to_be_visible()
    page.get_by_test_id("user-menu").click()
    menu = page.locator(".dropdown-menu")
    expect(menu.get_by_text("Orders")).to_be_visible()
    expect(menu.get_by_text("maintainer")).to_be_visible()


def test_a_wrong_password_shows_an_error_and_stays_signed_out(page, sign_in, maria):
    sign_in("maria", "wrong-password")
    expect(page.get_by_test_id("login-error")).to_contain_text("correct username and password")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_sign_out_ends_the_session(page, sign_in, maria):
    sign_in("maria", "correct-horse-42")
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
