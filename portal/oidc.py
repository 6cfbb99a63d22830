"""Single sign-on through OpenID Connect (mozilla-django-oidc), on when OIDC_RP_CLIENT_ID is set.

How claims become a Meridian user (docs/authentication.md has the whole story):

- The `email` claim identifies the person: an existing user with that email (case-insensitive) signs
  in as themselves. A provider that says `email_verified: false` is refused.
- Users are never matched by username: a provider account called "admin" must not become the local
  portal admin. `preferred_username` only names a new user (falling back to the email, then to a
  numbered variant when the name is taken).
- `given_name` / `family_name` fill in the user's name at every sign-in.
- A new user is audited (`user.create`, by the system actor `oidc:sign_in`), as every user creation is.
- When OIDC_TEAMS_CLAIM names a claim (e.g. "groups"), each value that is a team's slug (a leading "/"
  is ignored, for Keycloak-style group paths) makes the user a viewer of that team if they are not
  a member yet. Nothing is ever removed or demoted: roles are granted in Meridian, by team admins.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import path
from mozilla_django_oidc import views as oidc_views
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from audit.services import audit_record
from portal.actors import Actor
from portal.models import Membership, Role, Team, User
from portal.signin import set_signed_in_marker

_USERNAME_MAX = User._meta.get_field("username").max_length


def _valid_username(candidate: str) -> bool:
    try:
        UnicodeUsernameValidator()(candidate)
    except ValidationError:
        return False
    return 0 < len(candidate) <= _USERNAME_MAX


class MeridianOIDCBackend(OIDCAuthenticationBackend):
    def verify_claims(self, claims) -> bool:
        if not claims.get("email"):
            return False
        # Absent means the provider does not say; only an explicit "not verified" is refused.
        return claims.get("email_verified", True) is not False

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or "").strip()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email)

    def get_username(self, claims) -> str:
        email = claims.get("email", "").strip()
        candidates = [claims.get("preferred_username", "").strip(), email, email.partition("@")[0]]
        base = next((c for c in candidates if _valid_username(c)), "sso-user")
        taken = set(
            self.UserModel.objects.filter(username__istartswith=base[: _USERNAME_MAX - 4]).values_list(
                "username", flat=True
            )
        )
        taken_ci = {name.lower() for name in taken}
        if base.lower() not in taken_ci:
            return base
        for suffix in range(2, 1000):
            candidate = f"{base[: _USERNAME_MAX - 4]}-{suffix}"
            if candidate.lower() not in taken_ci:
                return candidate
        raise ValidationError(f"No free username for {base!r}.")

    @transaction.atomic
    def create_user(self, claims) -> User:
        user = self.UserModel(
            username=self.get_username(claims),
            email=claims["email"].strip(),
            first_name=(claims.get("given_name") or "")[:150],
            last_name=(claims.get("family_name") or "")[:150],
        )
        # Signs in through the provider only; a local password could outlive the provider account.
        user.set_unusable_password()
        user.full_clean()
        user.save()
        # Audited like every other user creation (the admin, demo_users), in the same transaction.
        audit_record(
            actor=Actor.for_system("oidc:sign_in"),
            action="user.create",
            target=user,
            before=None,
            after={"username": user.username, "email": user.email, "portal_admin": False},
        )
        self.sync_teams(user, claims)
        return user

    @transaction.atomic
    def update_user(self, user: User, claims) -> User:
        names = {
            "first_name": (claims.get("given_name") or user.first_name)[:150],
            "last_name": (claims.get("family_name") or user.last_name)[:150],
        }
        changed = [field for field, value in names.items() if getattr(user, field) != value]
        for field in changed:
            setattr(user, field, names[field])
        if changed:
            user.save(update_fields=changed)
        self.sync_teams(user, claims)
        return user

    def team_slugs_from_claims(self, claims) -> set[str]:
        claim = getattr(settings, "OIDC_TEAMS_CLAIM", "")
        if not claim:
            return set()
        values = claims.get(claim) or []
        if isinstance(values, str):
            values = [values]
        return {str(value).strip().lstrip("/").lower() for value in values if str(value).strip()}

    def sync_teams(self, user: User, claims) -> list[Membership]:
        """Add the user as a viewer of each team named in the teams claim that they are not in yet."""
        from portal.teams.services import membership_add

        slugs = self.team_slugs_from_claims(claims)
        if not slugs:
            return []
        missing = Team.objects.filter(slug__in=slugs).exclude(memberships__user=user).order_by("slug")
        actor = Actor.for_system("oidc:teams_claim")
        return [membership_add(actor=actor, team=team, user=user, role=Role.VIEWER) for team in missing]


class MeridianOIDCCallbackView(oidc_views.OIDCAuthenticationCallbackView):
    def login_success(self):
        response = super().login_success()
        set_signed_in_marker(response)
        return response


# Mounted at /oidc/ by portal/urls.py when SSO is on. The provider's redirect arrives without a
# session, so these views must be exempt from LoginRequiredMiddleware (mozilla-django-oidc's are not).
urlpatterns = [
    path(
        "callback/",
        login_not_required(MeridianOIDCCallbackView.as_view()),
        name="oidc_authentication_callback",
    ),
    path(
        "authenticate/",
        login_not_required(oidc_views.OIDCAuthenticationRequestView.as_view()),
        name="oidc_authentication_init",
    ),
    path("logout/", oidc_views.OIDCLogoutView.as_view(), name="oidc_logout"),
]
