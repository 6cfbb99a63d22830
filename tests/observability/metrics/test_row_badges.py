"""The catalog rows' alarm badges are cached: the same rows again cost no query, and a change to the alarms (a
sync that finds one), to the catalog, or the deletion of the account shows on the next view."""

import pytest

from catalog.row_badges import row_badges
from observability.metrics import services
from observability.metrics.version import alarms_version
from portal.aws.services import aws_account_delete
from tests.observability.conftest import put_alarm, set_alarm_state
from tests.observability.estate import ACTOR, REGION, components, discover, lambda_arn

pytestmark = pytest.mark.django_db


def states(badges: dict, *entities) -> list[str | None]:
    """The data-state of each entity's badge, None for a row without one."""
    found = []
    for entity in entities:
        html = badges.get(entity.pk, "")
        found.append(html.split('data-state="')[1].split('"')[0] if html else None)
    return found


def test_the_badges_are_reused_until_the_alarms_or_the_catalog_change(
    aws, account, django_assert_num_queries, django_capture_on_commit_callbacks
):
    orders, payments = components("orders-api", "payments-api")
    discover((lambda_arn("orders-api"), "orders-api"))
    put_alarm("orders errors", "AWS/Lambda", "Errors", {"FunctionName": "orders-api"}, threshold=1)
    set_alarm_state("orders errors", "OK")
    # The payments function's alarm is synced, but no catalog entity holds the function yet.
    put_alarm("payments errors", "AWS/Lambda", "Errors", {"FunctionName": "payments-api"}, threshold=1)
    set_alarm_state("payments errors", "ALARM")
    # on_commit work runs, as outside a test: the sync's and the catalog's new versions are set.
    with django_capture_on_commit_callbacks(execute=True):
        services.cloudwatch_sync(account=account, region=REGION)
    assert states(row_badges([orders, payments]), orders, payments) == ["OK", None]

    # The same rows again: no query at all.
    with django_assert_num_queries(0):
        assert states(row_badges([orders, payments]), orders, payments) == ["OK", None]

    # A sync that finds everything as it was keeps the version (it runs every few minutes)...
    version = alarms_version()
    with django_capture_on_commit_callbacks(execute=True):
        services.cloudwatch_sync(account=account, region=REGION)
    assert alarms_version() == version
    # ... and one that finds a new state shows it on the next view.
    set_alarm_state("orders errors", "ALARM")
    with django_capture_on_commit_callbacks(execute=True):
        services.cloudwatch_sync(account=account, region=REGION)
    assert states(row_badges([orders, payments]), orders, payments) == ["ALARM", None]

    # A catalog change: discovery finds the payments function, whose alarm now shows on its row.
    with django_capture_on_commit_callbacks(execute=True):
        discover((lambda_arn("payments-api"), "payments-api"))
    assert states(row_badges([orders, payments]), orders, payments) == ["ALARM", "ALARM"]

    # The account goes, and its alarms with it.
    with django_capture_on_commit_callbacks(execute=True):
        aws_account_delete(actor=ACTOR, account=account)
    assert row_badges([orders, payments]) == {}


def test_a_deleted_alarm_leaves_its_row(aws, account, django_capture_on_commit_callbacks):
    import boto3

    (orders,) = components("orders-api")
    discover((lambda_arn("orders-api"), "orders-api"))
    put_alarm("orders errors", "AWS/Lambda", "Errors", {"FunctionName": "orders-api"}, threshold=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.cloudwatch_sync(account=account, region=REGION)
    assert orders.pk in row_badges([orders])

    boto3.client("cloudwatch", region_name=REGION).delete_alarms(AlarmNames=["orders errors"])
    with django_capture_on_commit_callbacks(execute=True):
        services.cloudwatch_sync(account=account, region=REGION)
    assert row_badges([orders]) == {}
