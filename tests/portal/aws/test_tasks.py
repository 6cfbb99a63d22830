import logging

from django.utils import timezone

from portal.aws.accounting import count_aws_calls
from portal.aws.models import AwsAccount
from portal.aws.tasks import aws_account_verify, aws_accounts_verify_all
from tests.portal.aws.conftest import SECOND_ACCOUNT_ID


def test_verify_against_aws_records_ok(aws, second_account):
    before = timezone.now()

    aws_account_verify(second_account.pk)
    aws_account_verify(second_account.pk)  # again: same outcome, nothing else happens

    second_account.refresh_from_db()
    assert second_account.status == AwsAccount.Status.OK
    assert second_account.last_verified_at >= before
    assert second_account.last_error == ""
    assert second_account.identity_arn == f"arn:aws:sts::{SECOND_ACCOUNT_ID}:assumed-role/MeridianReadOnly/meridian"


def test_verify_against_an_unreachable_endpoint_records_an_actionable_error(endpoint_down, own_account):
    aws_account_verify(own_account.pk)

    own_account.refresh_from_db()
    assert own_account.status == AwsAccount.Status.ERROR
    assert own_account.last_error_code == "endpoint_unreachable"
    assert own_account.last_error.startswith(f"Cannot connect to the AWS endpoint {endpoint_down}")
    assert "is it running?" in own_account.last_error
    assert "meridian-prod (123456789012)" in own_account.last_error


def test_verify_notices_credentials_that_land_in_another_account(aws, db):
    # The portal's own (moto) credentials are in 123456789012, not in the account the row claims.
    account = AwsAccount.objects.create(name="claimed", account_id="333333333333")

    aws_account_verify(account.pk)

    account.refresh_from_db()
    assert (account.status, account.last_error_code) == ("error", "wrong_account")
    assert "reached account 123456789012" in account.last_error and "not 333333333333" in account.last_error


def test_verify_skips_a_missing_account(db, caplog):
    with caplog.at_level(logging.INFO, logger="portal.aws.tasks"), count_aws_calls() as calls:
        aws_account_verify(424242)

    assert "AWS account 424242 no longer exists" in caplog.text
    assert calls.total == 0


def test_verify_all_verifies_each_enabled_account_once(aws, celery_eager, own_account, second_account):
    AwsAccount.objects.create(name="old", account_id="444444444444", enabled=False)

    with count_aws_calls() as calls:
        aws_accounts_verify_all()

    assert calls[("sts", "GetCallerIdentity")] == 2
    assert sorted(AwsAccount.objects.values_list("name", "status")) == [
        ("meridian-payments", "ok"),
        ("meridian-prod", "ok"),
        ("old", "unknown"),
    ]
