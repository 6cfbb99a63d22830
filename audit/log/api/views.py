"""/api/v1/audit-events/: the audit log over REST, read-only (docs/audit.md, "REST API").

The same events as the audit page shows the caller (audit.log.selectors.visible_events): portal admins all,
others their teams' and their own; a token needs `read`. The same filters as the page, and the same
streamed exports (`export/?as=csv|jsonl`); an invalid filter is a 400 naming it, before any row is read.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer

from audit.log.api.serializers import AuditEventSerializer
from audit.log.export import FORMATS, export_response
from audit.log.filters import FILTER_NAMES, AuditEventFilterSet, filter_errors
from audit.log.selectors import LIST_ORDERING, visible_events
from audit.models import AuditEvent
from portal.api.schema import ErrorSerializer
from portal.api.viewsets import PortalReadOnlyViewSet


class _ExportRenderer(BaseRenderer):
    """Lets a client that asks for the export's media type (Accept: text/csv) through content negotiation; the
    body itself is streamed by the view, and errors are rendered as JSON (finalize_response)."""

    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class CsvRenderer(_ExportRenderer):
    media_type = "text/csv"
    format = "csv"


class JsonLinesRenderer(_ExportRenderer):
    media_type = "application/jsonl"
    format = "jsonl"


_FILTER_PARAMETERS = [
    OpenApiParameter(name, str, description=str(filter_.extra.get("help_text", "")))
    for name, filter_ in AuditEventFilterSet.base_filters.items()
]


class AuditEventViewSet(PortalReadOnlyViewSet):
    """Audit events, newest first; filtered like the audit page."""

    serializer_class = AuditEventSerializer
    queryset = AuditEvent.objects.select_related("seal").order_by(*LIST_ORDERING)
    filter_backends = [DjangoFilterBackend]
    filterset_class = AuditEventFilterSet
    action_params = {
        "list": (*FILTER_NAMES, "cursor", "limit", "fields", "format"),
        "retrieve": ("fields", "format"),
        "export": (*FILTER_NAMES, "as"),
    }
    sparse_fields_example = "id,occurred_at,action"

    def restrict_queryset(self, queryset):
        return queryset & visible_events(self.request.user)

    def has_object_action_permission(self, action, obj):
        # Read-only, and being in the caller's queryset is the permission (visible_events).
        return True

    def get_renderers(self):
        if getattr(self, "action", None) == "export" or self.request.path.rstrip("/").endswith("/export"):
            return [JSONRenderer(), CsvRenderer(), JsonLinesRenderer()]
        return super().get_renderers()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(response, "status_code", 200) >= 400 and hasattr(response, "accepted_renderer"):
            # Errors in the API's one JSON shape, whatever media type the export was asked in.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
        return response

    @extend_schema(
        parameters=[
            OpenApiParameter("as", str, enum=list(FORMATS), required=True, description="csv or jsonl"),
            *_FILTER_PARAMETERS,
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="one event a row, oldest first"),
            (200, "application/jsonl"): OpenApiResponse(OpenApiTypes.STR, description="one event a line, oldest first"),
            400: OpenApiResponse(ErrorSerializer, description="An invalid filter or format, named."),
        },
        description="Every event the filters match, oldest first, streamed: a year of events is never held in "
        "memory. Not paginated.",
    )
    @action(detail=False, methods=["get"], url_path="export", pagination_class=None, filter_backends=[])
    def export(self, request):
        file_format = request.query_params.get("as", "")
        errors = {}
        if file_format not in FORMATS:
            errors["as"] = [f"Must be {' or '.join(FORMATS)}."]
        filterset = AuditEventFilterSet(request.query_params, queryset=self.get_queryset(), request=request)
        if not filterset.is_valid():
            errors.update(filter_errors(filterset))
        if errors:
            raise exceptions.ValidationError(errors)
        return export_response(filterset.qs, file_format)
