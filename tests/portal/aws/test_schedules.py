import json

import pytest
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from portal.schedules import SCHEDULES, schedules_sync


def test_every_schedule_has_an_expiry_shorter_than_its_interval():
    assert SCHEDULES
    for schedule in SCHEDULES:
        assert 0 < schedule.expires.total_seconds() < schedule.every.total_seconds(), schedule.name


def test_migrate_registered_them_and_a_second_sync_changes_nothing(db):
    # The test database was built by `migrate`, whose post_migrate handler ran schedules_sync().
    verify = PeriodicTask.objects.get(name="aws: verify accounts")
    assert (verify.task, verify.interval.every, verify.interval.period, verify.expire_seconds) == (
        "portal.aws.tasks.aws_accounts_verify_all",
        900,
        IntervalSchedule.SECONDS,
        600,
    )
    assert json.loads(verify.kwargs) == {}

    result = schedules_sync()

    assert result.created == []
    assert result.kept == [s.name for s in SCHEDULES]
    assert PeriodicTask.objects.filter(name__in=result.kept).count() == len(SCHEDULES)


def test_an_admins_change_survives_the_next_sync(db):
    hourly = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    PeriodicTask.objects.filter(name="aws: verify accounts").update(interval=hourly, enabled=False, expire_seconds=60)

    result = schedules_sync()

    edited = PeriodicTask.objects.get(name="aws: verify accounts")
    assert (edited.interval_id, edited.enabled, edited.expire_seconds) == (hourly.pk, False, 60)
    assert "aws: verify accounts" in result.kept


def test_a_deleted_schedule_is_created_again(db):
    PeriodicTask.objects.filter(name="aws: verify accounts").delete()

    result = schedules_sync()

    assert result.created == ["aws: verify accounts"]
    assert PeriodicTask.objects.get(name="aws: verify accounts").interval.every == 900


@pytest.mark.django_db(transaction=True)
def test_post_migrate_registers_them_even_after_a_flush():
    # A transactional test empties the tables with `flush`, which sends post_migrate without migration state.
    PeriodicTask.objects.all().delete()
    call_command("flush", "--no-input")

    assert PeriodicTask.objects.filter(name="aws: verify accounts").exists()


def test_schedules_run_enqueues_every_schedule_or_the_named_ones(db, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from portal.schedules import SCHEDULES

    call_command("schedules_run")
    assert capsys.readouterr().out.count("enqueued ") == len(SCHEDULES)
    call_command("schedules_run", "aws: verify accounts")
    assert capsys.readouterr().out.strip() == "enqueued aws: verify accounts (portal.aws.tasks.aws_accounts_verify_all)"
    with pytest.raises(CommandError, match="No schedule named 'nope'"):
        call_command("schedules_run", "nope")
