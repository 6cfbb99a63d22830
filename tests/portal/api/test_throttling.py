"""Rate limits: each token has its own budget, and a user's budget covers all their tokens and their session."""

import pytest
from django.core.cache import cache

from tests.factories import bearer, make_token

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


@pytest.fixture
def rates(settings):
    def set_rates(token: str, user: str):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"token": token, "user": user},
        }
        cache.clear()

    return set_rates


def test_each_token_is_limited_on_its_own(client, alice, rates):
    rates(token="2/min", user="100/min")
    _, first = make_token(alice, name="one")
    _, second = make_token(alice, name="two")

    assert [client.get(ME, **bearer(first)).status_code for _ in range(3)] == [200, 200, 429]
    throttled = client.get(ME, **bearer(first))
    body = throttled.json()
    assert body["code"] == "throttled"
    assert body["request_id"] == throttled["X-Request-ID"]
    assert int(throttled["Retry-After"]) > 0
    assert client.get(ME, **bearer(second)).status_code == 200, "another token has its own budget"


def test_a_users_tokens_and_session_share_the_users_budget(client, alice, bob, rates):
    rates(token="100/min", user="3/min")
    _, first = make_token(alice, name="one")
    _, second = make_token(alice, name="two")
    _, bobs = make_token(bob, name="bobs")

    assert client.get(ME, **bearer(first)).status_code == 200
    assert client.get(ME, **bearer(second)).status_code == 200
    client.force_login(alice)
    assert client.get(ME).status_code == 200
    assert client.get(ME).status_code == 429, "the session is over alice's budget"
    client.logout()
    assert client.get(ME, **bearer(second)).status_code == 429, "so are her tokens"
    assert client.get(ME, **bearer(bobs)).status_code == 200, "bob's budget is his own"
