from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Service catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from catalog import team_panels
        from portal.teams.panels import register_team_panel

        # The team page's scorecard and owned entities (portal.teams.panels: the portal knows no feature app).
        for panel in team_panels.team_panels():
            register_team_panel(panel)
