import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")

validate_account_id = RegexValidator(r"^\d{12}$", "An AWS account id is exactly 12 digits.")


def validate_role_arn(value: str) -> None:
    if value and not _ROLE_ARN.match(value):
        raise ValidationError(
            "Expected an IAM role ARN such as arn:aws:iam::111111111111:role/meridian-read.", code="invalid"
        )


def validate_regions(value) -> None:
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise ValidationError("Regions are a list of region names.", code="invalid")
    bad = [r for r in value if not _REGION.match(r)]
    if bad:
        raise ValidationError(f"Not AWS region names: {', '.join(bad)} (expected e.g. eu-west-1).", code="invalid")


class AwsAccount(models.Model):
    """An AWS account the portal reads, and how it gets in.

    Changed by portal admins only: `owning_team_id` is None, so
    portal.permissions.can() grants changes to nobody but them.
    """

    class Status(models.TextChoices):
        UNKNOWN = "unknown", "Not verified yet"
        OK = "ok", "OK"
        ERROR = "error", "Error"

    name = models.SlugField(max_length=63, unique=True, help_text="A short name, e.g. payments-prod.")
    account_id = models.CharField(max_length=12, unique=True, validators=[validate_account_id])
    role_arn = models.CharField(
        max_length=600,
        blank=True,
        validators=[validate_role_arn],
        help_text="The role the portal assumes in this account. Empty: use the portal's own credentials.",
    )
    external_id = models.CharField(
        max_length=1224, blank=True, help_text="The ExternalId the role's trust policy requires, if any."
    )
    regions = models.JSONField(
        default=list, blank=True, validators=[validate_regions], help_text='e.g. ["eu-west-1", "us-east-1"]'
    )
    enabled = models.BooleanField(default=True, help_text="Disabled accounts are neither verified nor synced.")

    # What the last verification found (written by the aws_account_verify task).
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.UNKNOWN)
    last_verified_at = models.DateTimeField(null=True, blank=True, help_text="When the last verification ran.")
    last_error = models.TextField(blank=True)
    last_error_code = models.CharField(max_length=32, blank=True, help_text="e.g. access_denied, endpoint_unreachable")
    identity_arn = models.CharField(max_length=600, blank=True, help_text="Who AWS said the portal was, when OK.")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Not owned by a team: only portal admins may change accounts (see portal.permissions.can).
    owning_team_id = None

    VERIFICATION_FIELDS = ("status", "last_verified_at", "last_error", "last_error_code", "identity_arn")

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "AWS account"

    def __str__(self):
        return f"{self.name} ({self.account_id})"

    def clean(self):
        found = _ROLE_ARN.match(self.role_arn or "")
        if found and self.account_id and found.group(1) != self.account_id:
            raise ValidationError(
                {"role_arn": f"This role is in account {found.group(1)}, not {self.account_id}: check both."}
            )

    @property
    def home_region(self) -> str:
        return self.regions[0] if self.regions else settings.AWS_DEFAULT_REGION


class AwsSyncState(models.Model):
    """What a periodic AWS sync of one account and region did last: when it started and finished, when AWS last
    answered in full, and why the last attempt failed. One row per account and region, updated by each run;
    pages read it to say how fresh their data is. Subclasses add the account (with their own related_name),
    `status` with their Status choices (OK = "ok"), and the counts of a successful run."""

    region = models.CharField(max_length=32)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True, help_text="When AWS last answered in full.")
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=32, blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.account_id}/{self.region}: {self.status}"

    def record_start(self) -> None:
        self.started_at = timezone.now()
        self.save(update_fields=["started_at"])

    def record_finish(self, *, status: str, error: str = "", error_code: str = "", **counts):
        """Store how the run ended; on success also its counts (fields of the subclass) and the success time."""
        now = timezone.now()
        self.status, self.finished_at, self.error, self.error_code = status, now, error, error_code
        fields = ["status", "finished_at", "error", "error_code"]
        if status == self.Status.OK:
            self.last_success_at = now
            fields.append("last_success_at")
            for name, value in counts.items():
                setattr(self, name, value)
                fields.append(name)
        self.save(update_fields=fields)
        return self
