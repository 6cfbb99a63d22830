"""Every write made through the Django admin is audited, whatever app the model belongs to.

Admins of our own models that write through services (tokens, teams, AWS
accounts) are audited there and say so with `audited_by_services = True`.
Every other registered ModelAdmin (users, Celery beat's schedules, axes'
lockout records, anything a later app registers) is wrapped at start-up by
`audit_admin_writes()`, so nobody has to remember to audit a new admin.

Django runs the add/change and delete views in one transaction, and logs the
change (log_addition/log_change) after the related objects are saved, so the
event is written with the change and sees its many-to-many fields too.
"""

from django.contrib import admin
from django.db import transaction

from audit.services import audit_record, snapshot
from portal.actors import Actor

# Never copied into an event: a password hash or a secret has no place in the audit log.
_SECRET_WORDS = ("password", "secret", "hash", "token")


def _safe_snapshot(obj) -> dict:
    data = snapshot(obj)
    return {k: ("<redacted>" if any(w in k for w in _SECRET_WORDS) else v) for k, v in data.items()}


def _action(obj, verb: str) -> str:
    return f"{obj._meta.label_lower}.{verb}"


class AuditedAdminMixin:
    def save_model(self, request, obj, form, change):
        if change:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            obj._audit_before = _safe_snapshot(stored) if stored is not None else None
        super().save_model(request, obj, form, change)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        audit_record(actor=Actor.from_request(request), action=_action(obj, "create"), target=obj,
                     after=_safe_snapshot(obj))  # fmt: skip
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        before, after = getattr(obj, "_audit_before", None), _safe_snapshot(obj)
        if before != after:  # "Save" with nothing changed is not an event
            audit_record(actor=Actor.from_request(request), action=_action(obj, "update"), target=obj,
                         before=before, after=after)  # fmt: skip
        return entry

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(actor=Actor.from_request(request), action=_action(obj, "delete"), target=obj,
                         before=_safe_snapshot(obj))  # fmt: skip
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The admin's bulk "delete selected" action runs outside a transaction; this one is.
        with transaction.atomic():
            actor = Actor.from_request(request)
            for obj in queryset:
                audit_record(actor=actor, action=_action(obj, "delete"), target=obj, before=_safe_snapshot(obj))
            super().delete_queryset(request, queryset)


def audit_admin_writes(site: admin.AdminSite = admin.site) -> None:
    """Re-register every ModelAdmin that does not audit through services with the audit mixin."""
    for model, model_admin in list(site._registry.items()):
        admin_class = type(model_admin)
        if getattr(admin_class, "audited_by_services", False) or issubclass(admin_class, AuditedAdminMixin):
            continue
        site.unregister(model)
        site.register(model, type(f"Audited{admin_class.__name__}", (AuditedAdminMixin, admin_class), {}))
