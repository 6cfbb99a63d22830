from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def _register_schedules(sender, *, apps=global_apps, using="default", **kwargs):
    # `apps` is the migrated state (flush sends none): skip when django-celery-beat's tables are not there.
    try:
        apps.get_model("django_celery_beat", "PeriodicTask")
    except LookupError:
        return
    from portal.schedules import schedules_sync

    schedules_sync(using=using)


class AwsConfig(AppConfig):
    name = "portal.aws"
    label = "aws"
    verbose_name = "AWS accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Celery signal hooks that log each task's AWS call totals.
        import portal.aws.accounting  # noqa: F401

        # The project's periodic schedules (portal/schedules.py, which says why) are registered after
        # every migrate. post_migrate is sent once per app; sender=self makes it run once.
        post_migrate.connect(_register_schedules, sender=self, dispatch_uid="portal.schedules.sync")
