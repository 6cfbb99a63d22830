from rest_framework import serializers

from portal.models import Role, Team


class MemberBriefSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)


class TeamSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="team-detail", lookup_field="slug")
    member_count = serializers.IntegerField(read_only=True)
    # A plain string: a second ChoiceField over Role would make drf-spectacular name the same enum twice.
    my_role = serializers.CharField(
        read_only=True, allow_null=True, help_text="Your role in the team (viewer, maintainer, admin); null if none."
    )
    members = MemberBriefSerializer(source="members_brief", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["url", "slug", "name", "description", "member_count", "my_role", "members", "created_at"]
        read_only_fields = fields


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
