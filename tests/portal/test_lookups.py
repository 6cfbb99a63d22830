"""portal.lookups: `__any_of` finds what `__in` finds, on every database."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams():
    return [Team.objects.create(slug=slug, name=slug.title()) for slug in ("alpha", "beta", "gamma", "it's")]


@pytest.mark.parametrize(
    "values",
    [["alpha", "gamma"], ["it's", "nobody"], ["alpha", None], [], [None]],
    ids=["two", "a quote and a miss", "with None", "empty", "only None"],
)
def test_any_of_finds_what_in_finds(teams, values):
    expected = sorted(Team.objects.filter(slug__in=values).values_list("slug", flat=True))
    assert sorted(Team.objects.filter(slug__any_of=values).values_list("slug", flat=True)) == expected


def test_on_postgresql_the_values_are_one_array_parameter(teams):
    with CaptureQueriesContext(connection) as queries:
        list(Team.objects.filter(slug__any_of=["alpha", "beta", "gamma"]))
    sql = queries.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and " IN (" not in sql
    else:
        assert " IN (" in sql


def test_a_subquery_is_an_in_subquery(teams):
    names = Team.objects.filter(name__startswith="A").values("slug")
    assert list(Team.objects.filter(slug__any_of=names).values_list("slug", flat=True)) == ["alpha"]
