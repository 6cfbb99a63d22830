"""portal.bulk.insert_many: the same rows on every database (COPY on PostgreSQL, bulk_create elsewhere)."""

import datetime
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from portal.bulk import insert_many
from portal.models import Team

pytestmark = pytest.mark.django_db


def test_rows_are_written_with_their_values_and_ids_in_row_order():
    before = timezone.now()
    ids = insert_many(
        Team,
        [
            {"slug": f"team-{n}", "name": f"Team {n}", "description": "tab\there, back\\slash, line\nbreak"}
            for n in range(3)
        ],
        returning_ids=True,
    )
    teams = Team.objects.in_bulk(ids)
    assert [teams[pk].slug for pk in ids] == ["team-0", "team-1", "team-2"]
    # Characters COPY's text format escapes come back unchanged.
    assert teams[ids[0]].description == "tab\there, back\\slash, line\nbreak"
    # auto_now_add filled in, as Django would on save().
    assert all(team.created_at >= before for team in teams.values())


def test_json_values_keep_their_structure_and_text():
    happened = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    document = {"quote": 'say "hi"', "nested": {"list": [1, 2.5, None, True]}, "unicode": "ünïcödé \\ ✓"}
    insert_many(
        AuditEvent,
        [
            {
                "action": "thing.do",
                "actor_kind": "system",
                "actor_label": "system:test",
                "before": None,
                "after": document,
                "occurred_at": happened,
                "source_ip": "10.0.0.1",
            },
            # A JSON field's encoder is used (DjangoJSONEncoder writes a UUID as text).
            {
                "action": "thing.undo",
                "actor_kind": "system",
                "actor_label": "x",
                "before": {"id": uuid.UUID(int=1)},
                "after": [],
                "occurred_at": happened,
                "source_ip": None,
            },
        ],
    )
    first, second = AuditEvent.objects.order_by("id")
    assert (first.before, first.after, first.occurred_at, first.source_ip) == (None, document, happened, "10.0.0.1")
    assert (second.before, second.after) == ({"id": "00000000-0000-0000-0000-000000000001"}, [])


def test_fields_left_out_get_their_defaults():
    insert_many(AuditEvent, [{"action": "thing.do", "actor_kind": "system", "actor_label": "x"}])
    event = AuditEvent.objects.get()
    assert event.before is None and event.after is None  # SQL NULL, not the JSON text "null"
    assert AuditEvent.objects.filter(before__isnull=True, after__isnull=True).exists()
    assert event.occurred_at is not None  # its default, timezone.now
    assert event.target_type == ""  # CharField's empty default


def test_rows_must_give_the_same_fields():
    with pytest.raises(ValueError, match="must all give the same fields"):
        insert_many(Team, [{"slug": "a", "name": "A"}, {"slug": "b"}])
    assert not Team.objects.exists()


def test_a_field_the_model_does_not_have_is_refused_before_anything_is_written():
    with pytest.raises(ValueError, match=r"portal\.Team has no field"):
        insert_many(Team, [{"slug": "x", "name": "X", "colour": "red"}])
    assert not Team.objects.exists()


def test_a_constraint_violation_writes_none_of_the_rows():
    Team.objects.create(slug="taken", name="Taken")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_many(Team, [{"slug": "free", "name": "Free"}, {"slug": "taken", "name": "Again"}])
    assert list(Team.objects.values_list("slug", flat=True)) == ["taken"]


def test_nothing_to_insert_makes_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert insert_many(Team, [], returning_ids=True) == []


def test_the_insert_is_counted_like_any_query(django_assert_num_queries):
    rows = [{"slug": f"t-{n}", "name": "T"} for n in range(1200)]
    # PostgreSQL: one SELECT nextval(...) for the ids, then one COPY. SQLite: bulk_create in statements of at most
    # 999 variables, so 249 rows of Team's 4 columns (slug, name, description, created_at): 5 statements.
    expected = 2 if connection.vendor == "postgresql" else 5
    with django_assert_num_queries(expected):
        insert_many(Team, rows, returning_ids=True)
    assert Team.objects.count() == 1200


def test_a_json_field_left_out_gets_its_default_written_as_json():
    from catalog.models import ScorecardRollup

    now = timezone.now()
    rows = [{"scope": "team", "key": key, "day": now.date(), "computed_at": now} for key in ("a", "b")]
    insert_many(ScorecardRollup, rows)
    first, second = ScorecardRollup.objects.order_by("key")
    assert first.failures == second.failures == {}  # default=dict, written as JSON
