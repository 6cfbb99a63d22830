from portal.api.routers import OptionalSlashRouter
from portal.tokens.api.views import TokenViewSet

router = OptionalSlashRouter()
router.register("tokens", TokenViewSet, basename="token")

urlpatterns = router.urls
