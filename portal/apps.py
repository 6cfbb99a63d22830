from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The admin has discovered every app's admin module by now (django.contrib.admin comes first).
        import portal.lookups  # registers the any_of lookup
        import portal.signin  # noqa: F401 - connects the sign-in/sign-out audit receivers
        from portal.admin_audit import audit_admin_writes

        audit_admin_writes()
