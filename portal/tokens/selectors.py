"""Reading API tokens."""

from django.db.models import QuerySet

from portal.models import ApiToken

# created_at alone can tie (tokens made in one transaction); the id makes the order total, as cursor pages need.
TOKEN_ORDERING = ("-created_at", "-id")


def token_list_for_user(*, user) -> QuerySet[ApiToken]:
    """A user's tokens, newest first, whatever their status."""
    return ApiToken.objects.filter(user=user).order_by(*TOKEN_ORDERING)
