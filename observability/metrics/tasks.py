"""Celery tasks of the CloudWatch sync. They take ids and primitives, load rows and call a service; running one
twice is harmless (the sync overwrites what it read).

Task names are part of the API (beat's rows and queued messages store them): they are given explicitly and
keep the strings they had before this module moved out of observability/tasks.py."""

import logging

from celery import shared_task

from observability.metrics import services
from portal.aws.models import AwsAccount
from portal.aws.selectors import enabled_account_regions

logger = logging.getLogger(__name__)


@shared_task(name="observability.tasks.cloudwatch_sync", ignore_result=True, acks_late=True)
def cloudwatch_sync(account_pk: int, region: str) -> None:
    """Sync the alarms and dimension lookups of one account and region (one small task each)."""
    account = AwsAccount.objects.filter(pk=account_pk, enabled=True).first()
    if account is None:
        logger.info("AWS account %s no longer exists or is disabled; no CloudWatch sync", account_pk)
        return
    run = services.cloudwatch_sync(account=account, region=region)
    logger.info("CloudWatch sync of %s in %s: %s %s", account, region, run.status, run.error)


@shared_task(name="observability.tasks.cloudwatch_sync_all", ignore_result=True)
def cloudwatch_sync_all() -> None:
    """Periodic: one sync task per enabled account and region, so more workers sync faster."""
    for account, region in enabled_account_regions():
        cloudwatch_sync.delay(account.pk, region)
