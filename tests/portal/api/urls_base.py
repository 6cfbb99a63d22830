"""A URL conf for the base-class tests: the portal's own URLs plus small viewsets over Team."""

from django.urls import include, path
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from portal.api.viewsets import PortalModelViewSet, PortalReadOnlyViewSet
from portal.models import Membership, Team
from portal.urls import urlpatterns as portal_urlpatterns


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "slug", "name"]


class TeamViewSet(PortalModelViewSet):
    queryset = Team.objects.all()
    serializer_class = TeamSerializer


class MyTeamViewSet(PortalReadOnlyViewSet):
    queryset = Team.objects.order_by("slug")
    serializer_class = TeamSerializer

    def restrict_queryset(self, queryset):
        return queryset.filter(memberships__user=self.request.user)


class StrictTeamViewSet(PortalReadOnlyViewSet):
    queryset = Team.objects.order_by("slug")
    serializer_class = TeamSerializer
    action_params = {"list": ("cursor", "limit", "fields")}
    sparse_fields_actions = ("list",)


class UnorderedTeamViewSet(PortalReadOnlyViewSet):
    queryset = Team.objects.order_by()
    serializer_class = TeamSerializer


class MembershipViewSet(PortalReadOnlyViewSet):
    queryset = Membership.objects.all()  # Meta.ordering goes through team__slug

    def get_serializer_class(self):
        return serializers.Serializer


router = SimpleRouter()
router.register("teams", TeamViewSet, basename="test-team")
router.register("my-teams", MyTeamViewSet, basename="test-my-team")
router.register("strict-teams", StrictTeamViewSet, basename="test-strict-team")
router.register("unordered-teams", UnorderedTeamViewSet, basename="test-unordered-team")
router.register("memberships", MembershipViewSet, basename="test-membership")

urlpatterns = [*portal_urlpatterns, path("api/test/", include(router.urls))]
