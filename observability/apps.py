from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    """One app label for three parts: metrics/ (CloudWatch), xray/ (service maps, traces) and sagas/ (Step
    Functions). Each part extends the catalog's pages through the catalog's registries, and the team page
    through the portal's (portal.teams.panels), wired here."""

    name = "observability"
    verbose_name = "Observability"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete

        from catalog.row_badges import RowBadges, register_row_badges
        from catalog.signals import resources_discovered
        from catalog.tabs import HeaderBadge, register_header_badge, register_tab

        # Celery finds each app's tasks.py; the parts' tasks live one level down, so they are imported here.
        from observability.metrics import tasks as _metrics_tasks  # noqa: F401
        from observability.metrics.home_panels import firing_alarms_panel
        from observability.metrics.row_badges import alarm_badges
        from observability.metrics.tabs import metrics_tab
        from observability.metrics.team_panels import alarms_panel
        from observability.metrics.version import alarms_changed
        from observability.sagas import tasks as _saga_tasks  # noqa: F401
        from observability.sagas.home_panels import saga_alerts_panel as home_saga_alerts_panel
        from observability.sagas.marking import has_saga_alerts
        from observability.sagas.tabs import sagas_tab
        from observability.sagas.tasks import sweep_after_discovery
        from observability.sagas.team_panels import saga_alerts_panel
        from observability.xray.tabs import register_xray_ui
        from portal.aws.models import AwsAccount
        from portal.home_panels import register_home_panel
        from portal.teams.panels import register_team_panel

        # Entity tabs (catalog.tabs is the registry every app extends), and the overview's X-Ray notice.
        register_tab(metrics_tab())
        register_tab(sagas_tab())
        register_xray_ui()
        # The entity page's header line: alarm state (or a System's dashboard), open saga alerts.
        register_header_badge(HeaderBadge(key="alarms", template="observability/metrics/_entity_header.html"))
        register_header_badge(
            HeaderBadge(key="saga-alerts", template="observability/sagas/_entity_header.html", applies=has_saga_alerts)
        )

        # The team page's alarm card and open saga alerts, above its members (portal.teams.panels).
        register_team_panel(alarms_panel())
        register_team_panel(saga_alerts_panel())
        # The home page's firing alarms and open saga alerts of the user's teams (portal.home_panels).
        register_home_panel(firing_alarms_panel())
        register_home_panel(home_saga_alerts_panel())

        # Alarm state on the catalog list's rows (catalog.row_badges, one batch per page).
        register_row_badges(RowBadges(key="alarms", provider=alarm_badges))
        # Deleting an AWS account deletes its alarms (on_delete=CASCADE): what is cached from them is stale.
        post_delete.connect(alarms_changed, sender=AwsAccount, dispatch_uid="observability.alarms-version")

        # A newly discovered state machine is linked and synced now, not at the next saga sweep.
        resources_discovered.connect(sweep_after_discovery, dispatch_uid="observability.sagas")
