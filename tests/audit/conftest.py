"""Fixtures of the audit tests: events recorded through the services, and raw SQL behind the portal's back."""

from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from audit.services import audit_record
from portal.actors import Actor


def record(n: int, *, action: str = "thing.do", actor: Actor | None = None, **fields) -> list:
    """`n` events through audit_record, each in its own transaction as a change would write it."""
    events = []
    for index in range(n):
        with transaction.atomic():
            events.append(
                audit_record(actor=actor or Actor.for_system("tests"), action=action, after={"n": index}, **fields)
            )
    return events


@contextmanager
def behind_the_portals_back():
    """A cursor for raw SQL with the append-only triggers off (PostgreSQL's; SQLite has only the models'
    guards), as someone with the database's password would write."""
    postgres = connection.vendor == "postgresql"
    tables = ("audit_auditevent", "audit_auditseal")
    with connection.cursor() as cursor:
        if postgres:
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            yield cursor
        finally:
            if postgres:
                for table in tables:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


@pytest.fixture
def tamper():
    return behind_the_portals_back
