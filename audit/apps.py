from django.apps import AppConfig


class AuditConfig(AppConfig):
    """One app label for the audit log's parts: the core (models, audit_record in services.py), seals/ (the
    sealer, verification, retention) and log/ (pages, REST API, exports), which extends the catalog's entity
    pages and the team pages through their registries, wired here."""

    name = "audit"
    verbose_name = "Audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Celery finds each app's tasks.py; the parts' tasks live one level down, so they are imported here.
        from audit.seals import tasks as _seal_tasks  # noqa: F401
