from rest_framework.routers import SimpleRouter

from portal.aws.api.views import AwsAccountViewSet

router = SimpleRouter()
router.register("aws-accounts", AwsAccountViewSet, basename="aws-account")

urlpatterns = router.urls
