"""DRF permission: signed in, and a token (if used) holds the scope the request needs."""

from rest_framework import permissions

from portal.models import ApiToken


class IsAuthenticatedWithScope(permissions.BasePermission):
    """Safe methods need the `read` scope, others `write`; a view may ask for more
    with `required_scope` (e.g. `deploy`). Object rules are in portal.permissions."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        needed = getattr(view, "required_scope", None) or (
            "read" if request.method in permissions.SAFE_METHODS else "write"
        )
        if not token.has_scope(needed):
            self.message = f"This API token lacks the '{needed}' scope (it has: {', '.join(token.scopes) or 'none'})."
            self.code = "scope_missing"
            return False
        return True
