"""/api/v1/: each area adds its endpoints in its own `<area>/api/urls.py`, included below.

An area's API lives in `<area>/api/` (views.py, serializers.py, urls.py). Its
urls.py builds a router (portal.api.routers.OptionalSlashRouter: every path
ends in a slash and answers without it too) and sets
`urlpatterns = router.urls`; a viewset registered with basename "thing" is
listed in the API root as "thing" (from its "thing-list" URL name).
"""

from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.renderers import JSONRenderer

import portal.api.schema  # noqa: F401 - registers the schema extensions before any schema is generated
from portal.api.permissions import IsAuthenticatedWithScope
from portal.api.routers import path_with_optional_slash
from portal.api.views import ApiRootView, MeView


class SchemaView(SpectacularAPIView):
    # The schema maps the whole portal; it is for signed-in people and tokens, like the API it describes.
    permission_classes = [IsAuthenticatedWithScope]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            # Errors in the API's one JSON shape, not as an OpenAPI YAML document.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        return response


urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    *path_with_optional_slash("me/", MeView.as_view(), name="api-me"),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    # A page for people: without a session it sends them to sign in rather than answering 401.
    path("docs/", login_required(SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
    path("", include("portal.tokens.api.urls")),
    path("", include("portal.teams.api.urls")),
    path("", include("portal.aws.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("audit.log.api.urls")),
]
