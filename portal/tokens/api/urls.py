from rest_framework.routers import SimpleRouter

from portal.tokens.api.views import TokenViewSet

router = SimpleRouter()
router.register("tokens", TokenViewSet, basename="token")

urlpatterns = router.urls
