"""The audit app's models, one module per part (one app label, one migrations folder): models/events.py for
the events themselves, models/seals.py for the seals over them. Import them from here."""

from audit.models.events import AppendOnlyError, AuditEvent, AuditEventQuerySet

__all__ = ["AppendOnlyError", "AuditEvent", "AuditEventQuerySet"]
