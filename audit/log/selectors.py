"""Reads of the audit log: who may see which events, pages of them, and the streams exports read.

Who sees what: portal admins every event; anyone else the events about their teams' objects (team_id) and
the ones they did themselves (through a token too). The same rule for pages, the REST API and exports.
"""

from collections.abc import Iterator

from django.db.models import Q, QuerySet

from audit.models import AuditEvent
from portal.models import Membership
from portal.permissions import is_portal_admin

LIST_ORDERING = ("-id",)  # ids follow insertion, so newest first; a unique order, for keyset pages


def visible_events(user) -> QuerySet:
    events = AuditEvent.objects.all()
    if is_portal_admin(user):
        return events
    if not user.is_authenticated:
        return events.none()
    teams = Membership.objects.filter(user=user).values("team_id")
    return events.filter(Q(team_id__in=teams) | Q(actor_user_id=user.pk))


def events_page(queryset: QuerySet, *, before: int | None, size: int) -> tuple[list[AuditEvent], int | None]:
    """One page, newest first, of `queryset`: the events with ids below `before`, and the `before` of the next
    page (None on the last). One query, whatever the size of the log: no OFFSET, no COUNT."""
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    rows = list(queryset.order_by(*LIST_ORDERING)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].pk if more and rows else None)


def events_stream(queryset: QuerySet, *, chunk_size: int = 2000) -> Iterator[dict]:
    """Every event of `queryset` as a dict, oldest first, read `chunk_size` at a time by id (keyset): memory
    holds one chunk, on any database and through any connection pooler (no server-side cursor)."""
    fields = [
        "id",
        "occurred_at",
        "actor_kind",
        "actor_label",
        "actor_user_id",
        "actor_token_id",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "team_id",
        "source",
        "request_id",
        "source_ip",
        "before",
        "after",
        "content_hash",
        "seal_id",
    ]
    last = 0
    while True:
        chunk = list(queryset.filter(id__gt=last).order_by("id").values(*fields)[:chunk_size])
        yield from chunk
        if len(chunk) < chunk_size:
            return
        last = chunk[-1]["id"]
