from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Entity


class EntityBriefSerializer(serializers.Serializer):
    """The other end of a relation or a graph node: enough to show and link it."""

    id = serializers.IntegerField()
    ref = serializers.CharField(source="ref_key")
    kind = serializers.CharField()
    namespace = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField()


class RelationSerializer(serializers.Serializer):
    """`this entity --type--> target_ref`, whichever entity's spec made it (see `direction`)."""

    type = serializers.CharField(help_text="As seen from this entity, e.g. ownedBy, or ownerOf on the team.")
    direction = serializers.ChoiceField(
        choices=["outgoing", "incoming"],
        help_text="outgoing: from this entity's spec; incoming: from the other entity's spec.",
    )
    target_ref = serializers.CharField(help_text="The other end, as a ref key (kind:namespace/name, lower case).")
    resolved = serializers.BooleanField(help_text="False while no entity has this ref (kept, and shown as missing).")
    target = EntityBriefSerializer(allow_null=True)


@extend_schema_field(OpenApiTypes.OBJECT)
class DocumentField(serializers.JSONField):
    """The entity document (apiVersion, kind, metadata, spec) as written."""


class EntitySerializer(serializers.ModelSerializer):
    """An entity: its identity, the fields lists and filters use, and the document as written.

    `?fields=ref,owner,tags` returns only those top-level fields.
    """

    url = serializers.HyperlinkedIdentityField(view_name="entity-detail")
    ref = serializers.CharField(read_only=True, help_text="kind:namespace/name in lower case, the identity.")
    type = serializers.CharField(source="spec_type", read_only=True, help_text="spec.type")
    owner = serializers.CharField(source="owner_key", read_only=True, help_text="spec.owner as a ref key.")
    owner_team = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="The portal team that owns it (its maintainers may edit it); null when spec.owner is no team.",
    )
    system = serializers.CharField(source="system_key", read_only=True, help_text="spec.system as a ref key.")
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    location = serializers.StringRelatedField(read_only=True, help_text="Where it came from, e.g. file:catalog.yaml.")
    document = DocumentField(read_only=True)

    class Meta:
        model = Entity
        fields = [
            "id",
            "url",
            "uid",
            "ref",
            "kind",
            "namespace",
            "name",
            "title",
            "description",
            "type",
            "lifecycle",
            "owner",
            "owner_team",
            "system",
            "tags",
            "orphaned",
            "etag",
            "location",
            "created_at",
            "updated_at",
            "document",
        ]
        read_only_fields = fields

    # The fields above describe the answer (the schema, ?fields=); the answer itself is built here from the
    # row's attributes, to the same values. DRF's path, a ModelSerializer's fields built for each request and
    # each value through its field, was about a third of the time of a page of 50 (docs/benchmarks.md,
    # "The cost of one request"); tests/catalog/api/test_entities_read.py compares the two.
    def to_representation(self, entity):
        data = {
            "id": entity.pk,
            "url": self._detail_url(entity.pk),
            "uid": str(entity.uid),
            "ref": entity.ref,
            "kind": entity.kind,
            "namespace": entity.namespace,
            "name": entity.name,
            "title": entity.title,
            "description": entity.description,
            "type": entity.spec_type,
            "lifecycle": entity.lifecycle,
            "owner": entity.owner_key,
            "owner_team": entity.owner_team.slug if entity.owner_team_id is not None else None,
            "system": entity.system_key,
            "tags": [str(tag) for tag in entity.tags],
            "orphaned": entity.orphaned,
            "etag": entity.etag,
            "location": str(entity.location) if entity.location_id is not None else None,
            "created_at": self._timestamp(entity.created_at),
            "updated_at": self._timestamp(entity.updated_at),
            "document": entity.document,
        }
        # ?fields= removes fields from self.fields (portal.api.viewsets); without it they are never built.
        shown = self.__dict__.get("fields")
        return data if shown is None else {name: data[name] for name in shown if name in data}

    def _detail_url(self, pk) -> str:
        return f"{self._page()[0]}{pk}/"

    def _timestamp(self, value) -> str:
        # DRF's DateTimeField, less its per-value look-ups: in the current time zone, ISO 8601, "Z" for UTC.
        text = value.astimezone(self._page()[1]).isoformat()
        return f"{text[:-6]}Z" if text.endswith("+00:00") else text

    def _page(self):
        """(the detail URLs' prefix, the time zone), worked out once for a page rather than once a row."""
        root = self.parent if self.parent is not None else self
        page = getattr(root, "_page_constants", None)
        if page is None:
            # The detail route is the list's path plus "<pk>/" (a SimpleRouter: catalog/api/urls.py).
            request = self.context.get("request")
            path = reverse("entity-list")
            prefix = request.build_absolute_uri(path) if request is not None else path
            page = root._page_constants = (prefix, timezone.get_current_timezone())
        return page


