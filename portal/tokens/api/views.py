from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api.viewsets import PortalGenericViewSet
from portal.models import ApiToken
from portal.tokens.api.serializers import NewTokenSerializer, TokenCreateSerializer, TokenSerializer
from portal.tokens.selectors import TOKEN_ORDERING
from portal.tokens.services import DEFAULT_EXPIRY, token_create, token_revoke


class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalGenericViewSet):
    """The caller's own API tokens. Creating one returns its value once; revoking keeps the row, unusable."""

    serializer_class = TokenSerializer
    queryset = ApiToken.objects.order_by(*TOKEN_ORDERING)

    def restrict_queryset(self, queryset):
        # Own tokens only, portal admins included (they manage others' in the admin): anyone else's is a 404.
        return queryset.filter(user=self.request.user)

    def has_object_action_permission(self, action, obj):
        # Tokens belong to a person, not a team: being in the queryset is the permission.
        # The token scope a write needs was checked by IsAuthenticatedWithScope.
        return obj.user_id == self.request.user.pk

    @extend_schema(request=TokenCreateSerializer, responses={201: NewTokenSerializer})
    def create(self, request):
        incoming = TokenCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        token, secret = token_create(
            actor=self.actor,
            user=request.user,
            name=data["name"],
            scopes=data["scopes"],
            expires_in_days=data.get("expires_in_days", DEFAULT_EXPIRY),
        )
        token.secret = secret
        response = Response(NewTokenSerializer(token).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, pk=None):
        token_revoke(actor=self.actor, token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: TokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = token_revoke(actor=self.actor, token=self.get_object())
        return Response(TokenSerializer(token).data)
