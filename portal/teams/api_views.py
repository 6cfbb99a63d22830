"""/api/v1/teams/: read teams with their members; add, re-role and remove members through the services.

Everyone signed in may read teams. Member writes need the `write` scope on a token and the right to
manage the team (its admins, or portal admins); `portal.teams.services` checks that again.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from portal.actors import Actor
from portal.models import Membership, Team, User
from portal.permissions import MANAGE, can
from portal.teams import selectors, services
from portal.teams.serializers import MemberAddSerializer, MemberBriefSerializer, MemberRoleSerializer, TeamSerializer


class TeamCursorPagination(CursorPagination):
    ordering = "slug"  # unique, so the cursor is stable
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class LastAdminConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "last_admin"


def _service_call(call, **kwargs):
    """Run a service, answering its validation refusals as API errors."""
    try:
        return call(**kwargs)
    except services.LastAdminError as error:
        raise LastAdminConflict(" ".join(error.messages)) from error
    except DjangoValidationError as error:
        raise exceptions.ValidationError(error.messages, code=getattr(error, "code", None) or "invalid") from error


class TeamList(generics.ListAPIView):
    serializer_class = TeamSerializer
    pagination_class = TeamCursorPagination

    def get_queryset(self):
        return selectors.team_list_with_members(user=self.request.user)


class TeamDetail(generics.RetrieveAPIView):
    serializer_class = TeamSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.team_list_with_members(user=self.request.user)


def _team_to_manage(view: generics.GenericAPIView) -> Team:
    # Checked before the body is read, so that someone who may not manage the team learns nothing more.
    team = view.get_object()
    actor = Actor.from_request(view.request)
    if not can(actor.user, MANAGE, team, token=actor.token):
        raise exceptions.PermissionDenied(f"Only admins of {team.name} may change its members.")
    return team


class TeamMembers(generics.GenericAPIView):
    serializer_class = MemberAddSerializer
    queryset = Team.objects.all()
    lookup_field = "slug"

    @extend_schema(request=MemberAddSerializer, responses={201: MemberBriefSerializer}, summary="Add a member")
    def post(self, request, slug):
        team = _team_to_manage(self)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = User.objects.filter(username=serializer.validated_data["username"], is_active=True).first()
        if user is None:
            raise exceptions.ValidationError({"username": ["There is no active user with this username."]})
        membership = _service_call(
            services.membership_add,
            actor=Actor.from_request(request),
            team=team,
            user=user,
            role=serializer.validated_data["role"],
        )
        return Response(MemberBriefSerializer(membership).data, status=status.HTTP_201_CREATED)


_USERNAME = OpenApiParameter("username", str, OpenApiParameter.PATH, description="The member's username.")


class TeamMember(generics.GenericAPIView):
    serializer_class = MemberRoleSerializer
    queryset = Team.objects.all()
    lookup_field = "slug"

    def _membership(self, slug: str, username: str) -> Membership:
        team = _team_to_manage(self)
        # Looked up within this team only: a member of another team is a 404 here.
        return get_object_or_404(Membership.objects.select_related("team", "user"), team=team, user__username=username)

    @extend_schema(parameters=[_USERNAME], responses=MemberBriefSerializer, summary="Change a member's role")
    def patch(self, request, slug, username):
        membership = self._membership(slug, username)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = _service_call(
            services.membership_change_role,
            actor=Actor.from_request(request),
            membership=membership,
            role=serializer.validated_data["role"],
        )
        return Response(MemberBriefSerializer(membership).data)

    @extend_schema(parameters=[_USERNAME], responses={204: None}, summary="Remove a member")
    def delete(self, request, slug, username):
        membership = self._membership(slug, username)
        _service_call(services.membership_remove, actor=Actor.from_request(request), membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)
