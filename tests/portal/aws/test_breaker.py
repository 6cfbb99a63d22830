import time

import pytest
from moto import mock_aws

from portal.aws.accounting import count_aws_calls
from portal.aws.aws import caller_identity
from portal.aws.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from portal.aws.clients import client
from portal.aws.errors import AwsCircuitOpen, AwsEndpointUnreachable, AwsNotFound, AwsUnavailable, aws_errors
from tests.portal.aws.conftest import OWN_ACCOUNT_ID


def test_opens_after_n_failures_then_fails_fast_without_network(endpoint_down, own_account):
    for _ in range(2):  # AWS_BREAKER_FAILURES = 2
        with pytest.raises(AwsEndpointUnreachable):
            caller_identity(own_account)
    assert CircuitBreaker(OWN_ACCOUNT_ID, "sts").state().state == OPEN

    with count_aws_calls() as calls, pytest.raises(AwsCircuitOpen) as refused:
        caller_identity(own_account)

    assert isinstance(refused.value, AwsUnavailable)
    assert calls.total_attempts == 0  # no HTTP request was even built: failing fast needs no timing assertion
    assert "paused" in str(refused.value) and "try again in" in str(refused.value)


def test_the_breaker_is_per_account_and_service(endpoint_down, own_account, second_account):
    for _ in range(2):
        with pytest.raises(AwsEndpointUnreachable):
            caller_identity(own_account)

    assert CircuitBreaker(OWN_ACCOUNT_ID, "sts").state().state == OPEN
    assert CircuitBreaker(OWN_ACCOUNT_ID, "ecs").state().state == CLOSED
    assert CircuitBreaker(second_account.account_id, "sts").state().state == CLOSED


def test_half_opens_after_the_reset_period_and_closes_when_the_probe_succeeds(endpoint_down, settings, own_account):
    settings.AWS_BREAKER_RESET_SECONDS = 0.2
    for _ in range(2):
        with pytest.raises(AwsEndpointUnreachable):
            caller_identity(own_account)
    time.sleep(0.25)
    assert CircuitBreaker(OWN_ACCOUNT_ID, "sts").state().state == HALF_OPEN

    settings.AWS_ENDPOINT_URL = ""  # AWS is back
    with mock_aws():
        identity = caller_identity(own_account)
        state = CircuitBreaker(OWN_ACCOUNT_ID, "sts").state()

    assert identity.account_id == OWN_ACCOUNT_ID
    assert (state.state, state.failures) == (CLOSED, 0)


def test_a_failed_probe_opens_it_again_at_once(endpoint_down, settings, own_account):
    settings.AWS_BREAKER_RESET_SECONDS = 0.2
    settings.AWS_BREAKER_FAILURES = 3
    for _ in range(3):
        with pytest.raises(AwsEndpointUnreachable):
            caller_identity(own_account)
    time.sleep(0.25)

    with pytest.raises(AwsEndpointUnreachable):
        caller_identity(own_account)  # the probe: goes out, fails

    with count_aws_calls() as calls, pytest.raises(AwsCircuitOpen):
        caller_identity(own_account)  # one failed probe is enough to open it again
    assert calls.total_attempts == 0


def test_only_one_caller_probes_while_half_open(endpoint_down, settings, own_account):
    settings.AWS_BREAKER_RESET_SECONDS = 0.2
    breaker = CircuitBreaker(OWN_ACCOUNT_ID, "sts")
    for _ in range(2):
        with pytest.raises(AwsEndpointUnreachable):
            caller_identity(own_account)
    time.sleep(0.25)

    ticket = breaker.before_call()  # a probe in flight elsewhere
    assert ticket["probe"] is True
    with pytest.raises(AwsCircuitOpen, match="A retry is under way"):
        caller_identity(own_account)


def test_answers_that_prove_the_endpoint_is_up_do_not_count_as_failures(aws, settings, own_account):
    settings.AWS_BREAKER_FAILURES = 1
    ecs_breaker = CircuitBreaker(OWN_ACCOUNT_ID, "ecs")
    ecs = client("ecs", account=own_account)
    with pytest.raises(AwsNotFound), aws_errors(account=own_account, service="ecs"):
        ecs.describe_services(cluster="missing", services=["orders"])

    assert ecs_breaker.state().state == CLOSED
