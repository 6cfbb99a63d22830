"""The catalog in the Django admin: for looking, not for editing.

Entities change through imports, the REST API and the entity page, all of which go through
catalog.services (validation, indexed copies, relations, audit). Here an admin may only delete an
entity, and that too goes through the service, so it is audited like any other delete.
"""

from django.contrib import admin

from catalog import services
from catalog.models import Entity, Location, Relation
from portal.actors import Actor


class _ReadOnly(admin.ModelAdmin):
    audited_by_services = True  # see portal.admin_audit: the only write here goes through catalog.services

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Location)
class LocationAdmin(_ReadOnly):
    list_display = ["type", "target", "created_at", "last_imported_at"]
    list_filter = ["type"]
    search_fields = ["target"]


@admin.register(Entity)
class EntityAdmin(_ReadOnly):
    list_display = ["ref_key", "kind", "spec_type", "lifecycle", "owner_key", "owner_team", "orphaned", "updated_at"]
    list_filter = ["kind_key", "orphaned", "lifecycle"]
    search_fields = ["ref_key", "title"]
    list_select_related = ["owner_team"]
    show_full_result_count = False  # counting 100,000 rows for every list page is not worth it
    fields = ["uid", "ref_key", "kind", "namespace", "name", "title", "location", "owner_team", "orphaned",
              "etag", "created_at", "updated_at", "document"]  # fmt: skip
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)  # Django's own permission check

    def delete_model(self, request, obj):
        services.entity_delete(actor=Actor.from_request(request), entity=obj)

    def delete_queryset(self, request, queryset):
        actor = Actor.from_request(request)
        for entity in queryset:
            services.entity_delete(actor=actor, entity=entity)


@admin.register(Relation)
class RelationAdmin(_ReadOnly):
    list_display = ["source", "type", "target_key", "target"]
    list_filter = ["type"]
    search_fields = ["target_key", "source__ref_key"]
    list_select_related = ["source", "target"]
    raw_id_fields = ["source", "target"]
