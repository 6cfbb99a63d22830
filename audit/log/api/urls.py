"""The audit log's endpoints under /api/v1/ (included from portal.api.urls)."""

from audit.log.api.views import AuditEventViewSet
from portal.api.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("audit-events", AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
