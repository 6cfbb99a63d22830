from datetime import timedelta

from moto import mock_aws

from portal.aws.aws import caller_identity
from portal.aws.errors import AwsEndpointUnreachable
from portal.aws.freshness import fetch_or_last_good
from tests.portal.aws.conftest import OWN_ACCOUNT_ID


def test_returns_fresh_data_and_falls_back_to_it_marked_stale_when_aws_fails(settings, own_account, endpoint_down):
    settings.AWS_ENDPOINT_URL = ""
    with mock_aws():
        fresh = fetch_or_last_good("identity:prod", lambda: caller_identity(own_account))
    assert (fresh.stale, fresh.value.account_id, fresh.error) == (False, OWN_ACCOUNT_ID, "")

    settings.AWS_ENDPOINT_URL = endpoint_down
    stale = fetch_or_last_good("identity:prod", lambda: caller_identity(own_account))

    assert stale.stale is True
    assert stale.value == fresh.value
    assert stale.fetched_at == fresh.fetched_at  # stamped with when AWS gave it, not now
    assert "Cannot connect to the AWS endpoint" in stale.error
    assert stale.error_code == AwsEndpointUnreachable.code


def test_with_nothing_remembered_a_failure_gives_no_value_and_the_error(own_account, endpoint_down):
    result = fetch_or_last_good("identity:never", lambda: caller_identity(own_account))

    assert (result.value, result.fetched_at, result.stale) == (None, None, True)
    assert result.error_code == "endpoint_unreachable"


def test_a_young_enough_result_is_served_without_calling_aws(aws, own_account):
    fetch_or_last_good("identity:prod", lambda: caller_identity(own_account))
    calls = []

    result = fetch_or_last_good("identity:prod", lambda: calls.append(1), fresh_for=timedelta(minutes=5))

    assert calls == []
    assert result.value.account_id == OWN_ACCOUNT_ID and result.stale is False
