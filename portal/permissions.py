"""The one place that answers: may this user (or token) do this action on this object?

Views, the REST API and tasks all ask `can()`. An object takes part by having
an `owning_team_id` attribute (the Team that owns it, or None).

- Everyone signed in may view.
- Maintainers of the owning team may create, change, delete and deploy.
- Admins of the owning team may also manage the team (members, roles).
- Portal admins (superusers) may do everything.
- A request made with an API token is further limited to the token's scopes.
"""

from portal.models import Membership, Role, Scope

VIEW = "view"
CREATE = "create"
CHANGE = "change"
DELETE = "delete"
DEPLOY = "deploy"
MANAGE = "manage"

# The team role each action needs, and the token scope that covers it.
_ROLE_FOR_ACTION = {
    VIEW: None,
    CREATE: Role.MAINTAINER,
    CHANGE: Role.MAINTAINER,
    DELETE: Role.MAINTAINER,
    DEPLOY: Role.MAINTAINER,
    MANAGE: Role.ADMIN,
}
_SCOPE_FOR_ACTION = {
    VIEW: Scope.READ,
    CREATE: Scope.WRITE,
    CHANGE: Scope.WRITE,
    DELETE: Scope.WRITE,
    DEPLOY: Scope.DEPLOY,
    MANAGE: Scope.WRITE,
}


def required_scope(action: str) -> str:
    return _SCOPE_FOR_ACTION[action]


def team_role(user, team_id) -> str | None:
    """The user's role in a team, or None when they are not a member."""
    if team_id is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()


def team_ids_with_role(user, minimum: str) -> list[int]:
    """Ids of the teams in which the user holds at least `minimum`."""
    allowed = [r for r in Role.values if Role.rank(r) >= Role.rank(minimum)]
    return list(Membership.objects.filter(user=user, role__in=allowed).values_list("team_id", flat=True))


def is_portal_admin(user) -> bool:
    """Also for the anonymous user, which has no is_portal_admin (the admin's sign-in page asks about it)."""
    return user is not None and user.is_authenticated and user.is_portal_admin


def can(user, action: str, obj=None, *, token=None) -> bool:
    if action not in _ROLE_FOR_ACTION:
        raise ValueError(f"unknown action {action!r}")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if token is not None and not token.has_scope(required_scope(action)):
        return False
    if user.is_portal_admin:
        return True
    needed = _ROLE_FOR_ACTION[action]
    if needed is None:
        return True
    role = team_role(user, getattr(obj, "owning_team_id", None))
    return role is not None and Role.rank(role) >= Role.rank(needed)
