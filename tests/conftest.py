"""Shared fixtures. Tests use the real database and services; only AWS is replaced, by moto."""

import os
import tempfile
from pathlib import Path

import pytest

from portal.celery import app as celery_app
from tests.compat import backstage_examples  # noqa: F401 - a fixture for every test
from tests.factories import TeamFactory

# The sandbox's fixtures, and its moto extensions installed for every test that uses mock_aws.
pytest_plugins = ["sandbox.testing"]

# Credentials for moto, so nothing in a test can reach a real AWS account.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
}.items():
    os.environ[_name] = _value

# Messages published by tests go to a queue folder of their own, never to the one `make run`'s worker reads.
if celery_app.conf.broker_url.startswith("filesystem://"):
    CELERY_TEST_DIR = Path(tempfile.mkdtemp(prefix="meridian-celery-"))
    for _folder in ("queue", "control"):
        (CELERY_TEST_DIR / _folder).mkdir()
    celery_app.conf.broker_transport_options = {
        "data_folder_in": str(CELERY_TEST_DIR / "queue"),
        "data_folder_out": str(CELERY_TEST_DIR / "queue"),
        "control_folder": str(CELERY_TEST_DIR / "control"),
    }


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings):
    # Per-test memory cache (no state shared between tests) and a fast hasher for test users.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AWS_ENDPOINT_URL = ""
    # LocMemCache instances with the same location share their data, so empty it for each test.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def client_as(people):
    """A test client signed in as one of `people` (a fixture of the test's module: name -> user or None)."""
    from django.test import Client

    def make(who: str) -> Client:
        client = Client()
        if people[who] is not None:
            client.force_login(people[who])
        return client

    return make


# The two teams most tests need: the owner of what is tested, and another team (for "not yours" cases).
@pytest.fixture
def orders(db):
    return TeamFactory(slug="team-orders", name="Orders")


@pytest.fixture
def payments(db):
    return TeamFactory(slug="team-payments", name="Payments")
