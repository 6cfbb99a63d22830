from portal.api.routers import OptionalSlashRouter
from portal.aws.api.views import AwsAccountViewSet

router = OptionalSlashRouter()
router.register("aws-accounts", AwsAccountViewSet, basename="aws-account")

urlpatterns = router.urls
