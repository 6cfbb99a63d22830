"""Inserting many rows of one model at once: COPY on PostgreSQL, bulk_create on other databases.

A catalog import writes thousands of entities, relations, tags and audit events in one transaction.
Through bulk_create each row becomes a model instance, each value goes through the field's preparation,
and PostgreSQL's UNNEST insert sends every column as an array literal that psycopg escapes quote by quote:
for 1,000 entities that was most of the import's Python time. COPY takes the rows as they are (psycopg
formats them in C) and PostgreSQL reads them while Python is still sending, so both cores work.

Rows are dicts of field attnames (`owner_team_id`, not `owner_team`) to values, every row with the same
fields; a concrete field they leave out gets what Django would give it (auto_now and auto_now_add: now;
otherwise its default). Like bulk_create, nothing here calls save() or sends signals.
"""

import contextlib
import json
from collections.abc import Sequence

from django.db import connection, models
from django.utils import timezone


def insert_many(model: type[models.Model], rows: Sequence[dict], *, returning_ids: bool = False) -> list[int]:
    """Insert `rows`; with `returning_ids`, the new primary keys in the order of the rows (else [])."""
    if not rows:
        return []
    fields = _fields(model, rows)
    if connection.vendor == "postgresql":
        return _copy(model, fields, rows, returning_ids)
    objects = [model(**_complete(fields, row)) for row in rows]
    model.objects.bulk_create(objects)  # in batches as large as the database allows
    return [obj.pk for obj in objects] if returning_ids else []


def _fields(model, rows: Sequence[dict]) -> list[models.Field]:
    concrete = [field for field in model._meta.concrete_fields if not field.primary_key]
    given = rows[0].keys()
    unknown = set(given) - {field.attname for field in concrete}
    if unknown:
        raise ValueError(f"{model._meta.label} has no field(s) {', '.join(sorted(unknown))}")
    if any(row.keys() != given for row in rows):
        raise ValueError(f"rows of {model._meta.label} must all give the same fields")
    return concrete


def _complete(fields: list[models.Field], row: dict) -> dict:
    missing = [field for field in fields if field.attname not in row]
    if not missing:
        return row
    now = timezone.now()
    return {
        **row,
        **{
            field.attname: now
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            # A callable default (a uuid4, a fresh list) must give each row its own value.
            else field.get_default()
            for field in missing
        },
    }


def _json_dumper(field: models.JSONField):
    encoder = field.encoder

    def dump(value):
        return None if value is None else json.dumps(value, cls=encoder)

    return dump


def _copy(model, fields: list[models.Field], rows: Sequence[dict], returning_ids: bool) -> list[int]:
    table = model._meta.db_table
    pk = model._meta.pk
    quote = connection.ops.quote_name
    missing = [field for field in fields if field.attname not in rows[0]]
    ordered = [field for field in fields if field.attname in rows[0]] + missing
    names = [field.attname for field in ordered]
    dumpers = [_json_dumper(field) if isinstance(field, models.JSONField) else None for field in ordered]
    columns = [quote(field.column) for field in ordered]
    with connection.cursor() as cursor:
        ids: list[int] = []
        if returning_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk.column, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            columns.insert(0, quote(pk.column))
        # Only the model's own table and column names go into the text; every value goes through COPY.
        sql = f"COPY {quote(table)} ({', '.join(columns)}) FROM STDIN"
        # Logged as one query, like any other, when Django records them (DEBUG, assertNumQueries).
        logged = cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else contextlib.nullcontext()
        with connection.wrap_database_errors, logged, cursor.cursor.copy(sql) as copy:
            for index, row in enumerate(rows):
                if missing:  # each row its own defaults (a callable's), as bulk_create gives them
                    row = _complete(fields, row)
                values = [
                    row[name] if dump is None else dump(row[name]) for name, dump in zip(names, dumpers, strict=True)
                ]
                if returning_ids:
                    values.insert(0, ids[index])
                copy.write_row(values)
    return ids
