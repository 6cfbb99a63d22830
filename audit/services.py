"""Recording audit events: the one way anything in the portal writes to the audit log."""

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.forms.models import model_to_dict

from audit.models import AuditEvent
from portal.actors import Actor
from portal.request_context import current_request_id, current_source_ip


def snapshot(instance: models.Model, *, fields: list[str] | None = None, exclude: list[str] | None = None) -> dict:
    """A JSON-safe copy of a model's field values, for an event's before/after."""
    data = model_to_dict(instance, fields=fields, exclude=exclude)
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, default=str))


def audit_record(
    *,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` did `action` to `target`.

    Must run inside the transaction of the change it records, so the change
    and its audit event commit together or not at all.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the transaction of the change it records")
    target_type = target_id = target_repr = ""
    if target is not None:
        target_type = target._meta.label_lower
        target_id = str(target.pk)
        target_repr = str(target)[:300]
    return AuditEvent.objects.create(
        actor_kind=actor.kind,
        actor_user=actor.user if actor.user is not None and actor.user.is_authenticated else None,
        actor_token=actor.token,
        actor_label=actor.label[:200],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr,
        before=before,
        after=after,
        request_id=current_request_id(),
        source_ip=current_source_ip(),
    )
