"""Teams in the Django admin. Writes go through portal.teams.services, so they are audited like any other;
memberships are read-only here and managed on the team page, where the last-admin rule applies."""

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from portal.actors import Actor
from portal.models import Membership, Team
from portal.teams import services


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "team")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    audited_by_services = True  # see portal.admin_audit
    list_display = ["slug", "name", "member_count", "portal_page"]
    search_fields = ["slug", "name"]
    fields = ["slug", "name", "description", "created_at"]
    readonly_fields = ["created_at"]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_member_count=Count("memberships"))

    @admin.display(description="Members", ordering="_member_count")
    def member_count(self, obj):
        return obj._member_count

    @admin.display(description="Manage members")
    def portal_page(self, obj):
        return format_html('<a href="{}">team page</a>', reverse("teams:detail", args=[obj.slug]))

    def get_readonly_fields(self, request, obj=None):
        # The slug names the team in URLs and as the catalog's owner; it is fixed once created.
        return [*self.readonly_fields, "slug"] if obj is not None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        actor = Actor.from_request(request)
        if change:
            services.team_update(actor=actor, team=obj, name=obj.name, description=obj.description)
        else:
            created = services.team_create(actor=actor, slug=obj.slug, name=obj.name, description=obj.description)
            obj.pk, obj.created_at = created.pk, created.created_at


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    audited_by_services = True  # see portal.admin_audit
    list_display = ["team", "user", "role", "created_at"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "team__slug"]
    list_select_related = ["team", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
