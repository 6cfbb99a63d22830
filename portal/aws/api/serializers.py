from rest_framework import serializers

from portal.aws.models import AwsAccount


class AwsAccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = AwsAccount
        # Not the external id: it is part of how the portal proves itself to the account's role.
        fields = [
            "id",
            "name",
            "account_id",
            "role_arn",
            "regions",
            "enabled",
            "status",
            "last_verified_at",
            "last_error",
            "last_error_code",
        ]
        read_only_fields = fields
