"""Exports of the audit log, CSV and JSON Lines, streamed: rows are encoded as they are read from the
database a chunk at a time (audit.log.selectors.events_stream), so an export of a year of events holds one
chunk in memory, and the first bytes leave before the last rows are read."""

import csv
import json
from collections.abc import Iterator

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from audit.hashing import timestamp
from audit.log.selectors import events_stream

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}
CSV_COLUMNS = [
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


class _Line:
    """csv.writer writes into this and gets the line back, so each row is a string to stream."""

    def write(self, value: str) -> str:
        return value


def _plain(event: dict) -> dict:
    return {**event, "occurred_at": timestamp(event["occurred_at"])}


def csv_rows(events: Iterator[dict]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    for event in events:
        event = _plain(event)
        for name in ("before", "after"):
            event[name] = "" if event[name] is None else json.dumps(event[name], cls=DjangoJSONEncoder)
        yield writer.writerow(["" if event[name] is None else event[name] for name in CSV_COLUMNS])


def jsonl_rows(events: Iterator[dict]) -> Iterator[str]:
    for event in events:
        yield json.dumps(_plain(event), cls=DjangoJSONEncoder, ensure_ascii=False) + "\n"


def export_response(queryset: QuerySet, file_format: str, *, chunk_size: int = 2000) -> StreamingHttpResponse:
    events = events_stream(queryset, chunk_size=chunk_size)
    rows = csv_rows(events) if file_format == "csv" else jsonl_rows(events)
    response = StreamingHttpResponse(rows, content_type=FORMATS[file_format])
    name = f"audit-events-{timezone.now():%Y%m%dT%H%M%SZ}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
