"""Reads of teams and memberships, shaped so that a page or an API response costs a fixed number of queries."""

from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from portal.models import Membership, Role, Team, User


def _member_count():
    # A subquery rather than Count("memberships"), so it stays right when the outer query also
    # joins memberships (e.g. to filter on the viewer's own).
    counts = (
        Membership.objects.filter(team=OuterRef("pk")).order_by().values("team").annotate(n=Count("pk")).values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def _role_of(user: User):
    if not user.is_authenticated:
        return Value(None, output_field=Membership._meta.get_field("role"))
    return Subquery(Membership.objects.filter(team=OuterRef("pk"), user=user).values("role")[:1])


def members_ordered() -> QuerySet[Membership]:
    """Memberships with their users, admins first, then by username."""
    rank = Case(
        When(role=Role.ADMIN, then=Value(0)),
        When(role=Role.MAINTAINER, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return Membership.objects.select_related("user").annotate(role_rank=rank).order_by("role_rank", "user__username")


def team_list(*, user: User) -> QuerySet[Team]:
    """Every team, with `member_count` and `my_role` (the viewer's role, or None)."""
    return Team.objects.annotate(member_count=_member_count(), my_role=_role_of(user)).order_by("slug")


def team_list_with_members(*, user: User) -> QuerySet[Team]:
    """team_list plus `members_brief`: each team's memberships with users, in one extra query."""
    return team_list(user=user).prefetch_related(
        Prefetch("memberships", queryset=members_ordered(), to_attr="members_brief")
    )


def team_detail(*, slug: str, user: User) -> Team:
    """One team (404 when missing) with `members_brief`, `member_count` and `my_role`."""
    return get_object_or_404(team_list_with_members(user=user), slug=slug)


def teams_of_user(*, user: User) -> QuerySet[Team]:
    """The teams the user belongs to, with `member_count` and `my_role`."""
    return team_list(user=user).filter(memberships__user=user)


def membership_get(*, team: Team, username: str) -> Membership:
    """A member of this team by username (404 otherwise: a membership of another team is not reachable here)."""
    return get_object_or_404(Membership.objects.select_related("team", "user"), team=team, user__username=username)
