"""Fixtures for the X-Ray pages: the in-process sandbox as AWS, the portal's account(s), the shop's catalog."""

import pytest

from portal.aws.models import AwsAccount
from tests.observability.xray_estate import ACCOUNT_ID, REGION, shop_catalog, xray_client

SECOND_ACCOUNT_ID = "222222222222"
SECOND_ROLE_ARN = f"arn:aws:iam::{SECOND_ACCOUNT_ID}:role/MeridianReadOnly"


@pytest.fixture
def xray_endpoint(sandbox_endpoint, settings):
    """The portal's AWS is the (emptied) in-process sandbox."""
    settings.AWS_ENDPOINT_URL = sandbox_endpoint
    return sandbox_endpoint


@pytest.fixture
def xray(xray_endpoint):
    """An X-Ray client in the sandbox's default account, for putting segments."""
    return xray_client(xray_endpoint)


@pytest.fixture
def prod_account(db):
    return AwsAccount.objects.create(name="meridian-prod", account_id=ACCOUNT_ID, regions=[REGION])


@pytest.fixture
def shop(orders, payments):
    return shop_catalog()


@pytest.fixture
def xray_faults(settings):
    """Fast failures: one attempt, short timeouts, a breaker that opens after 2 failures."""
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT = 0.5
    settings.AWS_READ_TIMEOUT = 0.5
    settings.AWS_BREAKER_FAILURES = 2
    settings.AWS_BREAKER_RESET_SECONDS = 30
    return settings
