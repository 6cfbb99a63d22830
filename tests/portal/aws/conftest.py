"""Fixtures for the AWS layer: moto in-process, accounts, an endpoint that refuses connections."""

import socket

import pytest
from django.core.cache import cache
from moto import mock_aws

from portal.aws.models import AwsAccount
from portal.celery import app as celery_app
from portal.models import User

# moto's default account: what the portal's own (moto) credentials land in.
OWN_ACCOUNT_ID = "123456789012"
SECOND_ACCOUNT_ID = "222222222222"
SECOND_ROLE_ARN = f"arn:aws:iam::{SECOND_ACCOUNT_ID}:role/MeridianReadOnly"


def make_accounts(n: int) -> None:
    AwsAccount.objects.bulk_create(
        AwsAccount(name=f"acct-{i}", account_id=f"{100000000000 + i}", regions=["eu-west-1", "us-east-1"])
        for i in range(n)
    )


@pytest.fixture(autouse=True)
def _empty_cache():
    # The root conftest's LocMemCache is per *location*, and every test uses the same one, so entries
    # (assumed-role credentials, breaker state) would outlive a test without this.
    cache.clear()


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def own_account(db):
    return AwsAccount.objects.create(name="meridian-prod", account_id=OWN_ACCOUNT_ID, regions=["eu-west-1"])


@pytest.fixture
def second_account(db):
    return AwsAccount.objects.create(
        name="meridian-payments",
        account_id=SECOND_ACCOUNT_ID,
        role_arn=SECOND_ROLE_ARN,
        external_id="meridian-test",
        regions=["eu-west-1", "us-east-1"],
    )


def _closed_port() -> int:
    # Bind, note the port, close: nothing listens there, so connecting is refused at once.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def endpoint_down(settings):
    """AWS_ENDPOINT_URL pointing at a closed port, one attempt, tiny timeouts, a breaker that opens after 2."""
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{_closed_port()}"
    settings.AWS_CONNECT_TIMEOUT = 0.5
    settings.AWS_READ_TIMEOUT = 0.5
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_BREAKER_FAILURES = 2
    settings.AWS_BREAKER_RESET_SECONDS = 30
    return settings.AWS_ENDPOINT_URL


@pytest.fixture
def celery_eager():
    """Run tasks in-process when enqueued (the code under test still calls .delay)."""
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def portal_admin(db):
    return User.objects.create_user(username="root", password="x", is_superuser=True, is_staff=True)


@pytest.fixture
def normal_user(db):
    return User.objects.create_user(username="alice", password="x")
