"""Writes of observability: the periodic CloudWatch sync of one account and region.

`cloudwatch_sync(account=, region=)` reads from AWS, then writes in one transaction:

- the alarms (DescribeAlarms, 100 a page), each matched to the resource its namespace and
  dimensions name (`Alarm.resource_arn`); alarms AWS no longer lists are deleted;
- the dimensions no ARN holds (`ResourceDimensions`): a target group's LoadBalancer from
  DescribeTargetGroups, a REST API's ApiName from GetRestApis. Each is read only when the catalog
  holds such resources in that account and region (or an alarm names a REST API), so an account
  without ALBs or REST APIs costs one paged DescribeAlarms and nothing more.

Why the sync, and not the component's load-balancer Resource, gives a target group its
LoadBalancer: one ALB often fronts many services and is tagged with none of them (or with the
platform team's), and a target group's ARN does not name its load balancer; DescribeTargetGroups
says exactly which load balancers route to each target group, in ceil(n/400) calls for a whole
region, and a page then reads it from the database without calling AWS.

The rows mirror AWS's state and are overwritten every few minutes, so they are not audited (the
audit log would fill with state changes that CloudWatch's own alarm history already records);
configuration changes stay audited where people make them. Not one transaction around the AWS
calls: they must not hold a database transaction open. Safe to run twice.
"""

import logging

from django.db import transaction
from django.utils import timezone

from catalog.selectors import discovered_resources_exist
from observability.metrics import aws
from observability.metrics.dimensions import alarm_resource_arn
from observability.metrics.version import alarms_changed
from observability.models import Alarm, CloudWatchSync, ResourceDimensions
from portal.aws.errors import AwsError

logger = logging.getLogger(__name__)

ALARM_FIELDS = (
    "name",
    "namespace",
    "metric_name",
    "dimensions",
    "statistic",
    "period",
    "evaluation_periods",
    "threshold",
    "comparison_operator",
    "unit",
    "state",
    "state_reason",
    "state_updated_at",
    "resource_arn",
)


def cloudwatch_sync(*, account, region: str) -> CloudWatchSync:
    """Sync one account and region, and record how it went on its CloudWatchSync row."""
    run, _ = CloudWatchSync.objects.get_or_create(account=account, region=region)
    run.record_start()
    try:
        alarms = aws.describe_alarms(account, region)
    except AwsError as exc:
        logger.warning("Alarm sync of %s in %s failed: %s", account, region, exc, extra={"aws_error": exc.code})
        return run.record_finish(status=CloudWatchSync.Status.ERROR, error=str(exc), error_code=exc.code)

    problems: list[AwsError] = []
    load_balancers: dict[str, list[str]] | None = None
    api_names: dict[str, str] | None = None
    if discovered_resources_exist(account_id=account.account_id, region=region, spec_type="target-group"):
        try:
            load_balancers = aws.target_group_load_balancers(account, region)
        except AwsError as exc:
            problems.append(exc)
    names_apis = any(a.namespace == "AWS/ApiGateway" and "ApiName" in a.dimensions for a in alarms)
    if names_apis or discovered_resources_exist(account_id=account.account_id, region=region, spec_type="api-gateway"):
        try:
            api_names = aws.rest_api_names(account, region)
        except AwsError as exc:
            problems.append(exc)

    now = timezone.now()
    # Names are unique per account and region in API Gateway only by convention; the first id wins.
    api_ids = {}
    for api_id, name in sorted((api_names or {}).items()):
        api_ids.setdefault(name, api_id)
    with transaction.atomic():
        _store_alarms(account, region, alarms, api_ids=api_ids, now=now)
        if load_balancers is not None or api_names is not None:
            _store_dimensions(account, region, load_balancers, api_names, now=now)
    if problems:
        error = " ".join(str(p) for p in problems)
        logger.warning("CloudWatch dimension lookups of %s in %s failed: %s", account, region, error)
        return run.record_finish(status=CloudWatchSync.Status.ERROR, error=error, error_code=problems[0].code)
    return run.record_finish(status=CloudWatchSync.Status.OK, alarms=len(alarms))


