"""What the periodic CloudWatch sync keeps of AWS: alarms, the dimensions no ARN holds, and how each sync went.

These rows mirror AWS (the sync overwrites them), so pages read alarm states and dimensions from
the database and never wait on AWS for them.
"""

from django.db import models

from portal.aws.models import AwsSyncState


class CloudWatchSync(AwsSyncState):
    """The state of the CloudWatch sync for one account and region: the last attempt and the last success."""

    class Status(models.TextChoices):
        NEVER = "never", "Not run yet"
        OK = "ok", "OK"
        ERROR = "error", "Error"

    account = models.ForeignKey("aws.AwsAccount", on_delete=models.CASCADE, related_name="cloudwatch_syncs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEVER)
    alarms = models.PositiveIntegerField(default=0, help_text="Alarms found by the last successful run.")

    class Meta:
        ordering = ["account_id", "region"]
        constraints = [models.UniqueConstraint(fields=["account", "region"], name="cloudwatch_sync_account_region")]


class Alarm(models.Model):
    """A CloudWatch metric alarm, as DescribeAlarms last returned it.

    `resource_arn` is the resource its namespace and dimensions name (observability.metrics.dimensions), so
    an entity's alarms are one indexed lookup by the ARNs of its resources.
    """

    class State(models.TextChoices):
        OK = "OK", "OK"
        ALARM = "ALARM", "In alarm"
        INSUFFICIENT_DATA = "INSUFFICIENT_DATA", "Insufficient data"

    account = models.ForeignKey("aws.AwsAccount", on_delete=models.CASCADE, related_name="alarms")
    region = models.CharField(max_length=32)
    arn = models.CharField(max_length=1600, unique=True)
    name = models.CharField(max_length=255)
    namespace = models.CharField(max_length=255, blank=True)
    metric_name = models.CharField(max_length=255, blank=True)
    dimensions = models.JSONField(default=dict, blank=True, help_text="Dimension name -> value.")
    statistic = models.CharField(max_length=32, blank=True, help_text="Sum, Average... or a percentile (p99).")
    period = models.PositiveIntegerField(null=True, blank=True)
    evaluation_periods = models.PositiveIntegerField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    comparison_operator = models.CharField(max_length=64, blank=True)
    unit = models.CharField(max_length=32, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.INSUFFICIENT_DATA, db_index=True)
    state_reason = models.TextField(blank=True)
    state_updated_at = models.DateTimeField(null=True, blank=True)
    resource_arn = models.CharField(max_length=1600, blank=True, db_index=True)
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return f"{self.name} ({self.state})"

    @property
    def comparison_symbol(self) -> str:
        return {
            "GreaterThanOrEqualToThreshold": "≥",
            "GreaterThanThreshold": ">",
            "LessThanThreshold": "<",
            "LessThanOrEqualToThreshold": "≤",
        }.get(self.comparison_operator, self.comparison_operator)


class ResourceDimensions(models.Model):
    """Dimensions of a resource that its ARN does not hold, learnt by the sync.

    A target group's LoadBalancer (DescribeTargetGroups) and a REST API's ApiName (GetRestApis).
    """

    account = models.ForeignKey("aws.AwsAccount", on_delete=models.CASCADE, related_name="resource_dimensions")
    region = models.CharField(max_length=32)
    arn = models.CharField(max_length=1600, unique=True)
    dimensions = models.JSONField(default=dict)
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["arn"]
        verbose_name_plural = "resource dimensions"

    def __str__(self):
        return self.arn
