"""/api/v1/entities/: the catalog over REST (docs/catalog.md, "REST API").

Reads are for everyone signed in (a token needs `read`). Writes need `write` on a token and, on the entity,
portal.permissions' CHANGE/CREATE/DELETE: maintainers of the owning team (entity.owning_team_id) and portal
admins. A create is checked on the team its spec.owner names before anything is written, and every create
or update again on the result, so nobody moves an entity to a team they do not maintain.

Changes need `If-Match` with the ETag from a read (or `*` to overwrite knowingly): without it 428, stale 412.
"""

import hashlib
import re
from dataclasses import asdict
from types import SimpleNamespace

from django.core.cache import cache
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail
from rest_framework.parsers import BaseParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from catalog import selectors, services
from catalog.api.pagination import KeysetCursorPagination
from catalog.api.serializers import (
    EntityDetailSerializer,
    EntityDocumentSerializer,
    EntitySerializer,
    FacetsSerializer,
    GraphSerializer,
    ImportRefusedSerializer,
    ImportReportSerializer,
    RelationSerializer,
    ValidateResultSerializer,
)
from catalog.filters import FILTER_NAMES, EntityFilterSet
from catalog.importing import import_upload_for, may_import
from catalog.importing.reading import max_bytes, too_large
from catalog.importing.report import NOTHING
from catalog.models import Entity, team_id_of_group
from catalog.refs import RefError, parse_ref
from catalog.validation import validate_document
from catalog.version import catalog_version
from portal import permissions
from portal.api.parsers import MergePatchParser
from portal.api.viewsets import PortalGenericViewSet
from portal.models import Team

RELATIONS_EMBEDDED = 200
MAX_VALIDATE_DOCUMENTS = 1000
_PAGING_PARAMS = ("cursor", "limit", "format")


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = (
        "This change needs an If-Match header with the entity's ETag (from a GET), or If-Match: * to overwrite "
        "whatever is there."
    )
    default_code = "if_match_required"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"


class ProblemsError(exceptions.APIException):
    """400 or 409 with the catalog's problems list, each naming the field and rule."""

    def __init__(self, problems, *, status_code: int, code: str):
        self.status_code = status_code
        summary = "; ".join(problem.message for problem in problems[:3]) or "The document was refused."
        # Set directly rather than through APIException, which would turn every value (index too) into a string.
        self.detail = {
            "detail": ErrorDetail(summary, code=code),
            "problems": [asdict(problem) for problem in problems],
        }


def _filtered(request, queryset=None):
    try:
        return selectors.entity_list(
            params=request.query_params, queryset=queryset if queryset is not None else selectors.entity_api_queryset()
        )
    except selectors.InvalidFilters as error:
        raise exceptions.ValidationError(error.errors) from error


_IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag from a read, e.g. "3f2a…", or * to change whatever version is there.',
)
_REF = OpenApiParameter(
    "ref",
    str,
    OpenApiParameter.PATH,
    description="kind:namespace/name, kind:name (namespace default), or kind/ns/name.",
)
_PROBLEMS = OpenApiResponse(description="The document breaks a rule: detail, and problems naming field and rule.")