def _store_alarms(account, region: str, alarms: list[aws.AlarmInfo], *, api_ids: dict[str, str], now) -> None:
    existing = {a.arn: a for a in Alarm.objects.select_for_update().filter(account=account, region=region)}
    to_create, to_update = [], []
    changed = False
    for info in alarms:
        values = {
            "name": info.name,
            "namespace": info.namespace,
            "metric_name": info.metric_name,
            "dimensions": info.dimensions,
            "statistic": info.statistic,
            "period": info.period,
            "evaluation_periods": info.evaluation_periods,
            "threshold": info.threshold,
            "comparison_operator": info.comparison_operator,
            "unit": info.unit,
            "state": info.state,
            "state_reason": info.state_reason,
            "state_updated_at": info.state_updated_at,
            "resource_arn": alarm_resource_arn(
                account_id=account.account_id,
                region=region,
                namespace=info.namespace,
                dimensions=info.dimensions,
                api_ids=api_ids,
            ),
        }
        row = existing.pop(info.arn, None)
        if row is None:
            to_create.append(Alarm(account=account, region=region, arn=info.arn, synced_at=now, **values))
            continue
        if any(getattr(row, name) != value for name, value in values.items()):
            changed = True
        for name, value in values.items():
            setattr(row, name, value)
        row.synced_at = now
        to_update.append(row)
    # Two syncs of one account and region may overlap (make run's first sync and beat's, say): an alarm the other
    # has just created is left as it made it, and the next sync brings it up to date.
    Alarm.objects.bulk_create(to_create, batch_size=500, ignore_conflicts=True)
    Alarm.objects.bulk_update(to_update, [*ALARM_FIELDS, "synced_at"], batch_size=500)
    if existing:  # gone from AWS
        Alarm.objects.filter(pk__in=[a.pk for a in existing.values()]).delete()
    if changed or to_create or existing:
        # Only synced_at moved otherwise: what is cached from the alarms (observability.metrics.version) stays valid.
        alarms_changed()


def _store_dimensions(
    account, region: str, load_balancers: dict[str, list[str]] | None, api_names: dict[str, str] | None, *, now
) -> None:
    learnt: dict[str, dict] = {}
    for group_arn, balancers in (load_balancers or {}).items():
        # ALB metrics carry the load balancer as the suffix of its ARN: app/<name>/<id>. A target group on
        # several ALBs (rare) is charted on the first; the others' traffic is left out (docs/observability.md).
        suffix = balancers[0].split(":loadbalancer/", 1)[-1] if balancers else ""
        learnt[group_arn] = {"LoadBalancer": suffix}
    for api_id, name in (api_names or {}).items():
        learnt[f"arn:aws:apigateway:{region}::/restapis/{api_id}"] = {"ApiName": name}
    kinds = []
    if load_balancers is not None:
        kinds.append(":targetgroup/")
    if api_names is not None:
        kinds.append("::/restapis/")
    existing = {
        row.arn: row
        for row in ResourceDimensions.objects.select_for_update().filter(account=account, region=region)
        if any(kind in row.arn for kind in kinds)
    }
    to_create, to_update = [], []
    for arn, dimensions in learnt.items():
        row = existing.pop(arn, None)
        if row is None:
            to_create.append(
                ResourceDimensions(account=account, region=region, arn=arn, dimensions=dimensions, synced_at=now)
            )
        else:
            row.dimensions, row.synced_at = dimensions, now
            to_update.append(row)
    ResourceDimensions.objects.bulk_create(to_create, batch_size=500, ignore_conflicts=True)  # as for alarms
    ResourceDimensions.objects.bulk_update(to_update, ["dimensions", "synced_at"], batch_size=500)
    if existing:
        ResourceDimensions.objects.filter(pk__in=[r.pk for r in existing.values()]).delete()
