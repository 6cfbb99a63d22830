"""/api/v1/teams/: read teams with their members; add, re-role and remove members through the services.

Everyone signed in may read teams. Member writes need the `write` scope on a token and the right to
manage the team (its admins, or portal admins); `portal.teams.services` checks that again.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.response import Response

from portal.api.viewsets import PortalGenericViewSet, PortalReadOnlyViewSet
from portal.models import Membership, Team, User
from portal.permissions import MANAGE, can
from portal.teams import selectors, services
from portal.teams.api.serializers import (
    MemberAddSerializer,
    MemberBriefSerializer,
    MemberRoleSerializer,
    TeamSerializer,
)


class LastAdminConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "last_admin"


class TeamViewSet(PortalReadOnlyViewSet):
    """Every team, with its member count, your role and its members (brief). Paged by slug."""

    serializer_class = TeamSerializer
    queryset = Team.objects.order_by("slug")
    lookup_field = "slug"

    def restrict_queryset(self, queryset):
        # Every signed-in user may see every team; the selector adds the counts, the caller's role and members.
        return selectors.team_list_with_members(user=self.request.user)


_SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, description="The team's slug.")
_USERNAME = OpenApiParameter("username", str, OpenApiParameter.PATH, description="The member's username.")


@extend_schema_view(
    create=extend_schema(
        parameters=[_SLUG], request=MemberAddSerializer, responses={201: MemberBriefSerializer}, summary="Add a member"
    ),
    partial_update=extend_schema(
        parameters=[_SLUG, _USERNAME],
        request=MemberRoleSerializer,
        responses=MemberBriefSerializer,
        summary="Change a member's role",
    ),
    destroy=extend_schema(parameters=[_SLUG, _USERNAME], responses={204: None}, summary="Remove a member"),
)
class TeamMemberViewSet(mixins.CreateModelMixin, PortalGenericViewSet):
    """A team's members, changed by the team's admins and portal admins."""

    serializer_class = MemberRoleSerializer
    queryset = Membership.objects.select_related("team", "user").order_by("user__username")
    lookup_field = "user__username"
    lookup_url_kwarg = "username"

    def restrict_queryset(self, queryset):
        # Only this team's members: a member of another team is a 404 under this team's URL.
        return queryset.filter(team__slug=self.kwargs["slug"])

    def has_object_action_permission(self, action, obj) -> bool:
        team = obj if isinstance(obj, Team) else obj.team
        return can(self.request.user, MANAGE, team, token=self.actor.token)

    def _service_call(self, call, **kwargs):
        try:
            return call(actor=self.actor, **kwargs)
        except services.LastAdminError as error:
            raise LastAdminConflict(" ".join(error.messages)) from error

    def create(self, request, slug):
        team = get_object_or_404(Team, slug=slug)
        # Checked before the body is read, so that someone who may not manage the team learns nothing more.
        self.check_object_permissions(request, team)
        incoming = MemberAddSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        user = User.objects.filter(username=incoming.validated_data["username"], is_active=True).first()
        if user is None:
            raise exceptions.ValidationError({"username": ["There is no active user with this username."]})
        membership = self._service_call(
            services.membership_add, team=team, user=user, role=incoming.validated_data["role"]
        )
        return Response(MemberBriefSerializer(membership).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, slug, username):
        membership = self.get_object()
        incoming = MemberRoleSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        membership = self._service_call(
            services.membership_change_role, membership=membership, role=incoming.validated_data["role"]
        )
        return Response(MemberBriefSerializer(membership).data)

    def destroy(self, request, slug, username):
        self._service_call(services.membership_remove, membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
