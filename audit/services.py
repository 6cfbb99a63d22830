"""Recording audit events: the one way anything in the portal writes to the audit log."""

import json
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from audit.hashing import content_hash
from audit.models import AuditEvent
from portal.actors import Actor
from portal.bulk import insert_many
from portal.models import Team
from portal.request_context import current_request_id, current_source, current_source_ip


def snapshot(instance: models.Model, *, fields: list[str] | None = None, exclude: list[str] | None = None) -> dict:
    """A JSON-safe copy of a model's field values, for an event's before/after."""
    data = model_to_dict(instance, fields=fields, exclude=exclude)
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, default=str))


def _actor_fields(actor: Actor) -> dict:
    return {
        "actor_kind": actor.kind,
        "actor_user_id": actor.user.pk if actor.user is not None and actor.user.is_authenticated else None,
        "actor_token_id": actor.token.pk if actor.token is not None else None,
        "actor_label": actor.label[:200],
        "request_id": current_request_id(),
        "source_ip": current_source_ip(),
        "source": current_source(),
    }


def _team_id(target: models.Model) -> int | None:
    """The team whose audit page shows events about `target`, from the row alone (no query): a team itself, an
    entity's owner (owner_team_id), a membership's team (team_id)."""
    if isinstance(target, Team):
        return target.pk
    for attname in ("owner_team_id", "team_id"):
        value = target.__dict__.get(attname)
        if isinstance(value, int):
            return value
    return None


def _target_fields(target: models.Model | None) -> dict:
    if target is None:
        return {"target_type": "", "target_id": "", "target_repr": "", "team_id": None}
    return {
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        "target_repr": str(target)[:300],
        "team_id": _team_id(target),
    }


def _hashed(row: dict) -> dict:
    # The content hash of the row as it will be stored, computed here from its own values: no query, no
    # other row, so concurrent writers never wait on each other (the sealer chains the hashes later).
    row["content_hash"] = content_hash(row)
    return row


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must be called inside the transaction of the change it records")


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
    _require_transaction()
    row = _hashed(
        {
            "occurred_at": timezone.now(),
            "action": action,
            "before": before,
            "after": after,
            **_actor_fields(actor),
            **_target_fields(target),
        }
    )
    return AuditEvent.objects.create(**row)


AuditItem = tuple[str, models.Model | None, dict[str, Any] | None, dict[str, Any] | None]


def audit_record_many(*, actor: Actor, events: Iterable[AuditItem]) -> int:
    """Record many events of one actor at once: (action, target, before, after) each.

    One bulk insert (portal.bulk) instead of one INSERT per event, for changes of many objects at a time
    (a catalog import).
    The same rule as audit_record: inside the transaction of the change.
    """
    _require_transaction()
    common = {**_actor_fields(actor), "occurred_at": timezone.now()}
    rows = [
        _hashed({"action": action, "before": before, "after": after, **common, **_target_fields(target)})
        for action, target, before, after in events
    ]
    insert_many(AuditEvent, rows)
    return len(rows)
