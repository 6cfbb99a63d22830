from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Service catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The registry (catalog.tabs) knows no tab; the catalog's own are added here, as other apps add theirs.
        from catalog.entity_tabs import register_builtin_tabs

        register_builtin_tabs()
