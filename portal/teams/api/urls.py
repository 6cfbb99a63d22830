from django.urls import path
from rest_framework.routers import SimpleRouter

from portal.teams.api.views import TeamMemberViewSet, TeamViewSet

router = SimpleRouter()
router.register("teams", TeamViewSet, basename="team")

urlpatterns = [
    *router.urls,
    path(
        "teams/<slug:slug>/members/",
        TeamMemberViewSet.as_view({"post": "create"}),
        name="team-members",
    ),
    path(
        "teams/<slug:slug>/members/<str:username>/",
        TeamMemberViewSet.as_view({"patch": "partial_update", "delete": "destroy"}),
        name="team-member",
    ),
]
