from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    verbose_name = "Observability"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The Metrics tab on entity pages (catalog.tabs is the registry every app extends).
        from catalog.tabs import register_tab
        from observability.entity_tabs import metrics_tab
        from observability.saga_views import sagas_tab
        from observability.xray_tabs import register_xray_ui

        register_tab(metrics_tab())
        register_tab(sagas_tab())
        # The X-Ray tab and the overview's X-Ray notice.
        register_xray_ui()

        # Alarm state on the catalog list's rows (catalog.row_badges, one batch per page).
        from catalog.row_badges import register_row_badges
        from observability.row_badges import alarm_badges

        register_row_badges("alarms", alarm_badges)
        # Deleting an AWS account deletes its alarms (on_delete=CASCADE): what is cached from them is stale.
        from django.db.models.signals import post_delete

        from observability.version import alarms_changed
        from portal.aws.models import AwsAccount

        post_delete.connect(alarms_changed, sender=AwsAccount, dispatch_uid="observability.alarms-version")

        # A newly discovered state machine is linked and synced now, not at the next saga sweep.
        from catalog.signals import resources_discovered
        from observability.saga_tasks import sweep_after_discovery

        resources_discovered.connect(sweep_after_discovery, dispatch_uid="observability.sagas")
