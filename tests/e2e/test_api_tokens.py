"""A person creates an API token in the browser, sees it once, uses it, and revokes it."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from portal.models import ApiToken, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dev(sign_in):
    User.objects.create_user(username="dev", password="correct-horse-42")
    sign_in("dev", "correct-horse-42")


def test_token_is_shown_once_works_and_can_be_revoked(page, dev):
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("menu-api-tokens").click()
    page.get_by_test_id("create-token").click()
    page.get_by_test_id("token-name").fill("ci pipeline")
    page.get_by_test_id("scope-read").check()
    page.get_by_test_id("create-token").click()

    value = page.get_by_test_id("token-value").input_value()
    assert re.fullmatch(r"mrd_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}", value)
    stored = ApiToken.objects.get(name="ci pipeline")
    assert value not in (stored.key_hash, stored.prefix)  # only the hash is kept

    # The token works against the API...
    api = Client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {value}"})
    assert me.status_code == 200 and me.json()["username"] == "dev"

    # ...and is never shown again, not even on reload.
    page.reload()
    expect(page.get_by_test_id("token-value-gone")).to_be_visible()
    expect(page.get_by_test_id("token-value")).to_have_count(0)
    assert value not in page.content()

    page.get_by_test_id("back-to-tokens").click()
    row = page.get_by_test_id("token-row").filter(has_text="ci pipeline")
    expect(row.get_by_test_id("token-status")).to_contain_text("active")
    assert value not in page.content()

    row.get_by_test_id("revoke").click()
    page.get_by_test_id("revoke").click()
    status = page.get_by_test_id("token-row").filter(has_text="ci pipeline").get_by_test_id("token-status")
    expect(status).to_contain_text("revoked")
    refused = api.get("/api/v1/me", headers={"Authorization": f"Bearer {value}"})
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
