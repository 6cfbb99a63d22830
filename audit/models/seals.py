"""Seals over the audit events (audit/seals/), after CloudTrail's log file integrity validation: each event
carries its own content hash; every minute a seal covers the events committed since the last one (their ids,
count and a hash over their hashes in id order), names the previous seal's hash and is signed with a key the
database never holds. docs/audit.md explains the design."""

from django.db import models


class SealedRecordError(Exception):
    """Raised when anything tries to change or remove a seal or an archive record."""


class AuditArchive(models.Model):
    """A file that holds expired events with their seals (JSON Lines), written before the events were removed.

    The seals stay in the database (marked with their archive), so the chain is still whole and
    `audit_verify --archive FILE` checks the file against them, or on its own."""

    created_at = models.DateTimeField()
    path = models.CharField(max_length=500, help_text="where the file was written")
    sha256 = models.CharField(max_length=64, help_text="of the whole file")
    first_seal_number = models.BigIntegerField()
    last_seal_number = models.BigIntegerField()
    event_count = models.BigIntegerField()
    first_occurred_at = models.DateTimeField()
    last_occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"archive of seals #{self.first_seal_number}-#{self.last_seal_number} ({self.event_count} events)"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise SealedRecordError("Archive records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise SealedRecordError("Archive records cannot be deleted.")


class AuditSealQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise SealedRecordError("Seals cannot be changed.")

    def delete(self):
        raise SealedRecordError("Seals cannot be deleted.")

    def _archive(self, archive_id: int) -> int:
        """The one change a seal takes (and the trigger allows): which archive now holds its events."""
        return super().update(archive_id=archive_id)


class AuditSeal(models.Model):
    """A signed statement over a batch of events: which ids, how many, and a hash over their content hashes.

    `ranges` lists the sealed ids as [first, last] runs: ids are mostly consecutive, and a run is what the
    sealer saw committed; an id missing between two runs was not committed then (a late or rolled-back
    transaction) and is taken by a later seal if it ever commits."""

    number = models.BigIntegerField(unique=True, help_text="1, 2, 3...: the chain's order")
    created_at = models.DateTimeField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    count = models.BigIntegerField()
    ranges = models.JSONField(help_text="the sealed ids, as [first, last] runs")
    first_occurred_at = models.DateTimeField()
    last_occurred_at = models.DateTimeField()
    events_digest = models.CharField(max_length=64, help_text="SHA-256 over 'id:content_hash' lines, in id order")
    previous_hash = models.CharField(max_length=64, help_text="the previous seal's hash; zeros for the first")
    hash = models.CharField(max_length=64, help_text="SHA-256 over this seal's fields above")
    key_id = models.CharField(max_length=32, help_text="which key signed it (a fingerprint, not the key)")
    signature = models.CharField(max_length=200)
    archive = models.ForeignKey(
        AuditArchive, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="seals"
    )

    objects = AuditSealQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        indexes = [models.Index(fields=["first_id", "last_id"], name="audit_seal_ids_idx")]

    def __str__(self):
        return f"seal #{self.number} ({self.count} events, ids {self.first_id}-{self.last_id})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise SealedRecordError("Seals cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise SealedRecordError("Seals cannot be deleted.")


class AuditVerification(models.Model):
    """One run of `audit_verify` (or its daily task): what it checked and the first problem it found."""

    class Scope(models.TextChoices):
        DATABASE = "database", "Database"
        ARCHIVE = "archive", "Archive file"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.DATABASE)
    since = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField()
    events_checked = models.BigIntegerField(default=0)
    seals_checked = models.BigIntegerField(default=0)
    problem_count = models.IntegerField(default=0)
    first_problem = models.TextField(blank=True)
    # The first problem's subject, for a link from the audit page: an event id, or a seal number.
    first_problem_event_id = models.BigIntegerField(null=True, blank=True)
    first_problem_seal_number = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-finished_at", "-id"]

    def __str__(self):
        return f"verification at {self.finished_at:%Y-%m-%d %H:%M}: {'ok' if self.ok else self.first_problem}"