def _brief(entity) -> dict | None:
    if entity is None:
        return None
    return {
        "id": entity.id,
        "ref": entity.ref_key,
        "kind": entity.kind,
        "namespace": entity.namespace,
        "name": entity.name,
        "title": entity.title,
    }


class EntityDetailSerializer(EntitySerializer):
    relations = RelationSerializer(
        source="relation_views",
        many=True,
        read_only=True,
        help_text="Both directions, at most 200; every one at /relations/.",
    )
    relations_truncated = serializers.BooleanField(read_only=True)

    class Meta(EntitySerializer.Meta):
        fields = [*EntitySerializer.Meta.fields, "relations", "relations_truncated"]
        read_only_fields = fields

    def to_representation(self, entity):
        data = super().to_representation(entity)
        shown = self.__dict__.get("fields")
        if shown is None or "relations" in shown:
            data["relations"] = [
                {
                    "type": view.type,
                    "direction": view.direction,
                    "target_ref": view.target_ref,
                    "resolved": view.target is not None,
                    "target": _brief(view.target),
                }
                for view in entity.relation_views
            ]
        if shown is None or "relations_truncated" in shown:
            data["relations_truncated"] = entity.relations_truncated
        return data


class EntityDocumentSerializer(serializers.Serializer):
    """An entity document as Backstage writes it (catalog-info.yaml, as JSON). Validated by catalog.validation."""

    apiVersion = serializers.CharField(help_text="e.g. backstage.io/v1alpha1")
    kind = serializers.CharField(help_text="e.g. Component")
    metadata = serializers.DictField(help_text="name, namespace, title, description, labels, annotations, tags, links")
    spec = serializers.DictField(required=False, help_text="Kind-specific: type, lifecycle, owner, system...")


class ProblemSerializer(serializers.Serializer):
    source = serializers.CharField()
    index = serializers.IntegerField(allow_null=True)
    field = serializers.CharField()
    rule = serializers.CharField()
    message = serializers.CharField()


class RefusedEntitySerializer(serializers.Serializer):
    index = serializers.IntegerField(allow_null=True, help_text="The document in its source, from 0 (as `problems`).")
    ref = serializers.CharField(allow_null=True, help_text="kind:namespace/name, or null when the document names none.")
    problems = ProblemSerializer(many=True)


class ImportLocationSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="upload, file or url")
    target = serializers.CharField()
    created = serializers.ListField(child=serializers.CharField(), help_text="References of the entities created.")
    updated = serializers.ListField(child=serializers.CharField())
    unchanged = serializers.ListField(child=serializers.CharField())
    orphaned = serializers.ListField(child=serializers.CharField())
    refused_entities = RefusedEntitySerializer(
        many=True, help_text="Each document refused, with its problems; an entity stored before keeps that version."
    )
    problems = ProblemSerializer(many=True, help_text="The problems of refused_entities, one list.")
    refused = serializers.CharField(help_text="Non-empty when nothing of this location was written, and why.")


class ImportTotalsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    orphaned = serializers.IntegerField()
    entities_refused = serializers.IntegerField()
    problems = serializers.IntegerField()
    warnings = serializers.IntegerField()
    refused = serializers.IntegerField(help_text="Locations of which nothing was written.")


class ImportReportSerializer(serializers.Serializer):
    """What an import did: per location, each entity created, updated, unchanged or refused with its problems."""

    ok = serializers.BooleanField(help_text="Nothing refused.")
    status = serializers.IntegerField(
        help_text="0: everything applied; 1: something refused, the rest applied; 2: nothing applied."
    )
    outcome = serializers.ChoiceField(choices=["applied", "partial", "nothing applied"])
    rolled_back = serializers.CharField(help_text="With atomic=true: why nothing was written; empty otherwise.")
    totals = ImportTotalsSerializer()
    problems = ProblemSerializer(many=True, help_text="Reading problems: YAML, sizes, Location targets not followed.")
    warnings = ProblemSerializer(many=True, help_text="Reported, not refused: a missing optional target.")
    locations = ImportLocationSerializer(many=True)


class ImportRefusedSerializer(ImportReportSerializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class ValidateResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    problems = ProblemSerializer(many=True)


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class FacetsSerializer(serializers.Serializer):
    facets = serializers.DictField(
        child=FacetValueSerializer(many=True),
        help_text="Per facet (kind, type, owner, lifecycle, system, tag): values by count, at most 100.",
    )


class GraphNodeSerializer(serializers.Serializer):
    ref = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField()
    id = serializers.IntegerField(allow_null=True, help_text="null for a reference to no entity (yet).")
    depth = serializers.IntegerField()
    resolved = serializers.BooleanField()
    expanded = serializers.BooleanField(help_text="False when its own neighbours were not fetched (depth or size).")


class GraphEdgeSerializer(serializers.Serializer):
    source = serializers.CharField()
    type = serializers.CharField()
    target = serializers.CharField()


class GraphSerializer(serializers.Serializer):
    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)
