"""Enqueue periodic tasks now instead of waiting for their next run: `manage.py schedules_run [NAME...]`.

With no name, every schedule of portal/schedules.py, in the order listed there (`make run` does this at
start, so the demo's accounts are verified, its AWS resources discovered and its scorecards computed at
once). An operator uses it after fixing a credential, for example.
"""

from django.core.management.base import BaseCommand, CommandError

from portal.celery import app
from portal.schedules import SCHEDULES


class Command(BaseCommand):
    help = "Enqueue the named periodic tasks (all when none is named) to run now."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="schedule names, as in the admin's Periodic tasks")

    def handle(self, *args, names, **options):
        known = {schedule.name: schedule for schedule in SCHEDULES}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise CommandError(f"No schedule named {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
        for schedule in [known[name] for name in names] if names else SCHEDULES:
            app.send_task(schedule.task, kwargs=schedule.kwargs, expires=schedule.expires.total_seconds())
            self.stdout.write(f"enqueued {schedule.name} ({schedule.task})")
