"""The catalog: Backstage-shaped entities, where they came from, and the relations between them.

`Entity.document` is the entity as written (apiVersion, kind, metadata, spec
and anything else), so an export gives back what was imported. The other
columns are copies of fields from it, kept so that lists, filters, facets and
search are plain indexed queries; `catalog.services` is the only code that
writes them, always from the document.
"""

from django.db import models
from django.db.models.functions import Lower

from portal.aws.models import AwsSyncState
from portal.models import Team


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
    # The locations its Location entities led to when it was last imported: one that no location leads to
    # any more has its entities orphaned, as Backstage orphans the children a Location no longer emits.
    children = models.ManyToManyField("self", symmetrical=False, related_name="parents", blank=True)

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
    ref_key = models.CharField(max_length=200)
    kind_key = models.CharField(max_length=63, help_text="kind in lower case, for filters.")

    title = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    spec_type = models.CharField(max_length=63, blank=True, help_text="spec.type")
    lifecycle = models.CharField(max_length=63, blank=True, help_text="spec.lifecycle")
    owner_key = models.CharField(max_length=200, blank=True, help_text="spec.owner as a ref key.")
    system_key = models.CharField(max_length=200, blank=True, help_text="spec.system as a ref key.")
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
        # Declared here rather than with unique=True or db_index=True on the fields: on PostgreSQL those also
        # build a text_pattern_ops twin of each index, for LIKE 'prefix%', which nothing here asks of these
        # columns. The twins made an import of 1,000 entities ~7% slower (docs/benchmarks.md, run 6).
        constraints = [models.UniqueConstraint(fields=["ref_key"], name="entity_ref_key_unique")]
        indexes = [
            # sort=kind, walked in order by the cursor pages.
            models.Index(fields=["kind_key", "namespace", "name"], name="entity_kind_ns_name_idx"),
            # The facet counts of a kind (or of all), read from the index alone on PostgreSQL instead of from
            # rows that carry their whole documents: the counted facets of kind=component at 100,000 entities
            # went from 46 to 13 ms in the database. Other databases index kind_key only.
            models.Index(
                fields=["kind_key"],
                include=["spec_type", "owner_key", "lifecycle", "system_key"],
                name="entity_facets_idx",
            ),
            models.Index(Lower("name"), name="entity_name_lower_idx"),
            # The list sorted by name within a kind (nearly every page filters by kind), walked in order: at
            # 100,000 entities kind+lifecycle+tag fell from 17 ms (join the matches, then sort) to 3 ms.
            models.Index("kind_key", Lower("name"), "id", name="entity_kind_name_idx"),
            # sort=updated / -updated (recently changed first), with id as the tie-break the cursor pages by.
            models.Index(fields=["updated_at", "id"], name="entity_updated_idx"),
            models.Index(fields=["spec_type"], name="entity_spec_type_idx"),
            models.Index(fields=["lifecycle"], name="entity_lifecycle_idx"),
            models.Index(fields=["owner_key"], name="entity_owner_key_idx"),
            models.Index(fields=["system_key"], name="entity_system_key_idx"),
        ]

    def __str__(self):
        return self.ref

    @property
    def ref(self) -> str:
        return f"{self.kind_key}:{self.namespace}/{self.name}"

    @property
    def owning_team_id(self):
        """For portal.permissions: maintainers of this team may change the entity.

        A Group in namespace default is a Team's own entity, whatever its spec.owner says: only that team's
        maintainers change it, and while no Team has its name only portal admins may write it (writing it
        creates the Team). Otherwise a maintainer could declare new Teams, or take another team's Group.
        The rule is kept in owner_team as the entity is written (catalog.services._team_key), so this check
        needs no query; team_id_of_group serves documents not yet stored.
        """
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

    # No database constraint, as for Relation.source: see there.
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="tag_rows", db_constraint=False)
    tag = models.CharField(max_length=63)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "tag"], name="entity_tag_unique")]
        indexes = [models.Index(fields=["tag"], name="entity_tag_tag_idx")]  # as Entity's: no LIKE twin

    def __str__(self):
        return self.tag


