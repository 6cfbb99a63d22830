"""The API's own endpoints: the root that lists the others, and /me."""

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.models import ApiToken, Membership

_LIST_SUFFIX = "-list"


def _list_endpoint_names(patterns) -> list[str]:
    """Names of the collection endpoints (router "<basename>-list", or any name ending "-list")."""
    names = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names.extend(_list_endpoint_names(pattern.url_patterns))
        elif isinstance(pattern, URLPattern) and (pattern.name or "").endswith(_LIST_SUFFIX):
            names.append(pattern.name)
    return names


class ApiRootView(APIView):
    """Every collection in the API, plus the caller's identity, the schema and its docs."""

    @extend_schema(
        responses=inline_serializer(
            "ApiRoot", fields={"endpoints": serializers.DictField(child=serializers.URLField())}
        )
    )
    def get(self, request):
        base = reverse("api-root")
        endpoints = {"me": reverse("api-me")}
        for name in _list_endpoint_names(get_resolver("portal.api.urls").url_patterns):
            url = reverse(name)
            endpoints[url.removeprefix(base).strip("/")] = url  # keyed by path, like DRF's DefaultRouter
        endpoints["schema"] = reverse("api-schema")
        endpoints["docs"] = reverse("api-docs")
        return Response({"endpoints": {key: request.build_absolute_uri(url) for key, url in sorted(endpoints.items())}})


class MeTeamSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="team.id")
    slug = serializers.CharField(source="team.slug")
    name = serializers.CharField(source="team.name")
    role = serializers.CharField()


class MeTokenSerializer(serializers.ModelSerializer):
    prefix = serializers.CharField(source="display_prefix")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scopes", "expires_at"]


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    is_portal_admin = serializers.BooleanField()
    teams = MeTeamSerializer(many=True)
    token = MeTokenSerializer(allow_null=True, help_text="The token this request was made with; null for a session.")


class MeView(APIView):
    """Who is calling: the user, their teams and roles, and the token used, if any."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = request.user
        memberships = Membership.objects.filter(user=user).select_related("team").order_by("team__slug")
        token = request.auth if isinstance(request.auth, ApiToken) else None
        data = {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "is_portal_admin": user.is_portal_admin,
            "teams": memberships,
            "token": token,
        }
        return Response(MeSerializer(data).data)
