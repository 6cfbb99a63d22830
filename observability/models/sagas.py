"""What the saga sync keeps of Step Functions: the state machines linked to the catalog, their executions
with their outcomes and timelines, and the alerts people must look at."""

from django.conf import settings
from django.db import models

from observability.sagas.outcomes import OUTCOME_LABELS


class SagaStateMachine(models.Model):
    """A Step Functions state machine linked to the catalog, and the state of its saga sync.

    One row per state machine ARN that a Resource entity or a Component annotation names
    (observability.sagas.services.saga_machines_refresh), saga or not: the sync reads the definition
    of each, decides whether it is a saga (observability.sagas.marking) and reads the executions of sagas.
    """

    class Status(models.TextChoices):
        NEVER = "never", "Not run yet"
        OK = "ok", "OK"
        ERROR = "error", "Error"

    account = models.ForeignKey("aws.AwsAccount", on_delete=models.CASCADE, related_name="saga_state_machines")
    region = models.CharField(max_length=32)
    arn = models.CharField(max_length=1600, unique=True)
    name = models.CharField(max_length=80)
    # The catalog's side: its state-machine Resource (if discovered or written), the Component it belongs to,
    # and the team that owns it (the component's, else the resource's), for team pages and permissions.
    resource = models.ForeignKey(
        "catalog.Entity", null=True, blank=True, on_delete=models.SET_NULL, related_name="saga_machines"
    )
    component = models.ForeignKey(
        "catalog.Entity", null=True, blank=True, on_delete=models.SET_NULL, related_name="saga_component_machines"
    )
    owner_team = models.ForeignKey(
        "portal.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="saga_state_machines"
    )
    tracked = models.BooleanField(default=True, help_text="Still linked to the catalog; untracked ones are not synced.")

    # What the definition and the catalog say (observability.sagas.marking.decide).
    is_saga = models.BooleanField(default=False, db_index=True)
    saga_reason = models.CharField(max_length=300, blank=True)
    compensations = models.JSONField(default=dict, blank=True, help_text="Compensation state -> the step it undoes.")
    compensations_source = models.CharField(max_length=200, blank=True)
    states = models.JSONField(null=True, blank=True, help_text="The definition's state names; null until read.")
    definition_read_at = models.DateTimeField(null=True, blank=True)
    stuck_after_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="From meridian.io/saga-stuck-after; empty: SAGA_STUCK_AFTER_SECONDS."
    )

    # The sync: the last attempt and the last success, as DiscoveryRun and CloudWatchSync keep them.
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEVER)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True, help_text="When AWS last answered in full.")
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A sync holds the machine until then, so two never run at once."
    )
    last_listed = models.PositiveIntegerField(default=0, help_text="New executions the last run listed.")
    last_histories = models.PositiveIntegerField(default=0, help_text="Histories the last run read.")
    last_calls = models.JSONField(default=dict, blank=True, help_text="AWS calls of the last run, by operation.")

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["tracked", "is_saga"], name="saga_machine_tracked_idx")]

    def __str__(self):
        return self.name or self.arn

    @property
    def owning_team_id(self):
        """For portal.permissions: maintainers of the owning team may ask for a sync."""
        return self.owner_team_id


class SagaExecution(models.Model):
    """One execution of a saga and what became of it (observability.sagas.outcomes).

    The ARN is unique: the sync inserts what ListExecutions lists and reads each history until the
    execution has finished (`history_final`); a finished execution's history is never read again.
    """

    PENDING = "pending"  # listed, history not read yet
    OUTCOMES = [(PENDING, "Not read yet"), *((str(o), label) for o, label in OUTCOME_LABELS.items())]

    state_machine = models.ForeignKey(SagaStateMachine, on_delete=models.CASCADE, related_name="executions")
    arn = models.CharField(max_length=1600, unique=True)
    name = models.CharField(max_length=80)
    status = models.CharField(max_length=16, help_text="RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED")
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=OUTCOMES, default=PENDING)
    failed_step = models.CharField(max_length=80, blank=True)
    compensations = models.JSONField(default=list, blank=True, help_text="Compensation states that ran, in order.")
    failed_compensation = models.CharField(max_length=80, blank=True)
    error = models.CharField(max_length=256, blank=True)
    cause = models.TextField(blank=True)
    states = models.JSONField(default=list, blank=True, help_text="The states it went through, for the timeline.")
    history_events = models.PositiveIntegerField(default=0)
    history_read_at = models.DateTimeField(null=True, blank=True)
    history_final = models.BooleanField(default=False, help_text="Finished and read: never read again.")
    history_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["state_machine", "-started_at"], name="saga_execution_started_idx"),
            models.Index(fields=["state_machine", "outcome", "-started_at"], name="saga_execution_outcome_idx"),
            models.Index(fields=["state_machine", "history_final"], name="saga_execution_pending_idx"),
        ]

    def __str__(self):
        return self.name

    @property
    def outcome_label(self) -> str:
        return dict(self.OUTCOMES).get(self.outcome, self.outcome)

    @property
    def duration(self):
        return self.stopped_at - self.started_at if self.stopped_at else None


class SagaAlert(models.Model):
    """A saga execution people must look at: a compensation failed (the saga left something half done), or it is
    stuck. One per execution and kind (the unique constraint makes raising it idempotent); written to the audit
    log when raised and when resolved."""

    class Kind(models.TextChoices):
        COMPENSATION_FAILED = "compensation_failed", "Compensation failed"
        STUCK = "stuck", "Stuck"

    execution = models.ForeignKey(SagaExecution, on_delete=models.CASCADE, related_name="alerts")
    state_machine = models.ForeignKey(SagaStateMachine, on_delete=models.CASCADE, related_name="alerts")
    owner_team = models.ForeignKey(
        "portal.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="saga_alerts"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.TextField()
    raised_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="A stuck execution that has since finished.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["execution", "kind"], name="saga_alert_execution_kind")]
        indexes = [models.Index(fields=["owner_team", "resolved_at"], name="saga_alert_team_open_idx")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.execution}"

    @property
    def owning_team_id(self):
        return self.owner_team_id

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None and self.acknowledged_at is None
