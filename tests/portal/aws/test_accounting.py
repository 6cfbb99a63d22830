import logging

import boto3
import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from portal.aws.accounting import count_aws_calls
from portal.aws.aws import caller_identity
from portal.aws.clients import client
from portal.aws.errors import AwsEndpointUnreachable
from portal.aws.middleware import AwsCallAccountingMiddleware
from portal.aws.tasks import aws_account_verify


def test_counts_calls_per_service_and_operation(aws, own_account):
    ecs = client("ecs", account=own_account, region="eu-west-1")
    ecs.create_cluster(clusterName="orders")
    with count_aws_calls() as calls:
        ecs.list_clusters()
        ecs.describe_clusters(clusters=["orders"])
        ecs.describe_clusters(clusters=["orders"])
        caller_identity(own_account)

    assert dict(calls) == {
        ("ecs", "ListClusters"): 1,
        ("ecs", "DescribeClusters"): 2,
        ("sts", "GetCallerIdentity"): 1,
    }
    assert calls.total == 4


def test_counters_nest_and_only_count_clients_from_the_factory(aws, own_account):
    with count_aws_calls() as outer:
        caller_identity(own_account)
        with count_aws_calls() as inner:
            caller_identity(own_account)
        # A client made behind the factory's back is invisible to the accounting (and to the breaker).
        boto3.client("sts", region_name="eu-west-1").get_caller_identity()

    assert inner[("sts", "GetCallerIdentity")] == 1
    assert outer[("sts", "GetCallerIdentity")] == 2


def test_retries_are_counted_as_attempts_of_one_call(endpoint_down, settings, own_account):
    settings.AWS_MAX_ATTEMPTS = 2
    settings.AWS_BREAKER_FAILURES = 5
    with count_aws_calls() as calls, pytest.raises(AwsEndpointUnreachable):
        caller_identity(own_account)

    assert calls[("sts", "GetCallerIdentity")] == 1
    assert calls.attempts[("sts", "GetCallerIdentity")] == 2


def test_the_middleware_logs_the_requests_aws_calls(aws, own_account, caplog):
    def view(request):
        caller_identity(own_account)
        caller_identity(own_account)
        return HttpResponse("ok")

    with caplog.at_level(logging.INFO, logger="portal.aws.calls"):
        AwsCallAccountingMiddleware(view)(RequestFactory().get("/aws/accounts/"))

    [record] = [r for r in caplog.records if r.name == "portal.aws.calls"]
    assert record.aws_calls == 2
    assert record.aws_calls_by_operation == {"sts.GetCallerIdentity": 2}
    assert record.path == "/aws/accounts/"


def test_a_task_run_logs_its_aws_calls(aws, own_account, celery_eager, caplog):
    with caplog.at_level(logging.INFO, logger="portal.aws.calls"):
        aws_account_verify.delay(own_account.pk)

    [record] = [r for r in caplog.records if r.name == "portal.aws.calls"]
    assert record.task == "portal.aws.tasks.aws_account_verify"
    assert record.aws_calls_by_operation == {"sts.GetCallerIdentity": 1}
