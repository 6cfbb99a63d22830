"""Fixtures for observability: moto in-process, the portal's AWS account, people, CloudWatch data; for X-Ray, the
in-process sandbox as the portal's AWS and the shop's catalog (tests/observability/xray_estate.py); for sagas,
the order saga in the sandbox and the catalog (tests/observability/saga_estate.py)."""

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from django.core.cache import cache
from moto import mock_aws

from portal.aws.models import AwsAccount
from portal.celery import app as celery_app
from portal.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.observability.estate import ACCOUNT, REGION
from tests.observability.sagas import machines as saga_machines
from tests.observability.sagas.estate import build_order_saga
from tests.observability.xray.estate import ACCOUNT_ID, shop_catalog, xray_client

SECOND_ACCOUNT_ID = "222222222222"
SECOND_ROLE_ARN = f"arn:aws:iam::{SECOND_ACCOUNT_ID}:role/MeridianReadOnly"


@pytest.fixture(autouse=True)
def _empty_cache(settings):
    # As portal.settings does for the local caches: room for a dashboard's series (Django's default is 300).
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 20000}}
    }
    cache.clear()


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def account(db):
    return AwsAccount.objects.create(name="meridian-prod", account_id=ACCOUNT, regions=[REGION])


@pytest.fixture
def people(orders, payments):
    return {
        "viewer": MembershipFactory(team=orders, user=UserFactory(username="vera"), role=Role.VIEWER).user,
        "maintainer": MembershipFactory(team=orders, user=UserFactory(username="max"), role=Role.MAINTAINER).user,
        "outsider": MembershipFactory(team=payments, user=UserFactory(username="otto"), role=Role.MAINTAINER).user,
        "portal_admin": UserFactory(username="root", is_superuser=True, is_staff=True),
        "anonymous": None,
    }


@pytest.fixture
def page_faults(settings):
    """Fast failures for fault tests: one attempt, short timeouts, a breaker that opens after 2 failures."""
    settings.AWS_MAX_ATTEMPTS = settings.AWS_PAGE_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT = settings.AWS_PAGE_CONNECT_TIMEOUT = 0.5
    settings.AWS_READ_TIMEOUT = settings.AWS_PAGE_READ_TIMEOUT = 0.3
    settings.AWS_BREAKER_FAILURES = 2
    settings.AWS_BREAKER_RESET_SECONDS = 30
    return settings


@pytest.fixture
def xray_endpoint(sandbox_endpoint, settings):
    """The portal's AWS is the (emptied) in-process sandbox, which computes X-Ray's answers from the segments put."""
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


def put_points(namespace: str, metric: str, dimensions: dict, values, *, unit: str = "Count", every=60, region=REGION):
    """Datapoints for the last len(values) * `every` seconds, oldest first, one a step (moto must be active)."""
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    now = datetime.now(UTC)
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            "Value": float(value),
            "Unit": unit,
            "Timestamp": now - timedelta(seconds=every * (len(values) - i)),
        }
        for i, value in enumerate(values)
    ]
    for start in range(0, len(data), 1000):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + 1000])


def put_alarm(name: str, namespace: str, metric: str, dimensions: dict, *, threshold: float, stat="Sum", region=REGION):
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    statistic = {"Statistic": stat} if not stat.startswith("p") else {"ExtendedStatistic": stat}
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        Period=60,
        EvaluationPeriods=1,
        Threshold=threshold,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "service", "Value": "x"}],
        **statistic,
    )


def set_alarm_state(name: str, state: str, reason: str = "Threshold crossed", region=REGION):
    boto3.client("cloudwatch", region_name=region).set_alarm_state(AlarmName=name, StateValue=state, StateReason=reason)


# --- sagas (Step Functions) -----------------------------------------------------------------------------------


@pytest.fixture
def saga_aws(sandbox_endpoint, settings):
    """The sandbox as the portal's AWS, without the pacing waits (the pacer has tests of its own)."""
    settings.AWS_ENDPOINT_URL = sandbox_endpoint
    settings.SAGA_RATE_LIST_EXECUTIONS = 1000
    settings.SAGA_RATE_GET_EXECUTION_HISTORY = 1000
    settings.SAGA_RATE_DESCRIBE_STATE_MACHINE = 1000
    saga_machines.create_table(sandbox_endpoint)
    return sandbox_endpoint


@pytest.fixture
def order_saga(saga_aws, account, orders):
    """The order saga in the sandbox, discovered into the catalog, linked to its Component and team-orders."""
    return build_order_saga(saga_aws, account)


@pytest.fixture
def celery_eager():
    """Run tasks in-process when enqueued (the code under test still calls .delay)."""
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous
