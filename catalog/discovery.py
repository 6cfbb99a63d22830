"""AWS discovery: the Resource entities of what the tagging API lists in each account and region.

Each account and region is one Location (type "discovery", target "aws:<account id>:<region>")
applied with `entities_apply(complete=True)`: a resource that AWS no longer lists is marked
orphaned (annotation backstage.io/orphan: "true"), never deleted, and comes back to life if it
reappears. When AWS fails (throttled, unreachable, access denied) nothing is applied, so the
last discovered entities stay as they were; the run records the error on its DiscoveryRun.

How a Resource is written (docs/catalog.md has the full table):

- name: the resource's own name made valid (runs of other characters become "-") and cut to
  fit, then "-" and 8 hex digits of the ARN's SHA-1, so the same name in two regions or accounts
  gives two entities and a rediscovered resource keeps its entity;
- spec.type from the ARN (ecs-service, lambda-function, dynamodb-table, sqs-queue, sns-topic,
  state-machine, api-gateway, event-bus...); spec.owner from the `team` tag (group:default/<team>,
  or group:default/unowned without one);
- linked to its Component by `spec.dependencyOf`: the component named by the tag
  settings.CATALOG_DISCOVERY_SERVICE_TAG (default `service`), and for ECS services also any
  Component whose annotation `aws.amazon.com/amazon-ecs-service-arn` is the service's ARN or
  whose `aws.amazon.com/amazon-ecs-service-tags` (k=v,k2=v2) all match its tags, as AWS's own
  ECS plugin for Backstage selects them;
- annotations: amazonaws.com/arn and amazonaws.com/account-id (Backstage's AWS module),
  meridian.io/aws-region, meridian.io/aws-tags, and the plugin annotations where they fit
  (aws.amazon.com/amazon-ecs-service-arn; aws.com/lambda-function-name and aws.com/lambda-region).
"""

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from catalog.annotations import (
    ACCOUNT_ANNOTATION,
    ARN_ANNOTATION,
    ECS_SERVICE_ARN_ANNOTATION,
    ECS_SERVICE_TAGS_ANNOTATION,
    LAMBDA_NAME_ANNOTATION,
    LAMBDA_REGION_ANNOTATION,
    REGION_ANNOTATION,
    TAGS_ANNOTATION,
)
from catalog.aws import TaggedResource, resource_names, tagged_resources
from catalog.models import DiscoveryRun, Entity, Location
from catalog.services import Incoming, entities_apply, location_for
from catalog.signals import resources_discovered
from catalog.validation import is_valid_name
from portal.actors import Actor
from portal.aws.arns import Arn, parse_arn
from portal.aws.errors import AwsError

logger = logging.getLogger(__name__)

TEAM_TAG = "team"
UNOWNED = "group:default/unowned"

# (ARN service, resource type) -> (spec.type, what people call it). The resource type is the ARN
# resource's first segment ("table" in table/orders); services whose ARNs end in a bare name
# (SQS, SNS, S3) have "".
RESOURCE_TYPES: dict[tuple[str, str], tuple[str, str]] = {
    ("ecs", "service"): ("ecs-service", "ECS service"),
    ("ecs", "cluster"): ("ecs-cluster", "ECS cluster"),
    ("lambda", "function"): ("lambda-function", "Lambda function"),
    ("dynamodb", "table"): ("dynamodb-table", "DynamoDB table"),
    ("sqs", ""): ("sqs-queue", "SQS queue"),
    ("sns", ""): ("sns-topic", "SNS topic"),
    ("states", "stateMachine"): ("state-machine", "Step Functions state machine"),
    ("apigateway", "restapis"): ("api-gateway", "API Gateway REST API"),
    ("apigateway", "apis"): ("api-gateway", "API Gateway HTTP/WebSocket API"),
    ("events", "event-bus"): ("event-bus", "EventBridge event bus"),
    ("events", "rule"): ("eventbridge-rule", "EventBridge rule"),
    ("servicediscovery", "namespace"): ("cloud-map-namespace", "Cloud Map namespace"),
    ("servicediscovery", "service"): ("cloud-map-service", "Cloud Map service"),
    ("rds", "db"): ("rds-instance", "RDS instance"),
    ("rds", "cluster"): ("rds-cluster", "RDS cluster"),
    ("elasticache", "cluster"): ("elasticache-cluster", "ElastiCache cluster"),
    ("elasticache", "replicationgroup"): ("elasticache-replication-group", "ElastiCache replication group"),
    ("kinesis", "stream"): ("kinesis-stream", "Kinesis stream"),
    ("s3", ""): ("s3-bucket", "S3 bucket"),
    ("ec2", "vpc"): ("vpc", "VPC"),
    ("ec2", "subnet"): ("subnet", "subnet"),
    ("ec2", "security-group"): ("security-group", "security group"),
    ("logs", "log-group"): ("log-group", "CloudWatch log group"),
    ("cloudwatch", "alarm"): ("cloudwatch-alarm", "CloudWatch alarm"),
    ("elasticloadbalancing", "loadbalancer"): ("load-balancer", "Application Load Balancer"),
    ("elasticloadbalancing", "targetgroup"): ("target-group", "ALB target group"),
}
# Versions and running instances of something, not things of their own: a task definition gets
# a new revision on every deploy, a task lives minutes. Their service is the Resource.
SKIPPED_TYPES = frozenset({("ecs", "task-definition"), ("ecs", "task"), ("ecs", "container-instance")})
_NOT_NAME_CHARS = re.compile(r"[^A-Za-z0-9]+")


def resource_type(arn: Arn) -> tuple[str, str]:
    """(spec.type, label) of a parsed ARN; unknown ones get "<service>-<type>" from the ARN."""
    known = RESOURCE_TYPES.get((arn.service, arn.resource_type))
    if known:
        return known
    raw = f"{arn.service}-{arn.resource_type}" if arn.resource_type else arn.service
    slug = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", raw)  # stateMachine -> state-Machine
    slug = _NOT_NAME_CHARS.sub("-", slug).strip("-").lower()[:63] or "aws-resource"
    return slug, f"{arn.service} {arn.resource_type}".strip()


def entity_name(arn: Arn) -> str:
    """A valid, deterministic, unique entity name for the ARN (see the module docstring)."""
    digest = hashlib.sha1(arn.arn.encode(), usedforsecurity=False).hexdigest()[:8]
    base = _NOT_NAME_CHARS.sub("-", arn.short_name).strip("-")[: 63 - len(digest) - 1].strip("-")
    return f"{base}-{digest}" if base else f"resource-{digest}"


@dataclass(frozen=True)
class ComponentSelectors:
    """What Components say about which ECS services are theirs (AWS's ECS plugin annotations)."""

    by_arn: dict[str, set[str]]  # ECS service ARN -> component refs
    by_tags: list[tuple[dict[str, str], str]]  # (tags that must all match, component ref)

    def components_for(self, resource: TaggedResource) -> set[str]:
        refs = set(self.by_arn.get(resource.arn, ()))
        refs.update(ref for tags, ref in self.by_tags if tags.items() <= resource.tags.items())
        return refs


def _parse_tag_selector(value) -> dict[str, str]:
    pairs = {}
    for item in str(value or "").split(","):
        key, sep, val = item.partition("=")
        if sep and key.strip():
            pairs[key.strip()] = val.strip()
    return pairs


def component_selectors() -> ComponentSelectors:
    """Components carrying an ECS plugin annotation (one query, their annotations only)."""
    annotations = "document__metadata__annotations"
    rows = (
        Entity.objects.filter(kind_key="component", orphaned=False)
        .filter(
            Q(**{f"{annotations}__has_key": ECS_SERVICE_ARN_ANNOTATION})
            | Q(**{f"{annotations}__has_key": ECS_SERVICE_TAGS_ANNOTATION})
        )
        .values_list("ref_key", annotations)
    )
    by_arn: dict[str, set[str]] = {}
    by_tags: list[tuple[dict[str, str], str]] = []
    for ref, values in rows:
        values = values or {}
        if arn := values.get(ECS_SERVICE_ARN_ANNOTATION):
            by_arn.setdefault(str(arn), set()).add(ref)
        if tags := _parse_tag_selector(values.get(ECS_SERVICE_TAGS_ANNOTATION)):
            by_tags.append((tags, ref))
    return ComponentSelectors(by_arn=by_arn, by_tags=by_tags)


