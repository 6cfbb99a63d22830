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
        from audit.log.tabs import audit_tab
        from audit.log.team_panels import audit_panel
        from audit.seals import tasks as _seal_tasks  # noqa: F401
        from catalog.tabs import register_tab
        from portal.teams.panels import register_team_panel

        # The Audit tab of entity pages (catalog.tabs) and the team page's audit panel (portal.teams.panels).
        register_tab(audit_tab())
        register_team_panel(audit_panel())
