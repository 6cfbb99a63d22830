"""Writes through the Django admin are audited, for every model, without leaking secrets."""

import pytest
from django.contrib import admin
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from audit.models import AuditEvent
from portal.admin_audit import AuditedAdminMixin
from portal.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(client):
    user = User.objects.create_superuser(username="root", password="x", email="root@example.com")
    client.force_login(user)
    return client


def test_every_admin_either_audits_through_services_or_is_wrapped():
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, AuditedAdminMixin) or getattr(model_admin, "audited_by_services", False), model


def test_changing_a_user_in_the_admin_is_audited_without_the_password_hash(root_client):
    bob = User.objects.create_user(username="bob", password="secret-pw")
    response = root_client.post(
        f"/admin/portal/user/{bob.pk}/change/",
        {"username": "bob", "is_active": "on", "is_superuser": "on", "date_joined_0": "2026-01-01",
         "date_joined_1": "00:00:00", "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="portal.user.update")
    assert (event.before["is_superuser"], event.after["is_superuser"]) == (False, True)
    assert event.actor_label == "root"
    assert event.after["password"] == "<redacted>"
    assert bob.password not in str(event.before) + str(event.after)


def test_saving_without_a_change_records_nothing(root_client):
    task = PeriodicTask.objects.create(
        name="nightly", task="x.y", interval=IntervalSchedule.objects.create(every=10, period="minutes")
    )
    form = {"name": "nightly", "regtask": "", "task": "x.y", "enabled": "on", "interval": task.interval_id,
            "args": "[]", "kwargs": "{}", "priority": "", "queue": "", "exchange": "", "routing_key": "",
            "expire_seconds": "", "description": "", "headers": "{}"}  # fmt: skip
    assert root_client.post(f"/admin/django_celery_beat/periodictask/{task.pk}/change/", form).status_code == 302
    assert not AuditEvent.objects.filter(action="django_celery_beat.periodictask.update").exists()
    form["enabled"] = ""
    assert root_client.post(f"/admin/django_celery_beat/periodictask/{task.pk}/change/", form).status_code == 302
    event = AuditEvent.objects.get(action="django_celery_beat.periodictask.update")
    assert (event.before["enabled"], event.after["enabled"]) == (True, False)


def test_bulk_delete_in_the_admin_audits_each_object(root_client):
    schedules = [IntervalSchedule.objects.create(every=n, period="minutes") for n in (5, 7)]
    response = root_client.post(
        "/admin/django_celery_beat/intervalschedule/",
        {"action": "delete_selected", "_selected_action": [s.pk for s in schedules], "post": "yes"},
    )
    assert response.status_code == 302
    assert not IntervalSchedule.objects.filter(pk__in=[s.pk for s in schedules]).exists()
    deleted = AuditEvent.objects.filter(action="django_celery_beat.intervalschedule.delete")
    assert sorted(e.before["every"] for e in deleted) == [5, 7]
