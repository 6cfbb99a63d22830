"""Celery tasks of the AWS layer. They take ids, load rows and call a service; running twice is harmless."""

import logging

from celery import shared_task

from portal.aws import services
from portal.aws.models import AwsAccount

logger = logging.getLogger(__name__)


@shared_task(name="portal.aws.tasks.aws_account_verify", ignore_result=True)
def aws_account_verify(account_pk: int) -> None:
    account = AwsAccount.objects.filter(pk=account_pk).first()
    if account is None:
        logger.info("AWS account %s no longer exists; nothing to verify", account_pk)
        return
    services.aws_account_verify(account=account)


@shared_task(name="portal.aws.tasks.aws_accounts_verify_all", ignore_result=True)
def aws_accounts_verify_all() -> None:
    """Periodic: one verification task per enabled account, so workers verify them in parallel."""
    for account_pk in AwsAccount.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True):
        aws_account_verify.delay(account_pk)
