"""/api/v1/: each area adds its endpoints in its own api_urls module."""

from django.urls import include, path

urlpatterns = [
    path("", include("portal.tokens.api_urls")),
    path("", include("portal.teams.api_urls")),
    path("", include("portal.aws.api_urls")),
]
