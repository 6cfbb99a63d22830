from portal.api.routers import OptionalSlashRouter, path_with_optional_slash
from portal.teams.api.views import TeamMemberViewSet, TeamViewSet

router = OptionalSlashRouter()
router.register("teams", TeamViewSet, basename="team")

urlpatterns = [
    *router.urls,
    *path_with_optional_slash(
        "teams/<slug:slug>/members/",
        TeamMemberViewSet.as_view({"post": "create"}),
        name="team-members",
    ),
    *path_with_optional_slash(
        "teams/<slug:slug>/members/<str:username>/",
        TeamMemberViewSet.as_view({"patch": "partial_update", "delete": "destroy"}),
        name="team-member",
    ),
]
