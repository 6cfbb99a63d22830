"""The catalog's endpoints under /api/v1/ (included from portal.api.urls)."""

from django.urls import path

from catalog.api.views import EntityViewSet
from portal.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("entities", EntityViewSet, basename="entity")

urlpatterns = [
    # A reference holds a '/' (kind:namespace/name), so it takes the rest of the path.
    path("entities/by-ref/<path:ref>", EntityViewSet.as_view({"get": "by_ref_path"}), name="entity-by-ref-path"),
    *router.urls,
]