class Relation(models.Model):
    """A relation made by a spec field of `source`, e.g. source ownedBy target.

    The target is kept as a ref key even when no such entity exists yet
    (unresolved); `target` is filled in when it arrives. The opposite
    direction (target ownerOf source) is this same row seen from the target.
    """

    # No database constraint: catalog.services writes a source's relations (and tags) only for entities it has
    # just created or has locked in the same transaction, and entity_delete locks the entity before it deletes
    # them with it, so the reference cannot dangle. PostgreSQL's check of every row cost ~10% of an import
    # (docs/benchmarks.md, run 6). `target` keeps its constraint: targets are looked up, not locked.
    source = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="relations_out", db_constraint=False)
    type = models.CharField(max_length=32)
    target_key = models.CharField(max_length=200)
    target = models.ForeignKey(Entity, null=True, blank=True, on_delete=models.SET_NULL, related_name="relations_in")

    class Meta:
        ordering = ["type", "target_key"]
        constraints = [
            models.UniqueConstraint(fields=["source", "type", "target_key"], name="relation_unique"),
        ]
        indexes = [models.Index(fields=["target_key"], name="relation_target_key_idx")]  # as Entity's: no LIKE twin

    def __str__(self):
        return f"{self.source.ref} {self.type} {self.target_key}"


class ScoreLevel(models.TextChoices):
    """Scorecard levels, lowest first: an entity reaches a level when it passes every rule up to it."""

    NONE = "none", "No level"
    BRONZE = "bronze", "Bronze"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"


class EntityScore(models.Model):
    """The latest scorecard of one entity (only the latest: the history is kept as daily rollups).

    `entity_etag` is the entity's etag when it was scored, so changed entities are found by one
    comparison (catalog.scorecards.compute.scorecards_compute_changed).
    """

    entity = models.OneToOneField(Entity, on_delete=models.CASCADE, primary_key=True, related_name="score")
    level = models.CharField(max_length=8, choices=ScoreLevel.choices, db_index=True)
    passed = models.JSONField(default=list, help_text="Ids of the rules the entity passes.")
    failed = models.JSONField(default=list, help_text="Ids of the rules the entity fails.")
    entity_etag = models.CharField(max_length=64, blank=True)
    # The team and system it was counted under when scored: when an entity moves to another owner or system,
    # the rescore after the change refreshes the rollups it left as well as those it joined.
    owner_key = models.CharField(max_length=200, blank=True)
    system_key = models.CharField(max_length=200, blank=True)
    computed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.entity_id}: {self.level}"


class ScorecardRollup(models.Model):
    """How many entities of one team, one system, or the whole catalog reached each level on one day.

    One row per scope, key and day (re-computing the same day overwrites it), so a team's trend is
    one indexed range read, and the history stays small at 100,000 entities: a row per team and
    system a day, never a row per entity a day.
    """

    class Scope(models.TextChoices):
        TEAM = "team", "Team"  # key: the owner's ref key, e.g. group:default/team-orders
        SYSTEM = "system", "System"  # key: the system's ref key, e.g. system:default/commerce
        CATALOG = "catalog", "Whole catalog"  # key: ""

    scope = models.CharField(max_length=8, choices=Scope.choices)
    key = models.CharField(max_length=200, blank=True)
    day = models.DateField()
    entities = models.PositiveIntegerField(default=0)
    none = models.PositiveIntegerField(default=0)
    bronze = models.PositiveIntegerField(default=0)
    silver = models.PositiveIntegerField(default=0)
    gold = models.PositiveIntegerField(default=0)
    failures = models.JSONField(default=dict, help_text="Rule id -> how many entities fail it.")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["scope", "key", "day"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "key", "day"], name="scorecard_rollup_scope_key_day_unique")
        ]

    def __str__(self):
        return f"{self.scope}:{self.key} {self.day}"


class DiscoveryRun(AwsSyncState):
    """The state of AWS discovery for one account and region: the last attempt and the last success.

    One row per account and region, updated by each run (its log is the audit trail of the
    entities it changed); people read it to see how fresh the discovered resources are and why
    a run failed.
    """

    class Status(models.TextChoices):
        NEVER = "never", "Not run yet"
        OK = "ok", "OK"
        ERROR = "error", "Error"
        REFUSED = "refused", "Refused by the orphan guard"

    account = models.ForeignKey("aws.AwsAccount", on_delete=models.CASCADE, related_name="discovery_runs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEVER)
    found = models.PositiveIntegerField(default=0, help_text="Resources found by the last successful run.")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    orphaned = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["account_id", "region"]
        constraints = [models.UniqueConstraint(fields=["account", "region"], name="discovery_run_account_region")]


def team_id_of_group(name: str) -> int | None:
    """The portal Team a Group of namespace default stands for (its slug is the Group's name), or None."""
    return Team.objects.filter(slug__iexact=name).values_list("pk", flat=True).first()
