from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Service catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from catalog import home_panels, team_panels
        from catalog.entity_tabs import register_builtin_tabs
        from catalog.services import team_entities_link_on_create
        from catalog.signals import entities_applied
        from catalog.tasks import rescore_after_apply
        from portal.home_panels import register_home_panel
        from portal.teams.panels import register_team_panel
        from portal.teams.signals import team_created

        # The registry (catalog.tabs) knows no tab; the catalog's own are added here, as other apps add theirs.
        register_builtin_tabs()

        # The team page's scorecard and owned entities (portal.teams.panels: the portal knows no feature app).
        for panel in team_panels.team_panels():
            register_team_panel(panel)
        # The home page's list of the user's teams' services (portal.home_panels).
        for panel in home_panels.home_panels():
            register_home_panel(panel)

        # A team made anywhere (the admin, demo_users, a Group's import) gets the entities its Group already owns.
        team_created.connect(team_entities_link_on_create, dispatch_uid="catalog.team-entities-link")

        # What an import or a discovery changed is rescored at once, with its teams' rollups, not within the hour.
        entities_applied.connect(rescore_after_apply, dispatch_uid="catalog.scorecards-rescore")
