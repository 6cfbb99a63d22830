"""The "API tokens" pages under /settings/tokens/: a person's own tokens only."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.actors import Actor
from portal.tokens.forms import TokenCreateForm
from portal.tokens.reveal import pop_secret, stash_secret
from portal.tokens.selectors import token_list_for_user
from portal.tokens.services import token_create, token_revoke


def token_list(request):
    return render(request, "tokens/list.html", {"tokens": token_list_for_user(user=request.user)})


@require_http_methods(["GET", "POST"])
def token_new(request):
    form = TokenCreateForm(request.POST or None, allow_no_expiry=request.user.is_portal_admin)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = token_create(
                actor=Actor.from_request(request),
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_in_days=form.expiry_days(),
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            stash_secret(request, token, secret)
            return redirect("tokens:created", pk=token.pk)
    return render(request, "tokens/new.html", {"form": form})


@never_cache  # the one response that holds the secret must not be kept by the browser or a proxy
def token_created(request, pk):
    token = get_object_or_404(token_list_for_user(user=request.user), pk=pk)
    return render(request, "tokens/created.html", {"token": token, "secret": pop_secret(request, token)})


@require_http_methods(["GET", "POST"])
def token_revoke_view(request, pk):
    token = get_object_or_404(token_list_for_user(user=request.user), pk=pk)
    if request.method == "POST":
        token_revoke(actor=Actor.from_request(request), token=token)
        messages.success(request, f"Token “{token.name}” ({token.display_prefix}) is revoked.")
        return redirect("tokens:list")
    return render(request, "tokens/revoke.html", {"token": token})


def _add_service_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
