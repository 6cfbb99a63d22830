from portal.api.viewsets import PortalReadOnlyViewSet
from portal.aws import selectors
from portal.aws.api.serializers import AwsAccountSerializer


class AwsAccountViewSet(PortalReadOnlyViewSet):
    """AWS accounts the portal reads, with their last verification. Read-only: portal admins change them."""

    queryset = selectors.aws_account_list()
    serializer_class = AwsAccountSerializer
