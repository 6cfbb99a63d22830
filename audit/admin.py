from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the admin can look, never change."""

    audited_by_services = True  # see portal.admin_audit

    list_display = ["occurred_at", "actor_label", "action", "target_repr", "request_id", "source_ip"]
    list_filter = ["action", "actor_kind"]
    search_fields = ["actor_label", "action", "target_repr", "request_id"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
