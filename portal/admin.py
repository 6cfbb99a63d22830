"""The portal app's admin: users and API tokens.

Tokens are made and revoked through portal.tokens.services, so the admin's
changes are audited like anyone else's. The secret of a token made here is
shown once, on the page the add form leads to; the hash is never shown.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse

import portal.teams.admin  # noqa: F401 - portal.teams is not an app of its own, so autodiscovery would miss it
from portal import permissions
from portal.actors import Actor
from portal.models import ApiToken, Scope, User
from portal.tokens.reveal import pop_secret, stash_secret
from portal.tokens.services import TOKEN_MAX_DAYS, token_create, token_revoke

admin.site.register(User, UserAdmin)


class ApiTokenAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)
    expires_in_days = forms.IntegerField(
        min_value=1, max_value=TOKEN_MAX_DAYS, required=False, help_text="Leave empty for a token that never expires."
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expires_in_days"].initial = settings.API_TOKEN_DEFAULT_DAYS
        self.fields["user"].queryset = User.objects.filter(is_active=True)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Portal admins only. Tokens are never edited or deleted: they are revoked, and the row stays for the audit log."""

    audited_by_services = True  # see portal.admin_audit

    add_form = ApiTokenAddForm
    change_form_template = "tokens/admin/change_form.html"
    list_display = [
        "name",
        "user",
        "display_prefix",
        "scope_list",
        "status",
        "created_at",
        "expires_at",
        "last_used_at",
    ]
    list_filter = ["revoked_at", "expires_at", "created_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    ordering = ["-created_at", "-id"]
    actions = ["revoke_selected"]
    readonly_fields = [
        "user",
        "name",
        "display_prefix",
        "scope_list",
        "status",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]

    @admin.display(description="Scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    # --- who may do what: portal admins, and tokens are never changed in place ---

    def has_module_permission(self, request):
        return permissions.is_portal_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.is_portal_admin(request.user)

    def has_add_permission(self, request):
        return permissions.is_portal_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return permissions.is_portal_admin(request.user)

    # --- adding: the service makes the token; its secret goes to the next page only ---

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "name", "scopes", "expires_in_days"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def save_form(self, request, form, change):
        data = form.cleaned_data
        token, secret = token_create(
            actor=Actor.from_request(request),
            user=data["user"],
            name=data["name"],
            scopes=data["scopes"],
            expires_in_days=data["expires_in_days"],
        )
        stash_secret(request, token, secret)
        return token

    def save_model(self, request, obj, form, change):
        pass  # token_create (in save_form) has saved it

    def save_related(self, request, form, formsets, change):
        pass  # nothing related, and the form itself never saved

    def response_add(self, request, obj, post_url_continue=None):
        messages.success(request, f"Token “{obj.name}” created for {obj.user}. Copy its value now.")
        return HttpResponseRedirect(reverse("admin:portal_apitoken_change", args=[obj.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        token = self.get_object(request, unquote(object_id))
        extra_context = {**(extra_context or {}), "new_token_secret": pop_secret(request, token) if token else None}
        return super().change_view(request, object_id, form_url, extra_context)

    # --- revoking ---

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        actor = Actor.from_request(request)
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            token_revoke(actor=actor, token=token)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)
