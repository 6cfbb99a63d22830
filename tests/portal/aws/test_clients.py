import time

import pytest

from portal.aws.accounting import count_aws_calls
from portal.aws.aws import caller_identity
from portal.aws.clients import SESSION_NAME, PageBudget, client
from portal.aws.errors import PageBudgetSpent
from tests.portal.aws.conftest import OWN_ACCOUNT_ID, SECOND_ACCOUNT_ID


def test_clients_take_endpoint_timeouts_and_retries_from_settings(settings, own_account):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:5999"
    settings.AWS_CONNECT_TIMEOUT = 1.5
    settings.AWS_READ_TIMEOUT = 7.0
    settings.AWS_MAX_ATTEMPTS = 4

    ecs = client("ecs", account=own_account, region="us-east-1")

    assert ecs.meta.endpoint_url == "http://127.0.0.1:5999"
    assert ecs.meta.region_name == "us-east-1"
    assert ecs.meta.config.connect_timeout == 1.5
    assert ecs.meta.config.read_timeout == 7.0
    # AWS_MAX_ATTEMPTS counts every request, the first included (botocore's `max_attempts` would count retries).
    assert ecs.meta.config.retries == {"mode": "standard", "total_max_attempts": 4}


def test_without_an_endpoint_setting_clients_go_to_aws_and_default_to_the_accounts_first_region(
    settings, second_account
):
    settings.AWS_ENDPOINT_URL = ""
    second_account.role_arn = ""  # no AssumeRole needed to build the client

    ecs = client("ecs", account=second_account, region=None)

    assert ecs.meta.endpoint_url == "https://ecs.eu-west-1.amazonaws.com"


def test_an_account_without_a_role_uses_the_portals_own_credentials(aws, own_account):
    with count_aws_calls() as calls:
        identity = caller_identity(own_account)

    assert identity.account_id == OWN_ACCOUNT_ID
    assert calls[("sts", "AssumeRole")] == 0
    assert calls[("sts", "GetCallerIdentity")] == 1


def test_assumes_the_role_into_another_account_once_and_reuses_the_credentials(aws, second_account):
    with count_aws_calls() as calls:
        first = caller_identity(second_account, "eu-west-1")
        second = caller_identity(second_account, "us-east-1")

    assert first.account_id == second.account_id == SECOND_ACCOUNT_ID
    assert first.arn == f"arn:aws:sts::{SECOND_ACCOUNT_ID}:assumed-role/MeridianReadOnly/{SESSION_NAME}"
    assert calls[("sts", "AssumeRole")] == 1
    assert calls[("sts", "GetCallerIdentity")] == 2


def test_changing_the_role_assumes_again_instead_of_reusing_old_credentials(aws, second_account):
    with count_aws_calls() as calls:
        caller_identity(second_account)
        second_account.role_arn = f"arn:aws:iam::{SECOND_ACCOUNT_ID}:role/MeridianAudit"
        identity = caller_identity(second_account)

    assert calls[("sts", "AssumeRole")] == 2
    assert identity.arn.endswith(":assumed-role/MeridianAudit/meridian")


def test_a_page_budget_counts_only_the_time_spent_in_aws_calls(settings):
    settings.AWS_PAGE_BUDGET = 0.05
    budget = PageBudget()
    time.sleep(0.06)  # work outside AWS calls (the cache, the database) costs the budget nothing
    budget.check("nothing")
    with budget.spending():
        time.sleep(0.06)

    with pytest.raises(PageBudgetSpent, match=r"AWS was slow for this page, so the graph was not fetched \(after 0\."):
        budget.check("the graph was not fetched")
    assert budget.exhausted and PageBudgetSpent.code == "page_budget"
