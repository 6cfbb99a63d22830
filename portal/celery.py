"""The Celery app, configured from Django's settings (the CELERY_* names)."""

import os

from celery import Celery

import portal.request_context  # noqa: F401  (connects the signals that carry X-Request-ID into tasks)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("meridian")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
