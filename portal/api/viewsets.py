"""The base of every Meridian API viewset (after NetBox's NetBoxModelViewSet).

A viewset built on PortalModelViewSet (or PortalReadOnlyViewSet) gets:

- the queryset cut down to what the caller may see: override
  `restrict_queryset(queryset)`; the default lets every signed-in user see
  everything, as portal.permissions does for "view";
- object permissions from portal.permissions.can(), with the request's API
  token, checked on the object as it is before a change and again as it is
  after a create or update (so nobody moves an object to a team they could
  not have created it in); override `has_object_action_permission()` for
  objects outside the team model;
- every unsafe request in one transaction, rolled back when the response is
  an error, so a service's changes and its audit event never half-commit;
- IntegrityError, ProtectedError and Django's ValidationError answered as
  409/400 JSON (see portal.api.exceptions);
- cursor pagination (portal.api.pagination), which refuses unordered querysets;
- sparse fieldsets: `?fields=a,b` on the actions in `sparse_fields_actions`
  (list and retrieve unless a viewset says otherwise) returns only those
  top-level fields, the serializer's Meta.fields being the choices, and an
  unknown one is a 400 before any query; the schema documents the parameter
  (portal.api.schema.PortalAutoSchema);
- per action, the query parameters it takes (`action_params`): any other is a
  400 naming it before any query, since a misspelt filter silently ignored
  returns the wrong rows.

Writes should go through a service: override perform_create / perform_update /
perform_destroy to call it, and set `serializer.instance` to what it returns.
`self.actor` is the portal.actors.Actor to pass to it.
"""

from django.db import transaction
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.serializers import ListSerializer

from portal import permissions
from portal.actors import Actor
from portal.api.pagination import PortalCursorPagination
from portal.api.schema import PortalAutoSchema

# The portal.permissions action each request method asks for on an object.
_ACTION_FOR_METHOD = {
    "GET": permissions.VIEW,
    "HEAD": permissions.VIEW,
    "OPTIONS": permissions.VIEW,
    "POST": permissions.CREATE,
    "PUT": permissions.CHANGE,
    "PATCH": permissions.CHANGE,
    "DELETE": permissions.DELETE,
}


def reject_unknown_params(request, allowed) -> None:
    """A 400 naming every query parameter of the request that is not in `allowed`."""
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise exceptions.ValidationError(
            {name: [f"Unknown parameter; this endpoint takes {', '.join(sorted(allowed))}."] for name in unknown}
        )


class PortalViewSetMixin:
    pagination_class = PortalCursorPagination
    schema = PortalAutoSchema()
    # Per DRF action name, the portal.permissions action it needs, e.g. {"deploy": permissions.DEPLOY}.
    # Anything not listed follows the request method.
    object_actions: dict[str, str] = {}
    # Per DRF action name, every query parameter it takes ("format", "cursor", "limit" and "fields" included
    # where it takes them), e.g. {"graph": ("depth", "format")}. An action not listed takes any.
    action_params: dict[str, tuple[str, ...]] = {}
    # The actions whose answer ?fields= may cut down; () offers it nowhere.
    sparse_fields_actions: tuple[str, ...] = ("list", "retrieve")
    # The example in the schema's description of `fields`; default the serializer's first three fields.
    sparse_fields_example: str = ""
    # The fields this request asked for, or None for all (set by initial()).
    sparse_fields: list[str] | None = None

    @property
    def actor(self) -> Actor:
        return Actor.from_request(self.request)

    def restrict_queryset(self, queryset):
        """Only the rows the caller may see. Override to narrow; always return an ordered queryset."""
        return queryset

    def sparse_field_choices(self) -> list[str] | None:
        """The fields ?fields= may name on this action (the serializer's Meta.fields), or None if not offered."""
        if getattr(self, "action", None) not in self.sparse_fields_actions:
            return None
        choices = getattr(getattr(self.get_serializer_class(), "Meta", None), "fields", None)
        return list(choices) if isinstance(choices, list | tuple) else None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Both checks cost a dictionary lookup on a request without the parameters, and come before the
        # handler so that a wrong parameter is answered before any query.
        allowed = self.action_params.get(self.action)
        if allowed is not None:
            reject_unknown_params(request, allowed)
        if "fields" in request.query_params:
            choices = self.sparse_field_choices()
            if choices is not None:
                self.sparse_fields = _wanted_fields(request.query_params["fields"], choices)

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        if self.sparse_fields is not None:
            shown = serializer.child if isinstance(serializer, ListSerializer) else serializer
            for name in set(shown.fields) - set(self.sparse_fields):
                shown.fields.pop(name)
        return serializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset()  # drf-spectacular asks for the model only, with no real user
        return self.restrict_queryset(super().get_queryset())

    def object_action(self) -> str:
        if self.action in self.object_actions:
            return self.object_actions[self.action]
        if self.request.method == "POST" and self.detail:
            return permissions.CHANGE  # an action on an existing object (e.g. POST .../revoke/) changes it
        return _ACTION_FOR_METHOD.get(self.request.method, permissions.CHANGE)

    def has_object_action_permission(self, action: str, obj) -> bool:
        return permissions.can(self.request.user, action, obj, token=self.request.auth)

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj)
        action = self.object_action()
        if not self.has_object_action_permission(action, obj):
            self.permission_denied(
                request, message=f"You may not {action} this {obj._meta.verbose_name}.", code="object_permission"
            )

    def dispatch(self, request, *args, **kwargs):
        if request.method in SAFE_METHODS:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 400:
                # DRF turned an exception into this response inside the block; undo what was written before it.
                transaction.set_rollback(True)
        return response


def _wanted_fields(raw: str, choices: list[str]) -> list[str]:
    wanted = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in choices]
    if unknown or not wanted:
        raise exceptions.ValidationError(
            {"fields": [f"Unknown field(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(choices)}."]}
        )
    return wanted


class CreateModelMixin(mixins.CreateModelMixin):
    """DRF's create, plus the object check on what perform_create made. Use it instead of DRF's."""

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        self.check_object_permissions(request, serializer.instance)
        headers = self.get_success_headers(serializer.data)
        return Response(serializer.data, status=status.HTTP_201_CREATED, headers=headers)


class UpdateModelMixin(mixins.UpdateModelMixin):
    """DRF's update, plus the object check on the result of perform_update. Use it instead of DRF's."""

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        self.check_object_permissions(request, serializer.instance)
        if getattr(serializer.instance, "_prefetched_objects_cache", None):
            serializer.instance._prefetched_objects_cache = {}
        return Response(serializer.data)


class PortalGenericViewSet(PortalViewSetMixin, viewsets.GenericViewSet):
    """Add the mixins you need, taking Create/UpdateModelMixin from this module:
    class ThingViewSet(mixins.ListModelMixin, CreateModelMixin, PortalGenericViewSet)."""


class PortalModelViewSet(
    CreateModelMixin,
    mixins.RetrieveModelMixin,
    UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    PortalGenericViewSet,
):
    pass


class PortalReadOnlyViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, PortalGenericViewSet):
    pass


__all__ = [
    "CreateModelMixin",
    "PortalGenericViewSet",
    "PortalModelViewSet",
    "PortalReadOnlyViewSet",
    "PortalViewSetMixin",
    "UpdateModelMixin",
    "reject_unknown_params",
]
