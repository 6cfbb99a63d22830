from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    verbose_name = "Observability"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The Metrics tab on entity pages (catalog.tabs is the registry every app extends).
        from catalog.tabs import register_tab
        from observability.entity_tabs import metrics_tab

        register_tab(metrics_tab())
