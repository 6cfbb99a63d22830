from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.models import ApiToken, Scope
from portal.tokens.services import TOKEN_MAX_DAYS


class TokenSerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(source="display_prefix", read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scopes", "status", "created_at", "expires_at", "last_used_at", "revoked_at"]
        read_only_fields = fields

    # An inline enum: a named one would collide with other areas' "status" enums in the schema.
    @extend_schema_field({"type": "string", "enum": ["active", "expired", "revoked"]})
    def get_status(self, token) -> str:
        return token.status


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
        # No status: a new token is active, and the status enum in one component only keeps its schema name plain.
        fields = [*(f for f in TokenSerializer.Meta.fields if f != "status"), "token"]
        read_only_fields = fields
