"""AWS accounts in the Django admin, for portal admins. Writes go through portal.aws.services, so they are audited."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from portal import permissions
from portal.actors import Actor
from portal.aws import services
from portal.aws.models import AwsAccount


@admin.register(AwsAccount)
class AwsAccountAdmin(admin.ModelAdmin):
    audited_by_services = True  # see portal.admin_audit
    list_display = ["name", "account_id", "role_arn", "regions", "enabled", "status", "last_verified_at"]
    list_filter = ["enabled", "status"]
    search_fields = ["name", "account_id", "role_arn"]
    fields = [
        "name",
        "account_id",
        "role_arn",
        "external_id",
        "regions",
        "enabled",
        "status",
        "last_verified_at",
        "last_error",
        "identity_arn",
        "portal_page",
    ]
    readonly_fields = ["status", "last_verified_at", "last_error", "identity_arn", "portal_page"]

    @admin.display(description="Verify")
    def portal_page(self, obj):
        return format_html('<a href="{}">accounts page</a>', reverse("aws:account_list"))

    # portal.permissions decides, as everywhere else: accounts have no owning team, so only portal admins change them.
    def has_view_permission(self, request, obj=None):
        return request.user.is_staff and permissions.can(request.user, permissions.VIEW, obj)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return permissions.can(request.user, permissions.CREATE, None)

    def has_change_permission(self, request, obj=None):
        return permissions.can(request.user, permissions.CHANGE, obj)

    def has_delete_permission(self, request, obj=None):
        return permissions.can(request.user, permissions.DELETE, obj)

    def save_model(self, request, obj, form, change):
        services.aws_account_save(actor=Actor.from_request(request), account=obj)

    def delete_model(self, request, obj):
        services.aws_account_delete(actor=Actor.from_request(request), account=obj)

    def delete_queryset(self, request, queryset):
        actor = Actor.from_request(request)
        for account in queryset:
            services.aws_account_delete(actor=actor, account=account)
