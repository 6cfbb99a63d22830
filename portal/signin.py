"""Signing in and out: the login page's extras and the CSRF failure page.

Session expiry notice: when a session ends on its own, the browser drops the session cookie and the
next page redirects to the login page like for someone who never signed in. To tell the two apart,
a successful sign-in also sets a small marker cookie (no secret, just "1") that outlives the session,
and signing out deletes it. A login page requested with the marker but without a session says
"your session has expired".
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.dispatch import receiver
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from audit.services import audit_record
from portal.actors import Actor

SIGNED_IN_MARKER = "meridian_signed_in"
_MARKER_MAX_AGE = 60 * 60 * 24 * 30


def set_signed_in_marker(response) -> None:
    response.set_cookie(
        SIGNED_IN_MARKER,
        "1",
        max_age=_MARKER_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def oidc_enabled() -> bool:
    """True when single sign-on is configured and its URLs are mounted."""
    if not getattr(settings, "OIDC_RP_CLIENT_ID", ""):
        return False
    try:
        reverse("oidc_authentication_init")
    except NoReverseMatch:
        return False
    return True


class SignInView(auth_views.LoginView):
    # Django's AuthenticationForm answers a wrong username and a wrong password with the same message
    # ("Please enter a correct username and password..."), so it does not tell a guesser which was wrong.

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = oidc_enabled()
        context["session_expired"] = (
            self.request.method == "GET"
            and not self.request.user.is_authenticated
            and self.request.COOKIES.get(SIGNED_IN_MARKER) == "1"
        )
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        set_signed_in_marker(response)
        return response


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response.delete_cookie(SIGNED_IN_MARKER, samesite="Lax")
        return response


@login_not_required
def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: say what happened and what to do, instead of Django's bare 403."""
    login_path = reverse("login")
    return render(
        request,
        "errors/csrf_failure.html",
        {"on_login": request.path == login_path, "reason": reason if settings.DEBUG else ""},
        status=403,
    )


# --- Sign-in and sign-out are audited (failed attempts are kept by django-axes) ----------------------


@receiver(user_logged_in)
def _audit_sign_in(sender, request, user, **kwargs):
    with transaction.atomic():
        audit_record(actor=Actor(user=user), action="user.sign_in", target=user)


@receiver(user_logged_out)
def _audit_sign_out(sender, request, user, **kwargs):
    if user is not None:  # signing out without a session signs nobody out
        with transaction.atomic():
            audit_record(actor=Actor(user=user), action="user.sign_out", target=user)
