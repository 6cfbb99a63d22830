"""Every annotation the portal reads or writes, by name, in one place (Backstage's "well-known annotations").

Backstage's own, and those of the AWS plugins for Backstage, keep their names, so catalog files written for
Backstage mean the same here; the portal's own start with `meridian.io/`. docs/catalog.md and
docs/observability.md say what each one does.
"""

# The catalog (catalog.services, catalog.exporting).
ORPHAN_ANNOTATION = "backstage.io/orphan"  # "true" while an entity is gone from its location

# Written by AWS discovery (catalog.discovery) on the Resources it finds; read by every app that goes from an
# entity to its AWS resource.
ARN_ANNOTATION = "amazonaws.com/arn"  # Backstage's AWS catalog module
ACCOUNT_ANNOTATION = "amazonaws.com/account-id"  # Backstage's AWS catalog module
REGION_ANNOTATION = "meridian.io/aws-region"
TAGS_ANNOTATION = "meridian.io/aws-tags"  # the resource's tags, "k=v,k2=v2"
ECS_SERVICE_ARN_ANNOTATION = "aws.amazon.com/amazon-ecs-service-arn"  # AWS's ECS plugin for Backstage
ECS_SERVICE_TAGS_ANNOTATION = "aws.amazon.com/amazon-ecs-service-tags"  # AWS's ECS plugin: k=v,k2=v2 selecting
LAMBDA_NAME_ANNOTATION = "aws.com/lambda-function-name"  # the Lambda plugin for Backstage
LAMBDA_REGION_ANNOTATION = "aws.com/lambda-region"

# Scorecards (catalog.scorecard_rules): where the runbook and the on-call rota are.
RUNBOOK_ANNOTATION = "meridian.io/runbook"
ONCALL_ANNOTATION = "meridian.io/oncall"
ONCALL_ANNOTATION_PREFIXES = ("pagerduty.com/", "opsgenie.com/")  # any annotation of the PagerDuty or Opsgenie plugins

# Observability (observability.metrics, observability.xray, observability.sagas).
CLOUDWATCH_METRICS_ANNOTATION = "meridian.io/cloudwatch-metrics"  # more metrics on the Metrics tab, one a line
XRAY_NAME_ANNOTATION = "meridian.io/xray-service-name"  # the name X-Ray shows the entity under
SAGA_ANNOTATION = "meridian.io/saga"  # "true" / "false": whether a state machine is a saga
STATE_MACHINE_ANNOTATION = "meridian.io/saga-state-machine"  # on a Component: the ARN of its saga
COMPENSATIONS_ANNOTATION = "meridian.io/saga-compensations"  # the states that compensate, comma-separated
STUCK_AFTER_ANNOTATION = "meridian.io/saga-stuck-after"  # "15m", "2h": when a running execution is stuck
