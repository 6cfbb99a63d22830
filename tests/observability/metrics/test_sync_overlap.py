"""Two alarm syncs of one account and region at once (make run's first sync and beat's): the second neither
fails nor duplicates. Needs two open transactions at the same time: PostgreSQL."""

import datetime
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from observability.metrics import services
from observability.metrics.aws import AlarmInfo
from observability.models import Alarm

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writing transaction at a time"),
]

ALARM = AlarmInfo(
    name="orders-api-5xx",
    arn="arn:aws:cloudwatch:eu-west-1:111111111111:alarm:orders-api-5xx",
    namespace="AWS/ApplicationELB",
    metric_name="HTTPCode_Target_5XX_Count",
    dimensions={"LoadBalancer": "app/orders/1"},
    statistic="Sum",
    period=60,
    evaluation_periods=3,
    threshold=5.0,
    comparison_operator="GreaterThanThreshold",
    unit="",
    state="OK",
    state_reason="fine",
    state_updated_at=datetime.datetime(2026, 11, 29, tzinfo=datetime.UTC),
)


def test_an_overlapping_sync_neither_fails_nor_duplicates_an_alarm(account):
    first_stored, release, errors = threading.Event(), threading.Event(), []

    def first_sync():
        try:
            with transaction.atomic():
                services._store_alarms(account, "eu-west-1", [ALARM], api_ids={}, now=timezone.now())
                first_stored.set()
                release.wait(timeout=30)  # committed only once the second sync waits on its row
        except Exception as error:  # the test asserts there is none
            errors.append(error)
        finally:
            first_stored.set()
            connections.close_all()

    thread = threading.Thread(target=first_sync)
    thread.start()
    first_stored.wait(timeout=30)
    # The second sync read no alarm either (the first has not committed) and inserts the same ARN, which waits
    # for the first transaction; let that one commit once the insert is waiting.
    threading.Timer(1.0, release.set).start()
    with transaction.atomic():
        services._store_alarms(account, "eu-west-1", [ALARM], api_ids={}, now=timezone.now())
    thread.join(timeout=30)
    assert errors == []
    assert list(Alarm.objects.values_list("arn", flat=True)) == [ALARM.arn]
