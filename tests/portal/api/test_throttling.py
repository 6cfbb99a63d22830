"""Rate limits: each token has its own budget, and a user's budget covers all their tokens and their session."""

import math
import os
import time

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


def _hammer(path: str, headers: dict, *, requests: int, connections: int) -> list[int]:
    """`requests` GETs on `connections` threads, each with its own client and database connection."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.test import Client

    def one_connection(n: int) -> list[int]:
        client = Client()
        try:
            return [client.get(path, **headers).status_code for _ in range(n)]
        finally:
            connection.close()

    share = requests // connections
    with ThreadPoolExecutor(max_workers=connections) as pool:
        return [code for codes in pool.map(one_connection, [share] * connections) for code in codes]


# Production's cache; the suite runs this case where a Redis answers (CI's and the development machine's).
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_answers() -> bool:
    import redis

    try:
        return redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.RedisError:
        return False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "portal.cache.FileBasedCache",
        pytest.param(
            "django.core.cache.backends.redis.RedisCache",
            marks=pytest.mark.skipif(not _redis_answers(), reason=f"no Redis at {TEST_REDIS_URL}"),
        ),
    ],
    ids=["locmem", "file", "redis"],
)
def test_a_token_gets_exactly_its_budget_under_concurrent_requests(settings, rates, backend, tmp_path):
    from tests.factories import UserFactory

    location = TEST_REDIS_URL if backend.endswith("RedisCache") else str(tmp_path / "cache")
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": location}}
    rates(token="40/hour", user="100000/hour")
    _, secret = make_token(UserFactory(username="loader"))

    codes = _hammer(ME, bearer(secret), requests=240, connections=16)

    assert codes.count(200) == 40, f"{codes.count(200)} requests got through a budget of 40"
    assert codes.count(429) == 200


def test_retry_after_is_the_time_left_in_the_window(client, alice, rates):
    rates(token="2/hour", user="100/hour")
    _, secret = make_token(alice)
    assert [client.get(ME, **bearer(secret)).status_code for _ in range(2)] == [200, 200]
    before = time.time()
    throttled = client.get(ME, **bearer(secret))
    after = time.time()
    # Budgets are counted in fixed windows of the rate's period (here the clock's hours): the next request
    # is let through once the current window ends.
    window_end = (before // 3600 + 1) * 3600
    assert throttled.status_code == 429
    assert math.ceil(window_end - after) <= int(throttled["Retry-After"]) <= math.ceil(window_end - before)
