"""Celery tasks of the catalog. They take ids and primitives, load rows and call a service;
running one twice is harmless (discovery applies the same documents, scoring overwrites)."""

import logging

from celery import shared_task

from catalog import discovery, services
from catalog.scorecards import services as scorecards
from portal.aws.models import AwsAccount
from portal.aws.selectors import enabled_account_regions

logger = logging.getLogger(__name__)


@shared_task(name="catalog.tasks.catalog_discover", ignore_result=True, acks_late=True)
def catalog_discover(account_pk: int, region: str, force: bool = False) -> None:
    """Discover one account and region (one small task each, so more workers sync faster).

    `force=True` applies a run the orphan guard refused (AWS really lost most resources there).
    """
    account = AwsAccount.objects.filter(pk=account_pk, enabled=True).first()
    if account is None:
        logger.info("AWS account %s no longer exists or is disabled; nothing to discover", account_pk)
        return
    run = discovery.discovery_run(account=account, region=region, force=force)
    logger.info("AWS discovery of %s in %s: %s %s", account, region, run.status, run.error)


@shared_task(name="catalog.tasks.catalog_discover_all", ignore_result=True)
def catalog_discover_all() -> None:
    """Periodic: one discovery task per enabled account and region."""
    for account, region in enabled_account_regions():
        catalog_discover.delay(account.pk, region)


@shared_task(name="catalog.tasks.scorecards_compute", ignore_result=True)
def scorecards_compute() -> None:
    """Periodic: every entity's score, and today's rollups per team and system."""
    summary = scorecards.scorecards_compute_all()
    logger.info("Scorecards: %s entities scored %s, %s rollups", summary.entities, summary.levels, summary.rollups)


@shared_task(name="catalog.tasks.scorecards_compute_changed", ignore_result=True)
def scorecards_compute_changed() -> None:
    """Periodic, every few minutes: the scores of new and changed entities and of their neighbours."""
    scored = scorecards.scorecards_compute_changed()
    if scored:
        logger.info("Scorecards: %s changed or related entities scored", scored)


@shared_task(name="catalog.tasks.scorecards_rescore", ignore_result=True, acks_late=True)
def scorecards_rescore(refs: list[str]) -> None:
    """What an import or a discovery changed, scored at once with the rollups of its teams and systems."""
    scored = scorecards.scorecards_rescore(refs=refs)
    logger.info("Scorecards: %s entities rescored after an import or discovery", scored)


def rescore_after_apply(sender, *, location, refs: list[str], **kwargs) -> None:
    """catalog.signals.entities_applied (sent on commit): queue the rescoring of what the apply changed."""
    scorecards_rescore.delay(refs)


@shared_task(name="catalog.tasks.relations_resolve", ignore_result=True)
def relations_resolve() -> None:
    """Periodic sweep: relations left unresolved although their target exists (a resolution after commit failed)."""
    resolved = services.relations_resolve_all()
    if resolved:
        logger.warning("Resolved %s relations that imports had left unresolved", resolved)
