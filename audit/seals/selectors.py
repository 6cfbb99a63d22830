"""Reads of the seals' state, for the audit page."""

from dataclasses import dataclass
from datetime import datetime

from audit.models import AuditEvent, AuditSeal, AuditVerification


@dataclass(frozen=True)
class ChainState:
    last_seal: AuditSeal | None
    unsealed: int
    oldest_unsealed_at: datetime | None
    last_verification: AuditVerification | None


def chain_state() -> ChainState:
    """For the audit page: the last seal, and how many events wait for one and the last verification (four queries;
    the count and the oldest come from the partial index of unsealed events)."""
    unsealed = AuditEvent.objects.filter(seal__isnull=True)
    oldest = unsealed.order_by("id").values_list("occurred_at", flat=True).first()
    return ChainState(
        last_seal=AuditSeal.objects.order_by("-number").first(),
        unsealed=unsealed.count(),
        oldest_unsealed_at=oldest,
        last_verification=AuditVerification.objects.order_by("-finished_at", "-id").first(),
    )
