"""Writes to AWS accounts. Every change is audited in its own transaction."""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record, snapshot
from portal.actors import Actor
from portal.aws.aws import caller_identity
from portal.aws.errors import AwsError
from portal.aws.models import AwsAccount

logger = logging.getLogger(__name__)

# The fields settings.AWS_ACCOUNTS defines; `enabled` and the verification state stay the portal's.
SPEC_FIELDS = ("name", "role_arn", "external_id", "regions")
# Verification results are not configuration: they neither bump updated_at nor go to the audit log
# (they would fill it every few minutes); the row itself shows the latest.
_AUDIT_EXCLUDE = ["status", "last_verified_at", "last_error", "last_error_code", "identity_arn"]


def parse_account_spec(spec: str) -> dict:
    """ "name:account_id:role_arn:external_id:region1|region2" -> field values.

    The role ARN has colons of its own, so name and account id are split from the
    left and external id and regions from the right; the external id must not
    contain a colon.
    """
    try:
        name, account_id, rest = spec.strip().split(":", 2)
        role_arn, external_id, regions = rest.rsplit(":", 2)
    except ValueError:
        raise ImproperlyConfigured(
            f"AWS_ACCOUNTS entry {spec!r} is not 'name:account_id:role_arn:external_id:region1|region2' "
            "(leave a part empty, but keep its colons)"
        ) from None
    return {
        "name": name.strip(),
        "account_id": account_id.strip(),
        "role_arn": role_arn.strip(),
        "external_id": external_id.strip(),
        "regions": [r.strip() for r in regions.split("|") if r.strip()],
    }


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _validated(account: AwsAccount, *, source: str) -> None:
    try:
        account.full_clean()
    except ValidationError as exc:
        raise ValidationError(f"{source}: {'; '.join(f'{k}: {v}' for k, v in exc.message_dict.items())}") from exc


@transaction.atomic
def aws_accounts_sync_from_settings(*, actor: Actor) -> SyncResult:
    """Create or update the accounts listed in settings.AWS_ACCOUNTS (matched by account id).

    Idempotent: a second run changes nothing and records nothing. Accounts
    not listed are left alone (admins may add their own), and so is `enabled`.
    """
    specs = [parse_account_spec(s) for s in settings.AWS_ACCOUNTS if s.strip()]
    existing = {
        a.account_id: a
        for a in AwsAccount.objects.select_for_update().filter(account_id__in=[s["account_id"] for s in specs])
    }
    result = SyncResult()
    for spec in specs:
        account = existing.get(spec["account_id"])
        if account is None:
            account = AwsAccount(**spec)
            _validated(account, source=f"AWS_ACCOUNTS entry for {spec['account_id']}")
            account.save()
            audit_record(
                actor=actor,
                action="aws_account.create",
                target=account,
                after=snapshot(account, exclude=_AUDIT_EXCLUDE),
            )
            result.created.append(account.name)
            _verify_after_commit(account)
            continue
        changed = [f for f in SPEC_FIELDS if getattr(account, f) != spec[f]]
        if not changed:
            result.unchanged.append(account.name)
            continue
        before = snapshot(account, exclude=_AUDIT_EXCLUDE)
        for f in changed:
            setattr(account, f, spec[f])
        _validated(account, source=f"AWS_ACCOUNTS entry for {spec['account_id']}")
        account.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="aws_account.update",
            target=account,
            before=before,
            after=snapshot(account, exclude=_AUDIT_EXCLUDE),
        )
        result.updated.append(account.name)
        _verify_after_commit(account)
    return result


def _verify_after_commit(account: AwsAccount) -> None:
    """A new or changed account is checked at once, not at the next periodic run."""
    from portal.aws.tasks import aws_account_verify

    account_pk = account.pk
    transaction.on_commit(lambda: aws_account_verify.delay(account_pk))


@transaction.atomic
def aws_account_save(*, actor: Actor, account: AwsAccount) -> AwsAccount:
    """Create or change an account from a form (the admin)."""
    _validated(account, source=str(account))
    if account.pk is None:
        account.save()
        audit_record(
            actor=actor, action="aws_account.create", target=account, after=snapshot(account, exclude=_AUDIT_EXCLUDE)
        )
        return account
    stored = AwsAccount.objects.select_for_update().get(pk=account.pk)
    editable = ["name", "account_id", "role_arn", "external_id", "regions", "enabled"]
    changed = [f for f in editable if getattr(stored, f) != getattr(account, f)]
    if changed:
        before = snapshot(stored, exclude=_AUDIT_EXCLUDE)
        account.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="aws_account.update",
            target=account,
            before=before,
            after=snapshot(account, exclude=_AUDIT_EXCLUDE),
        )
    return account


@transaction.atomic
def aws_account_delete(*, actor: Actor, account: AwsAccount) -> None:
    before = snapshot(account, exclude=_AUDIT_EXCLUDE)
    audit_record(actor=actor, action="aws_account.delete", target=account, before=before)
    account.delete()


@transaction.atomic
def aws_account_verify_request(*, actor: Actor, account: AwsAccount) -> None:
    """Ask for a verification now (the "Verify now" button); the task runs after commit."""
    audit_record(actor=actor, action="aws_account.verify_request", target=account)
    _verify_after_commit(account)


def aws_account_verify(*, account: AwsAccount) -> AwsAccount:
    """Check that the portal gets into the account, and record what it found on the row.

    Not one transaction: the AWS call must not hold a database transaction
    open. Safe to run twice; the later run's result stands.
    """
    try:
        identity = caller_identity(account, account.home_region)
    except AwsError as exc:
        logger.warning("AWS account %s failed verification: %s", account, exc, extra={"aws_error": exc.code})
        return _record_verification(account, status=AwsAccount.Status.ERROR, error=str(exc), code=exc.code)
    if identity.account_id != account.account_id:
        how = f"role {account.role_arn}" if account.role_arn else "the portal's own credentials"
        return _record_verification(
            account,
            status=AwsAccount.Status.ERROR,
            error=(
                f"Through {how} the portal reached account {identity.account_id} as {identity.arn}, "
                f"not {account.account_id}: fix the account id or the role ARN."
            ),
            code="wrong_account",
        )
    return _record_verification(account, status=AwsAccount.Status.OK, identity_arn=identity.arn)


def _record_verification(
    account: AwsAccount, *, status: str, error: str = "", code: str = "", identity_arn: str = ""
) -> AwsAccount:
    account.status = status
    account.last_verified_at = timezone.now()
    account.last_error = error
    account.last_error_code = code
    fields = ["status", "last_verified_at", "last_error", "last_error_code"]
    if identity_arn:
        account.identity_arn = identity_arn
        fields.append("identity_arn")
    account.save(update_fields=fields)
    return account
