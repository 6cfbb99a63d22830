from django.urls import path

from portal.teams import api_views

urlpatterns = [
    path("teams/", api_views.TeamList.as_view(), name="api-team-list"),
    path("teams/<slug:slug>/", api_views.TeamDetail.as_view(), name="api-team-detail"),
    path("teams/<slug:slug>/members/", api_views.TeamMembers.as_view(), name="api-team-members"),
    path("teams/<slug:slug>/members/<str:username>/", api_views.TeamMember.as_view(), name="api-team-member"),
]
