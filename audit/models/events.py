from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AppendOnlyError(Exception):
    """Raised when anything tries to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Audit events cannot be deleted.")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be updated.")

    # The two changes the log allows, each for one service of audit/seals/ and each the one the PostgreSQL
    # trigger (migration 0005) lets through: a seal given to unsealed events, and removing archived events.

    def _seal(self, seal_id: int) -> int:
        """Give the events of this queryset (all unsealed) the seal `seal_id`; the number of rows changed."""
        return super().update(seal_id=seal_id)

    def _delete_archived(self) -> int:
        """Remove the events of this queryset, whose seals were archived to a file (audit.seals.archive)."""
        return self._raw_delete(self.db)


class AuditEvent(models.Model):
    """One thing done through the portal. Written once, never changed.

    References to the actor and target are kept without database constraints
    and with a text label beside them, so deleting a user or an object neither
    rewrites nor removes its history. On PostgreSQL a trigger (migration 0002)
    also refuses UPDATE and DELETE, for writes that bypass the ORM.
    """

    class Source(models.TextChoices):
        UI = "ui", "UI"
        API = "api", "API"
        TASK = "task", "Task"
        SYSTEM = "system", "System"  # a management command, a shell, a migration

    class ActorKind(models.TextChoices):
        USER = "user", "User"
        TOKEN = "token", "API token"
        SYSTEM = "system", "System"

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        "portal.User", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_token = models.ForeignKey(
        "portal.ApiToken", null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=100, help_text="<thing>.<verb>, e.g. token.create")
    target_type = models.CharField(max_length=100, blank=True, help_text="app_label.model")
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    request_id = models.CharField(max_length=128, blank=True)
    source_ip = models.GenericIPAddressField(null=True)
    source = models.CharField(max_length=8, choices=Source.choices, blank=True)
    # The team the target belongs to (a team itself, an entity's owner), for the team's audit page; no
    # constraint, like the actor's references.
    team_id = models.BigIntegerField(null=True, blank=True)
    # SHA-256 of the fields above (audit.hashing), computed at insert from this row alone, so writers never
    # wait on each other; the seals (audit/seals/) chain these hashes, not the rows.
    content_hash = models.CharField(max_length=64, blank=True)
    # Set once, from NULL, by the sealer: the explicit membership that lets an event which commits late (a
    # lower id than events already sealed) be taken by the next seal instead of skipped.
    seal = models.ForeignKey(
        "audit.AuditSeal",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="events",
    )

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
            # Not db_index=True on the fields: on PostgreSQL that adds a LIKE twin of each index, which every
            # event written (thousands in a catalog import) paid for and no query uses.
            models.Index(fields=["action"], name="audit_action_idx"),
            models.Index(fields=["request_id"], name="audit_request_id_idx"),
            models.Index(fields=["team_id", "id"], name="audit_team_idx"),
            models.Index(fields=["actor_user", "id"], name="audit_actor_idx"),
            # Verification reads a seal's events in id order; the sealer finds what is left to seal from a
            # small partial index, whatever the size of the log.
            models.Index(fields=["seal", "id"], name="audit_seal_idx"),
            models.Index(fields=["id"], condition=Q(seal__isnull=True), name="audit_unsealed_idx"),
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")
