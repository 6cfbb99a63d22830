"""The catalog: Backstage-shaped entities, where they came from, and the relations between them.

`Entity.document` is the entity as written (apiVersion, kind, metadata, spec
and anything else), so an export gives back what was imported. The other
columns are copies of fields from it, kept so that lists, filters, facets and
search are plain indexed queries; `catalog.services` is the only code that
writes them, always from the document.
"""

from django.db import models
from django.db.models.functions import Lower


class Location(models.Model):
    """A source of entities: a file or folder, a URL, an upload, the API, or AWS discovery."""

    class Type(models.TextChoices):
        FILE = "file", "File"
        URL = "url", "URL"
        UPLOAD = "upload", "Upload"
        API = "api", "REST API"
        DISCOVERY = "discovery", "AWS discovery"

    type = models.CharField(max_length=16, choices=Type.choices)
    target = models.CharField(max_length=1000, help_text="Path, URL, upload name, or aws:<account>:<region>.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["type", "target"]
        constraints = [models.UniqueConstraint(fields=["type", "target"], name="location_type_target_unique")]

    def __str__(self):
        return f"{self.type}:{self.target}"


class Entity(models.Model):
    uid = models.UUIDField(unique=True, editable=False, help_text="metadata.uid, set by the catalog.")
    api_version = models.CharField(max_length=253)
    kind = models.CharField(max_length=63, help_text="As written, e.g. Component.")
    namespace = models.CharField(max_length=63, default="default")
    name = models.CharField(max_length=63)
    # "kind:namespace/name" in lower case: the identity, unique case-insensitively as in Backstage.
    ref_key = models.CharField(max_length=200, unique=True)
    kind_key = models.CharField(max_length=63, db_index=True, help_text="kind in lower case, for filters.")

    title = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    spec_type = models.CharField(max_length=63, blank=True, db_index=True, help_text="spec.type")
    lifecycle = models.CharField(max_length=63, blank=True, db_index=True, help_text="spec.lifecycle")
    owner_key = models.CharField(max_length=200, blank=True, db_index=True, help_text="spec.owner as a ref key.")
    system_key = models.CharField(max_length=200, blank=True, db_index=True, help_text="spec.system as a ref key.")
    # The portal team that owns it (spec.owner names the team's Group), for permissions and team pages.
    owner_team = models.ForeignKey(
        "portal.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_entities"
    )
    # Words searched by the full-text search: name, title, description, tags (indexed on PostgreSQL).
    search_text = models.TextField(blank=True)

    document = models.JSONField(help_text="The entity as written: apiVersion, kind, metadata, spec...")
    etag = models.CharField(max_length=64, help_text="Hash of the document; changes exactly when it does.")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="entities")
    orphaned = models.BooleanField(
        default=False, db_index=True, help_text="Gone from its location (annotation backstage.io/orphan)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind_key", "namespace", "name"]
        verbose_name_plural = "entities"
        indexes = [
            models.Index(fields=["kind_key", "namespace", "name"], name="entity_kind_ns_name_idx"),
            models.Index(Lower("name"), name="entity_name_lower_idx"),
        ]

    def __str__(self):
        return self.ref

    @property
    def ref(self) -> str:
        return f"{self.kind_key}:{self.namespace}/{self.name}"

    @property
    def owning_team_id(self):
        """For portal.permissions: maintainers of this team may change the entity."""
        return self.owner_team_id

    @property
    def metadata(self) -> dict:
        return self.document.get("metadata", {})

    @property
    def spec(self) -> dict:
        return self.document.get("spec") or {}

    @property
    def annotations(self) -> dict:
        return self.metadata.get("annotations") or {}

    @property
    def labels(self) -> dict:
        return self.metadata.get("labels") or {}

    @property
    def tags(self) -> list:
        return self.metadata.get("tags") or []

    @property
    def links(self) -> list:
        return self.metadata.get("links") or []


class EntityTag(models.Model):
    """One row per tag, so tag filters and tag facet counts are indexed joins on every database."""

    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="tag_rows")
    tag = models.CharField(max_length=63, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "tag"], name="entity_tag_unique")]

    def __str__(self):
        return self.tag


class Relation(models.Model):
    """A relation made by a spec field of `source`, e.g. source ownedBy target.

    The target is kept as a ref key even when no such entity exists yet
    (unresolved); `target` is filled in when it arrives. The opposite
    direction (target ownerOf source) is this same row seen from the target.
    """

    source = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="relations_out")
    type = models.CharField(max_length=32)
    target_key = models.CharField(max_length=200, db_index=True)
    target = models.ForeignKey(Entity, null=True, blank=True, on_delete=models.SET_NULL, related_name="relations_in")

    class Meta:
        ordering = ["type", "target_key"]
        constraints = [
            models.UniqueConstraint(fields=["source", "type", "target_key"], name="relation_unique"),
        ]

    def __str__(self):
        return f"{self.source.ref} {self.type} {self.target_key}"
