from rest_framework import serializers

from portal.models import ApiToken, Scope
from portal.tokens.services import TOKEN_MAX_DAYS


class TokenSerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(source="display_prefix", read_only=True)
    status = serializers.ChoiceField(choices=["active", "expired", "revoked"], read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scopes", "status", "created_at", "expires_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices), allow_empty=False)
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=TOKEN_MAX_DAYS,
        required=False,
        allow_null=True,
        help_text="Default 90 (API_TOKEN_DEFAULT_DAYS). null: never expires (portal admins with a session only).",
    )


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(
        source="secret", read_only=True, help_text="The full token. Shown in this response only; store it now."
    )

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields
