"""Celery tasks of saga monitoring: one small task per state machine, and a sweep that fans out.

They take ids, load rows and call a service. Running one twice is harmless: executions are unique by
ARN, a finished one's history is never read again, alerts are unique per execution and kind, and a
machine is held by one run at a time (SagaStateMachine.lease_until).

Task names are part of the API (beat's rows and queued messages store them): they are given explicitly and
keep the strings they had before this module moved out of observability/saga_tasks.py.
"""

import logging

from celery import shared_task

from observability.models import SagaStateMachine
from observability.sagas import services as saga_services

logger = logging.getLogger(__name__)


@shared_task(name="observability.saga_tasks.saga_sync", ignore_result=True, acks_late=True)
def saga_sync(state_machine_pk: int) -> None:
    """Sync one state machine: its definition when stale, then new executions and unfinished histories."""
    machine = (
        SagaStateMachine.objects.select_related("account")
        .filter(pk=state_machine_pk, tracked=True, account__enabled=True)
        .first()
    )
    if machine is None:
        logger.info("State machine %s is gone, untracked or in a disabled account; no saga sync", state_machine_pk)
        return
    saga_services.saga_sync(machine=machine)


@shared_task(name="observability.saga_tasks.sagas_sync_all", ignore_result=True)
def sagas_sync_all() -> None:
    """Periodic: mirror the catalog's state machines, then one saga_sync task per machine that is due."""
    tracked = saga_services.saga_machines_refresh()
    due = saga_services.saga_machines_due()
    for pk in due:
        saga_sync.delay(pk)
    logger.info("Saga sweep: %s state machines tracked, %s syncs dispatched", tracked, len(due))


def sweep_after_discovery(sender, run, **kwargs) -> None:
    """catalog.signals.resources_discovered: state machines may have appeared, gone or moved; sweep now."""
    sagas_sync_all.delay()
