from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.log.diff import diff
from audit.models import AuditEvent


class ChangeSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="the field, dotted into nested objects (spec.lifecycle)")
    kind = serializers.ChoiceField(choices=["added", "removed", "changed"])
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class AuditEventSerializer(serializers.ModelSerializer):
    seal_number = serializers.SerializerMethodField(help_text="the seal that covers it; null until sealed")
    changes = serializers.SerializerMethodField(help_text="before -> after, field by field")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_kind",
            "actor_label",
            "actor_user",
            "actor_token",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "team_id",
            "source",
            "request_id",
            "source_ip",
            "before",
            "after",
            "changes",
            "content_hash",
            "seal_number",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_seal_number(self, event) -> int | None:
        return event.seal.number if event.seal_id else None

    @extend_schema_field(ChangeSerializer(many=True))
    def get_changes(self, event) -> list[dict]:
        return [
            {"path": c.path, "kind": c.kind, "before": c.before, "after": c.after}
            for c in diff(event.before, event.after)
        ]