class YamlParser(BaseParser):
    """The request body as bytes, for the importer to read (at most the import limit plus one byte)."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(max_bytes() + 1) if stream is not None else b""


class XYamlParser(YamlParser):
    media_type = "application/x-yaml"


class TextYamlParser(YamlParser):
    media_type = "text/*"


_UPLOAD_NAME = re.compile(r"^[\w][\w.-]{0,199}$")


class EntityFilterBackend(DjangoFilterBackend):
    """Puts EntityFilterSet's parameters in the schema; the list applies them itself, through catalog.selectors,
    so that an invalid value is a 400 naming its parameter and detail routes are never filtered."""

    def filter_queryset(self, request, queryset, view):
        return queryset


@extend_schema_view(
    list=extend_schema(summary="List entities (filtered, sorted, cursor pages)"),
    retrieve=extend_schema(summary="An entity, with its relations; ETag header"),
)
class EntityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalGenericViewSet):
    """The service catalog's entities, in Backstage's envelope."""

    queryset = Entity.objects.order_by("id")
    lookup_value_regex = r"\d+"  # so that /entities/by-ref/... is never taken for an id
    serializer_class = EntitySerializer
    pagination_class = KeysetCursorPagination
    filter_backends = [EntityFilterBackend]
    filterset_class = EntityFilterSet
    parser_classes = [JSONParser]
    sparse_fields_actions = ("list", "retrieve", "by_ref", "by_ref_path")
    sparse_fields_example = "ref,owner,tags"
    action_params = {
        "list": (*FILTER_NAMES, *_PAGING_PARAMS, "fields"),
        "by_ref": ("ref", "fields", "format"),
        "by_ref_path": ("fields", "format"),
        "facets": (*FILTER_NAMES, "facet", "format"),
        "relations": _PAGING_PARAMS,
        "graph": ("depth", "format"),
        "import_": ("name", "force", "atomic", "format"),
    }

    @property
    def required_scope(self):
        # Validating writes nothing, so a read-only token may do it.
        return "read" if getattr(self, "action", None) == "validate" else None

    def get_queryset(self):
        queryset = selectors.entity_base_queryset().order_by("id")
        if self.request is not None and self.request.method in ("PUT", "PATCH", "DELETE"):
            # Held until the change commits, so two writers cannot both pass the If-Match check.
            queryset = queryset.select_for_update(of=("self",))
        return queryset

    def get_parsers(self):
        if self.request is not None and self.request.method == "PATCH":
            # A PATCH is a merge patch, so it takes RFC 7396's media type as well as application/json.
            return [MergePatchParser(), *super().get_parsers()]
        return super().get_parsers()

    def get_serializer_class(self):
        return EntityDetailSerializer if self.action in ("retrieve", "by_ref", "by_ref_path") else EntitySerializer

    # --- reads ------------------------------------------------------------------------------------------

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(_filtered(request))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return self._entity_response(self.get_object(), request)

    @extend_schema(
        parameters=[OpenApiParameter("ref", str, required=True, description="kind:namespace/name")],
        responses=EntityDetailSerializer,
        summary="An entity by its reference, as a query parameter: /by-ref/?ref=component:default/orders-api",
    )
    @action(detail=False, url_path="by-ref")
    def by_ref(self, request):
        return self._by_ref(request, request.query_params.get("ref"))

    @extend_schema(
        parameters=[_REF],
        responses=EntityDetailSerializer,
        summary="An entity by its reference in the path: /by-ref/component:default/orders-api",
        operation_id="entities_by_ref_path_retrieve",
    )
    def by_ref_path(self, request, ref):
        return self._by_ref(request, ref)

    def _by_ref(self, request, ref):
        if not ref:
            raise exceptions.ValidationError({"ref": ["Give a reference: /by-ref/kind:namespace/name or ?ref=…"]})
        try:
            key = selectors.parse_entity_ref(ref).key
        except RefError as error:
            raise exceptions.ValidationError({"ref": [str(error)]}) from error
        # The answer is built once per version of the catalog (catalog.version: every write to entities or
        # relations makes a new one) and host, then served from the cache: the entity, its relations and their
        # serialization were most of this request (docs/benchmarks.md, "The cost of one request").
        cache_key = f"catalog:api:entity:{catalog_version()}:{_digest(request.build_absolute_uri('/'))}:{key}"
        answer = cache.get(cache_key)
        if answer is None:
            try:
                entity = selectors.entity_base_queryset().get(ref_key=key)
            except Entity.DoesNotExist:
                raise Http404(f"No entity {ref}.") from None
            self.check_object_permissions(request, entity)
            if _not_modified(request, entity.etag):
                return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": f'"{entity.etag}"'})
            self._attach_relations(entity)
            answer = {
                "owning_team_id": entity.owning_team_id,
                "etag": entity.etag,
                "data": EntityDetailSerializer(entity, context=self.get_serializer_context()).data,
            }
            cache.set(cache_key, answer, ANSWER_CACHE_SECONDS)
        else:
            # The same check as on the row, on what it depends on (the owning team), before anything is sent.
            self.check_object_permissions(request, _Owned(answer["owning_team_id"]))
            if _not_modified(request, answer["etag"]):
                return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": f'"{answer["etag"]}"'})
        data = answer["data"]
        if self.sparse_fields is not None:
            data = {name: value for name, value in data.items() if name in self.sparse_fields}
        return Response(data, headers={"ETag": f'"{answer["etag"]}"'})

    def _attach_relations(self, entity):
        relations = selectors.entity_relations(entity, limit=RELATIONS_EMBEDDED + 1)
        entity.relation_views = relations[:RELATIONS_EMBEDDED]
        entity.relations_truncated = len(relations) > RELATIONS_EMBEDDED

    def _entity_response(self, entity, request, *, status_code=status.HTTP_200_OK):
        etag = f'"{entity.etag}"'
        if status_code == status.HTTP_200_OK and _not_modified(request, entity.etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        self._attach_relations(entity)
        if self.action not in ("retrieve", "by_ref", "by_ref_path"):
            serializer = EntityDetailSerializer(entity, context=self.get_serializer_context())
        else:
            serializer = self.get_serializer(entity)
        return Response(serializer.data, status=status_code, headers={"ETag": etag})

    @extend_schema(
        filters=True,
        parameters=[
            OpenApiParameter(
                "facet",
                str,
                many=True,
                enum=[*selectors.FACETS],
                description="Facets to count (repeat); default all.",
            )
        ],
        responses=FacetsSerializer,
        summary="Counts per kind, type, owner, lifecycle, system and tag for the same filters as the list",
    )
    @action(detail=False)
    def facets(self, request):
        wanted = request.query_params.getlist("facet") or [*selectors.FACETS]
        unknown = [name for name in wanted if name not in selectors.FACETS]
        if unknown:
            raise exceptions.ValidationError(
                {"facet": [f"Unknown facet(s) {', '.join(unknown)}; choose from {', '.join(selectors.FACETS)}."]}
            )
        counts = selectors.entity_facets(
            _filtered(request), params=request.query_params, facets=tuple(dict.fromkeys(wanted))
        )
        return Response(
            {
                "facets": {
                    name: [{"value": value, "count": count} for value, count in values]
                    for name, values in counts.items()
                }
            }
        )

    @extend_schema(responses=RelationSerializer(many=True), summary="Every relation of an entity, both directions")
    @action(detail=True)
    def relations(self, request, pk=None):
        entity = self.get_object()
        page = self.paginate_queryset(selectors.entity_relations_queryset(entity))
        views = [selectors.relation_view(entity, relation) for relation in page]
        return self.get_paginated_response(RelationSerializer(views, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("depth", int, description=f"1 to {selectors.MAX_GRAPH_DEPTH}; default 2."),
        ],
        responses=GraphSerializer,
        summary="The entity's neighbourhood: nodes and edges, breadth first, depth-limited",
    )
    @action(detail=True)
    def graph(self, request, pk=None):
        raw = request.query_params.get("depth", "2")
        if not raw.isdigit() or not 1 <= int(raw) <= selectors.MAX_GRAPH_DEPTH:
            raise exceptions.ValidationError({"depth": [f"Must be 1 to {selectors.MAX_GRAPH_DEPTH}."]})
        nodes, edges = selectors.dependency_graph(self.get_object(), int(raw))
        return Response(GraphSerializer({"nodes": nodes, "edges": edges}).data)

    # --- writes -----------------------------------------------------------------------------------------

    def _document(self, data) -> dict:
        if not isinstance(data, dict) or not data:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Send one entity document as a JSON object (apiVersion, kind, metadata, spec)."]}
            )
        return dict(data)

    def _service(self, call, **kwargs):
        try:
            return call(actor=self.actor, **kwargs)
        except services.PreconditionFailed as error:
            raise PreconditionFailed(str(error)) from error
        except services.EntityConflict as error:
            raise ProblemsError(error.problems, status_code=status.HTTP_409_CONFLICT, code="conflict") from error
        except services.EntityInvalid as error:
            raise ProblemsError(error.problems, status_code=status.HTTP_400_BAD_REQUEST, code="invalid") from error

    def _check_if_match(self, request, entity) -> str | None:
        """The ETag the change is conditional on, or None for `If-Match: *`."""
        header = request.headers.get("If-Match")
        if header is None:
            raise PreconditionRequired()
        tags = _etags(header)
        if "*" in tags:
            return None
        if f'"{entity.etag}"' not in tags:
            raise PreconditionFailed(
                f'{entity.ref} has changed since you read it (its ETag is now "{entity.etag}"); '
                "read it again, reapply your change and retry."
            )
        return entity.etag

    @extend_schema(
        request=EntityDocumentSerializer,
        responses={201: EntityDetailSerializer, 400: _PROBLEMS, 409: _PROBLEMS},
        summary="Create an entity from its document (owner must be a team you maintain)",
    )
    def create(self, request):
        document = self._document(request.data)
        # Refused before anything is written when spec.owner names a team the caller does not maintain.
        if not self.has_object_action_permission(
            permissions.CREATE, SimpleNamespace(owning_team_id=_owning_team_id(document))
        ):
            self.permission_denied(request, message=_create_refused(document), code="object_permission")
        entity = self._service(services.entity_create, document=document)
        self.check_object_permissions(request, entity)
        return self._entity_response(entity, request, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[_IF_MATCH],
        request=EntityDocumentSerializer,
        responses={200: EntityDetailSerializer, 400: _PROBLEMS, 412: None, 428: None},
        summary="Replace an entity's document (If-Match required)",
    )
    def update(self, request, pk=None):
        entity = self.get_object()
        if_match = self._check_if_match(request, entity)
        return self._save(request, entity, self._document(request.data), if_match)

    @extend_schema(
        parameters=[_IF_MATCH],
        request=OpenApiTypes.OBJECT,
        responses={200: EntityDetailSerializer, 400: _PROBLEMS, 412: None, 428: None},
        summary="Change part of an entity's document with a JSON merge patch (RFC 7396; null removes a key)",
        description="Send it as `application/merge-patch+json` (RFC 7396) or `application/json`.",
    )
    def partial_update(self, request, pk=None):
        entity = self.get_object()
        if_match = self._check_if_match(request, entity)
        patch = self._document(request.data)
        return self._save(request, entity, merge_patch(entity.document, patch), if_match)

    def _save(self, request, entity, document, if_match):
        entity = self._service(services.entity_update, entity=entity, document=document, if_match=if_match)
        self.check_object_permissions(request, entity)  # the new owner must be a team the caller maintains too
        return self._entity_response(entity, request)

    @extend_schema(parameters=[_IF_MATCH], responses={204: None, 412: None, 428: None}, summary="Delete an entity")
    def destroy(self, request, pk=None):
        entity = self.get_object()
        self._check_if_match(request, entity)
        self._service(services.entity_delete, entity=entity)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request={
            "application/json": {
                # Any object: finding what is wrong with a document is what this endpoint is for.
                "oneOf": [
                    {"type": "object", "minProperties": 1},
                    {
                        "type": "array",
                        "items": {"type": "object"},
                        "minItems": 1,
                        "maxItems": MAX_VALIDATE_DOCUMENTS,
                    },
                ]
            }
        },
        responses=ValidateResultSerializer,
        summary="Check documents against Backstage's rules without writing anything",
        description="POST one document (an object) or several (a list, at most 1,000). Needs only `read`.",
    )
    @action(detail=False, methods=["post"])
    def validate(self, request):
        data = request.data
        documents = data if isinstance(data, list) else [data]
        # No body reaches here as {}: refused like an empty list, not validated as a document with no fields.
        if not data or len(documents) > MAX_VALIDATE_DOCUMENTS or not all(isinstance(d, dict) for d in documents):
            raise exceptions.ValidationError(
                {"non_field_errors": [f"Send one document (an object) or a list of 1 to {MAX_VALIDATE_DOCUMENTS}."]}
            )
        problems = []
        for index, document in enumerate(documents):
            problems += validate_document(document, source="api", index=index if isinstance(data, list) else None)
        return Response({"valid": not problems, "problems": [asdict(problem) for problem in problems]})

    @extend_schema(
        parameters=[
            OpenApiParameter("name", str, description="The upload's name (its location); required with a YAML body."),
            OpenApiParameter("force", bool, description="Apply even past the orphan guard."),
            OpenApiParameter(
                "atomic",
                bool,
                description="All or nothing: write nothing when any document is refused (for CI pipelines).",
            ),
        ],
        request={
            "application/yaml": {"type": "string", "description": "One or more YAML documents."},
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}, "name": {"type": "string"}},
                "required": ["file"],
            },
        },
        responses={
            200: ImportReportSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Nothing imported: the request is malformed, or every document was refused (the report "
                "with detail and code), or atomic=true and something was refused.",
            ),
            403: None,
            409: ImportRefusedSerializer,
        },
        summary="Import Backstage YAML (a body or a file): what was created, updated, unchanged, orphaned or refused",
        description=(
            "Each entity is applied or refused on its own, as Backstage processes them: a refused document is listed "
            "under its location's refused_entities with its problems (and an entity stored before keeps that "
            "version), and the others are applied (200, status 1). With atomic=true, anything refused means nothing "
            "is written (400). The upload's name is its location: importing the same name again replaces what it "
            "held, and its entities missing from the new content are marked orphaned (409 past the orphan guard, "
            "unless force=true). Every entity created, changed or orphaned must be owned by a team you maintain "
            "(before and after), or nothing is written (403)."
        ),
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[YamlParser, XYamlParser, TextYamlParser, MultiPartParser],
    )
    def import_(self, request):
        # Asked before the body is read: a person who may import nothing costs no parsing.
        if not may_import(request.user):
            self.permission_denied(
                request,
                message="Only maintainers of a team and portal admins may import catalog files.",
                code="object_permission",
            )
        force = request.query_params.get("force", "false")
        if force not in ("true", "false"):
            raise exceptions.ValidationError({"force": ["Must be true or false."]})
        atomic = request.query_params.get("atomic", "false")
        if atomic not in ("true", "false"):
            raise exceptions.ValidationError({"atomic": ["Must be true or false."]})
        if isinstance(request.data, bytes):
            content, name = request.data, request.query_params.get("name")
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise exceptions.ValidationError({"file": ["Send the YAML as a file field named 'file'."]})
            name = request.data.get("name") or request.query_params.get("name") or upload.name
            content = upload.read(max_bytes() + 1)
        if not name or not _UPLOAD_NAME.match(name):
            raise exceptions.ValidationError(
                {
                    "name": [
                        "Name the upload (1-200 letters, digits, '.', '_', '-'): it is the location re-imports replace."
                    ]
                }
            )
        if len(content) > max_bytes():
            problem = too_large(f"upload:{name}")
            raise ProblemsError([problem], status_code=status.HTTP_400_BAD_REQUEST, code="too_large")
        report, refused_refs = import_upload_for(
            actor=self.actor, name=name, content=content, force=force == "true", atomic=atomic == "true"
        )
        if refused_refs:
            shown = ", ".join(refused_refs[:5]) + (
                f" and {len(refused_refs) - 5} more" if len(refused_refs) > 5 else ""
            )
            self.permission_denied(
                request,
                message=f"Nothing imported: you do not maintain the team that owns {shown}.",
                code="object_permission",
            )
        body = report.as_dict()
        if report.status != NOTHING:
            # Applied, or partly: each refused entity is in the report, with its problems.
            return Response(body)
        # Nothing was written: say why with an error status, the report alongside.
        refused = bool(report.refused) and not report.all_problems
        code = "refused" if refused else "invalid"
        first = report.refused[0].refused if refused else report.all_problems[0].message
        status_code = status.HTTP_409_CONFLICT if refused else status.HTTP_400_BAD_REQUEST
        return Response({"detail": f"Nothing imported: {first}", "code": code, **body}, status=status_code)

    def object_action(self) -> str:
        if self.action == "create":
            return permissions.CREATE
        return super().object_action()


# How long a built answer may serve: its key changes with every write to the catalog, so this bounds only what
# changes without a write to entities (a team renamed or deleted in the admin shows in the answers within it).
ANSWER_CACHE_SECONDS = 60


class _Owned:
    """What portal.permissions asks of an object, for an answer served from the cache."""

    _meta = Entity._meta

    def __init__(self, owning_team_id):
        self.owning_team_id = owning_team_id


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _not_modified(request, etag: str) -> bool:
    return f'"{etag}"' in _etags(request.headers.get("If-None-Match"))


def _etags(header: str | None) -> list[str]:
    """The entity tags of an If-Match / If-None-Match header, normalised to the quoted strong form."""
    if not header:
        return []
    tags = []
    for part in header.split(","):
        part = part.strip().removeprefix("W/")
        if part == "*":
            tags.append("*")
        elif part:
            tags.append(f'"{part.strip(chr(34))}"')
    return tags


def _create_refused(document: dict) -> str:
    if str(document.get("kind", "")).lower() == "group":
        return (
            "You may not create this Group: a Group in namespace default is a portal team's own. Creating one "
            "that makes a new team is for portal admins; the Group of an existing team is for its maintainers."
        )
    return "You may not create this entity: its spec.owner must be a team you maintain."


def _owning_team_id(document: dict) -> int | None:
    """The portal team whose maintainers may create this document (Entity.owning_team_id before it exists):
    a Group of namespace default belongs to the Team of its name; anything else to the team spec.owner names
    (group:default/<slug>). None when there is no such team: only portal admins may create it."""
    metadata = document.get("metadata")
    if (
        str(document.get("kind", "")).lower() == "group"
        and isinstance(metadata, dict)
        and str(metadata.get("namespace") or services.TEAM_NAMESPACE).lower() == services.TEAM_NAMESPACE
        and isinstance(metadata.get("name"), str)
    ):
        return team_id_of_group(metadata["name"])
    spec = document.get("spec")
    owner = spec.get("owner") if isinstance(spec, dict) else None
    if not isinstance(owner, str):
        return None
    try:
        ref = parse_ref(owner, default_kind="Group")
    except RefError:
        return None
    if ref.kind.lower() != "group" or ref.namespace.lower() != services.TEAM_NAMESPACE:
        return None
    return Team.objects.filter(slug__iexact=ref.name).values_list("id", flat=True).first()


def merge_patch(target, patch):
    """RFC 7396: objects merge key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