def resource_document(
    resource: TaggedResource,
    *,
    selectors: ComponentSelectors,
    account_id: str = "",
    names: dict[str, str] | None = None,
) -> dict | None:
    """The Resource entity for one tagged resource found in `account_id`, or None for what discovery leaves out.
    `names` gives the resource's own name where its ARN has only an id (catalog.aws.resource_names)."""
    arn = parse_arn(resource.arn)
    if arn is None or (arn.service, arn.resource_type) in SKIPPED_TYPES:
        return None
    spec_type, label = resource_type(arn)
    where = f"in {arn.region}" if arn.region else "(global)"
    annotations = {
        ARN_ANNOTATION: arn.arn,
        # Some ARNs name no account (API Gateway's: arn:aws:apigateway:<region>::/restapis/<id>): the resource
        # is in the account it was discovered in, where its metrics are read.
        ACCOUNT_ANNOTATION: arn.account or account_id,
        REGION_ANNOTATION: arn.region,
        TAGS_ANNOTATION: ",".join(f"{k}={v}" for k, v in sorted(resource.tags.items())),
    }
    if spec_type == "ecs-service":
        annotations[ECS_SERVICE_ARN_ANNOTATION] = arn.arn
    elif spec_type == "lambda-function":
        annotations[LAMBDA_NAME_ANNOTATION] = arn.short_name
        annotations[LAMBDA_REGION_ANNOTATION] = arn.region
    team = resource.tags.get(TEAM_TAG, "")
    spec = {"type": spec_type, "owner": f"group:default/{team}" if is_valid_name(team) else UNOWNED}
    components = set()
    service = resource.tags.get(settings.CATALOG_DISCOVERY_SERVICE_TAG, "")
    if is_valid_name(service):
        components.add(f"component:default/{service.lower()}")
    if spec_type == "ecs-service":
        components.update(selectors.components_for(resource))
    if components:
        spec["dependencyOf"] = sorted(components)
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Resource",
        "metadata": {
            "name": entity_name(arn),
            "title": f"{(names or {}).get(arn.arn) or arn.short_name} ({label})",
            "description": f"{label} {arn.resource_id} {where}, account {arn.account or '-'}; found by AWS discovery.",
            "annotations": annotations,
            "tags": ["aws", arn.service.lower()] if is_valid_name(arn.service) else ["aws"],
        },
        "spec": spec,
    }


def location_target(account_id: str, region: str) -> str:
    return f"aws:{account_id}:{region}"


def resource_documents(
    resources: Iterable[TaggedResource], *, account_id: str, names: dict[str, str] | None = None
) -> list[dict]:
    selectors = component_selectors()
    documents = (resource_document(r, selectors=selectors, account_id=account_id, names=names) for r in resources)
    return [d for d in documents if d is not None]


def discovery_run(*, account, region: str, force: bool = False) -> DiscoveryRun:
    """Discover one account and region, and record how it went on its DiscoveryRun row.

    Not one transaction: the AWS calls must not hold a database transaction open;
    entities_apply writes the entities in one transaction of its own. Safe to run twice.
    """
    run, _ = DiscoveryRun.objects.get_or_create(account=account, region=region)
    run.record_start()
    try:
        resources = tagged_resources(account, region)
    except AwsError as exc:
        logger.warning("AWS discovery of %s in %s failed: %s", account, region, exc, extra={"aws_error": exc.code})
        return run.record_finish(status=DiscoveryRun.Status.ERROR, error=str(exc), error_code=exc.code)
    target = location_target(account.account_id, region)
    location = location_for(type=Location.Type.DISCOVERY, target=target)
    names = resource_names(account, region, filter(None, (parse_arn(r.arn) for r in resources)))
    documents = resource_documents(resources, account_id=account.account_id, names=names)
    incoming = [Incoming(document=d, source=target, index=i) for i, d in enumerate(documents)]
    result = entities_apply(
        actor=Actor.for_system("task:catalog_discover"),
        location=location,
        incoming=incoming,
        complete=True,
        force=force,
    )
    if result.refused:
        return run.record_finish(status=DiscoveryRun.Status.REFUSED, error=result.refused, error_code="orphan_guard")
    skipped = "; ".join(str(p) for p in result.problems[:5])
    if len(result.problems) > 5:
        skipped += f"; and {len(result.problems) - 5} more"
    run = run.record_finish(
        status=DiscoveryRun.Status.OK,
        error=f"{len(result.problems)} resources skipped: {skipped}" if result.problems else "",
        found=len(incoming),
        created=len(result.created),
        updated=len(result.updated),
        orphaned=len(result.orphaned),
    )
    if result.created or result.updated or result.orphaned:
        transaction.on_commit(lambda: resources_discovered.send(sender=DiscoveryRun, run=run))
    return run
