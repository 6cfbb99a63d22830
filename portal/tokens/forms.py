from django import forms
from django.conf import settings

from portal.models import Scope
from portal.tokens.services import TOKEN_MAX_DAYS


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “CI deploys for orders”.")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="read: look; write: create and change; deploy: start deployments.",
    )
    expires_in_days = forms.IntegerField(
        label="Expires in (days)", min_value=1, max_value=TOKEN_MAX_DAYS, required=False
    )

    def __init__(self, *args, allow_no_expiry: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expires_in_days"].initial = settings.API_TOKEN_DEFAULT_DAYS
        self.fields["expires_in_days"].help_text = f"1 to {TOKEN_MAX_DAYS}."
        if allow_no_expiry:
            self.fields["never_expires"] = forms.BooleanField(
                required=False, label="Never expires", help_text="Portal admins only. Prefer an end date."
            )
        else:
            self.fields["expires_in_days"].required = True

    def expiry_days(self) -> int | None:
        if self.cleaned_data.get("never_expires"):
            return None
        return self.cleaned_data["expires_in_days"]

    def clean(self):
        data = super().clean()
        if (
            not data.get("never_expires")
            and data.get("expires_in_days") is None
            and "expires_in_days" not in self.errors
        ):
            self.add_error("expires_in_days", "Give a number of days, or tick “Never expires”.")
        return data
