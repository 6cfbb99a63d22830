"""The audit app's models, one module per part (one app label, one migrations folder): models/events.py for
the events themselves, models/seals.py for the seals over them, their archives and verifications. Import them
from here."""

from audit.models.events import AppendOnlyError, AuditEvent, AuditEventQuerySet
from audit.models.seals import AuditArchive, AuditSeal, AuditSealQuerySet, AuditVerification, SealedRecordError

__all__ = [
    "AppendOnlyError",
    "AuditArchive",
    "AuditEvent",
    "AuditEventQuerySet",
    "AuditSeal",
    "AuditSealQuerySet",
    "AuditVerification",
    "SealedRecordError",
]
