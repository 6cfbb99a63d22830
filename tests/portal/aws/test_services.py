import re

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command

from audit.models import AuditEvent
from portal.actors import Actor
from portal.aws.models import AwsAccount
from portal.aws.services import aws_account_save, aws_accounts_sync_from_settings, parse_account_spec

SYSTEM = Actor.for_system("test")
PAYMENTS = "payments:210987654321:arn:aws:iam::210987654321:role/MeridianReadOnly:meridian-demo:eu-west-1|us-east-1"


def test_parses_a_spec_whose_role_arn_has_colons():
    assert parse_account_spec(PAYMENTS) == {
        "name": "payments",
        "account_id": "210987654321",
        "role_arn": "arn:aws:iam::210987654321:role/MeridianReadOnly",
        "external_id": "meridian-demo",
        "regions": ["eu-west-1", "us-east-1"],
    }
    assert parse_account_spec("prod:123456789012:::eu-west-1")["role_arn"] == ""


def test_a_malformed_spec_says_what_shape_is_expected():
    with pytest.raises(ImproperlyConfigured, match=re.escape("'name:account_id:role_arn:external_id:region1|region2'")):
        parse_account_spec("prod:123456789012")


def test_sync_creates_then_changes_nothing_and_audits_only_changes(db, settings):
    settings.AWS_ACCOUNTS = ["prod:123456789012:::eu-west-1", PAYMENTS]

    first = aws_accounts_sync_from_settings(actor=SYSTEM)
    second = aws_accounts_sync_from_settings(actor=SYSTEM)

    assert first.created == ["prod", "payments"]
    assert (second.created, second.updated, second.unchanged) == ([], [], ["prod", "payments"])
    assert list(AuditEvent.objects.order_by("id").values_list("action", "target_repr")) == [
        ("aws_account.create", "prod (123456789012)"),
        ("aws_account.create", "payments (210987654321)"),
    ]
    payments = AwsAccount.objects.get(account_id="210987654321")
    assert (payments.external_id, payments.regions, payments.enabled) == (
        "meridian-demo",
        ["eu-west-1", "us-east-1"],
        True,
    )


def test_sync_verifies_new_and_changed_accounts_right_after_commit(db, settings, django_capture_on_commit_callbacks):
    settings.AWS_ACCOUNTS = ["prod:123456789012:::eu-west-1"]
    with django_capture_on_commit_callbacks() as created:
        aws_accounts_sync_from_settings(actor=SYSTEM)
    with django_capture_on_commit_callbacks() as unchanged:
        aws_accounts_sync_from_settings(actor=SYSTEM)
    settings.AWS_ACCOUNTS = ["prod:123456789012:::eu-west-1|us-east-1"]
    with django_capture_on_commit_callbacks() as changed:
        aws_accounts_sync_from_settings(actor=SYSTEM)
    assert (len(created), len(unchanged), len(changed)) == (1, 0, 1)


def test_sync_updates_changed_accounts_with_before_and_after_but_keeps_an_admins_disable(db, settings):
    settings.AWS_ACCOUNTS = ["prod:123456789012:::eu-west-1"]
    aws_accounts_sync_from_settings(actor=SYSTEM)
    AwsAccount.objects.filter(account_id="123456789012").update(enabled=False)

    settings.AWS_ACCOUNTS = ["prod:123456789012:::eu-west-1|eu-central-1"]
    result = aws_accounts_sync_from_settings(actor=SYSTEM)

    assert result.updated == ["prod"]
    prod = AwsAccount.objects.get(account_id="123456789012")
    assert (prod.regions, prod.enabled) == (["eu-west-1", "eu-central-1"], False)
    event = AuditEvent.objects.get(action="aws_account.update")
    assert (event.before["regions"], event.after["regions"]) == (["eu-west-1"], ["eu-west-1", "eu-central-1"])
    assert event.actor_label == "system:test"


def test_sync_refuses_an_invalid_account_and_names_it(db, settings):
    settings.AWS_ACCOUNTS = ["prod:12345:::eu-west-1"]

    with pytest.raises(ValidationError, match="AWS_ACCOUNTS entry for 12345: account_id"):
        aws_accounts_sync_from_settings(actor=SYSTEM)
    assert not AwsAccount.objects.exists()


def test_the_command_syncs(db, settings, capsys):
    settings.AWS_ACCOUNTS = ["prod:123456789012:::eu-west-1"]

    call_command("aws_accounts_sync")
    call_command("aws_accounts_sync")

    assert capsys.readouterr().out == "AWS accounts created: prod\nAWS accounts unchanged: prod\n"
    assert AuditEvent.objects.get().actor_label == "system:command:aws_accounts_sync"


def test_a_role_in_another_account_than_the_account_id_is_refused(db, portal_admin):
    account = AwsAccount(name="x", account_id="111111111111", role_arn="arn:aws:iam::222222222222:role/R")

    with pytest.raises(ValidationError, match="This role is in account 222222222222, not 111111111111"):
        aws_account_save(actor=Actor(user=portal_admin), account=account)


def test_saving_from_the_admin_audits_the_change(own_account, portal_admin):
    own_account.regions = ["eu-west-1", "us-east-1"]

    aws_account_save(actor=Actor(user=portal_admin), account=own_account)
    aws_account_save(actor=Actor(user=portal_admin), account=own_account)  # nothing changed: no event

    event = AuditEvent.objects.get()
    assert (event.action, event.actor_label, event.after["regions"]) == (
        "aws_account.update",
        "root",
        ["eu-west-1", "us-east-1"],
    )
