"""CloudWatch dimensions of a Resource entity, and the resource an alarm watches.

Both directions work from what the catalog already knows, without an AWS call on a page:

- a resource's dimensions come from its ARN (annotation amazonaws.com/arn, written by AWS
  discovery), except two that no ARN holds: a target group's LoadBalancer and a REST API's
  ApiName. Those come from `ResourceDimensions` rows that the periodic CloudWatch sync writes from
  DescribeTargetGroups and GetRestApis (see `observability.metrics.services`; docs/observability.md says
  why the sync and not the component's load-balancer Resource);
- an alarm's resource is the ARN its namespace and dimensions name (an alarm on AWS/ECS with
  ClusterName=c, ServiceName=s watches arn:aws:ecs:<region>:<account>:service/c/s). Extra
  dimensions (DynamoDB's Operation, API Gateway's Stage, Lambda's Resource) narrow the metric but
  name the same resource, so they do not stop the match.
"""

from dataclasses import dataclass

from catalog.annotations import ACCOUNT_ANNOTATION, ARN_ANNOTATION, REGION_ANNOTATION
from catalog.models import Entity
from observability.metrics.golden_signals import signals_for
from portal.aws.arns import parse_arn

PARTITION = "aws"  # the partition ARNs are built in (aws-cn and aws-us-gov are not supported yet)


@dataclass(frozen=True)
class ResourceRef:
    """What observability needs of one Resource entity (plain values, so it caches and pickles)."""

    entity_id: int
    name: str
    title: str
    resource_type: str
    arn: str
    account_id: str
    region: str

    @property
    def label(self) -> str:
        """What people call it: "orders-api" for service/cluster/orders-api and targetgroup/orders-api/<id>."""
        parsed = parse_arn(self.arn)
        return display_name(parsed) if parsed else self.name


def display_name(parsed) -> str:
    if parsed.service == "elasticloadbalancing":  # targetgroup/<name>/<id>, loadbalancer/app/<name>/<id>
        parts = parsed.resource_id.split("/")
        return parts[-2] if len(parts) >= 2 else parsed.resource_id
    return parsed.short_name


def resource_ref(entity: Entity) -> ResourceRef | None:
    """The resource's ARN, account and region from its annotations (the ARN fills in what is missing)."""
    annotations = entity.annotations
    return make_ref(
        entity_id=entity.pk,
        name=entity.name,
        title=entity.title,
        resource_type=entity.spec_type,
        arn=annotations.get(ARN_ANNOTATION),
        account_id=annotations.get(ACCOUNT_ANNOTATION),
        region=annotations.get(REGION_ANNOTATION),
    )


def make_ref(*, entity_id, name, title, resource_type, arn, account_id, region) -> ResourceRef | None:
    """A ResourceRef from a Resource's fields and annotation values; None without an ARN."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    parsed = parse_arn(arn)
    return ResourceRef(
        entity_id=entity_id,
        name=name,
        title=title or name,
        resource_type=resource_type or "",
        arn=arn,
        account_id=str(account_id or (parsed.account if parsed else "")),
        region=str(region or (parsed.region if parsed else "")),
    )


class DimensionsUnknown(Exception):
    """The resource's dimensions cannot be worked out (yet); the message says why and what to do."""


def needs_lookup(ref: ResourceRef) -> bool:
    """Whether the resource's dimensions need a ResourceDimensions row (not all in its ARN)."""
    if ref.resource_type == "target-group":
        return True
    parsed = parse_arn(ref.arn)
    return ref.resource_type == "api-gateway" and parsed is not None and parsed.resource_type == "restapis"


def metric_dimensions(ref: ResourceRef, lookups: dict[str, dict]) -> dict[str, str]:
    """The dimensions of the resource's golden-signal metrics; `lookups` is ARN -> stored dimensions."""
    parsed = parse_arn(ref.arn)
    row = signals_for(ref.resource_type)
    if parsed is None or row is None:
        raise DimensionsUnknown(f"{ref.arn} is not a resource type with golden signals.")
    kind = ref.resource_type
    if kind == "ecs-service":
        cluster, _, service = parsed.resource_id.partition("/")
        if not service:
            raise DimensionsUnknown(
                f"{ref.arn} is an old-format ECS service ARN without its cluster; "
                "opt in to the long ARN format so the cluster (ClusterName) is known."
            )
        return {"ClusterName": cluster, "ServiceName": service}
    if kind == "target-group":
        stored = lookups.get(ref.arn) or {}
        if not stored.get("LoadBalancer"):
            raise DimensionsUnknown(
                f"The load balancer of target group {display_name(parsed)} is not known yet: the CloudWatch sync "
                "learns it from DescribeTargetGroups every few minutes (or the target group is on no load balancer)."
            )
        return {"TargetGroup": f"targetgroup/{parsed.resource_id}", "LoadBalancer": stored["LoadBalancer"]}
    if kind == "api-gateway":
        if parsed.resource_type == "apis":  # HTTP and WebSocket APIs are measured by id
            return {"ApiId": parsed.resource_id}
        stored = lookups.get(ref.arn) or {}
        if not stored.get("ApiName"):
            raise DimensionsUnknown(
                f"The name of REST API {parsed.resource_id} is not known yet: the CloudWatch sync learns it "
                "from GetRestApis every few minutes."
            )
        return {"ApiName": stored["ApiName"]}
    if kind == "lambda-function":
        return {"FunctionName": parsed.resource_id}
    if kind == "dynamodb-table":
        return {"TableName": parsed.resource_id}
    if kind == "sqs-queue":
        return {"QueueName": parsed.resource_id}
    if kind == "state-machine":
        return {"StateMachineArn": ref.arn}
    raise DimensionsUnknown(f"No dimensions are defined for {kind}.")  # pragma: no cover - the table and this agree


def alarm_resource_arn(
    *, account_id: str, region: str, namespace: str, dimensions: dict[str, str], api_ids: dict[str, str]
) -> str:
    """The ARN of the resource an alarm's metric belongs to, or "" when it names none the portal knows.

    `api_ids`: REST API name -> id in this account and region (from GetRestApis), for ApiName.
    """
    d = dimensions
    prefix = f"arn:{PARTITION}"
    if namespace == "AWS/ECS" and d.get("ClusterName"):
        if d.get("ServiceName"):
            return f"{prefix}:ecs:{region}:{account_id}:service/{d['ClusterName']}/{d['ServiceName']}"
        return f"{prefix}:ecs:{region}:{account_id}:cluster/{d['ClusterName']}"
    if namespace == "AWS/ApplicationELB":
        if d.get("TargetGroup"):
            return f"{prefix}:elasticloadbalancing:{region}:{account_id}:{d['TargetGroup']}"
        if d.get("LoadBalancer"):
            return f"{prefix}:elasticloadbalancing:{region}:{account_id}:loadbalancer/{d['LoadBalancer']}"
    if namespace == "AWS/Lambda" and d.get("FunctionName"):
        return f"{prefix}:lambda:{region}:{account_id}:function:{d['FunctionName']}"
    if namespace == "AWS/ApiGateway":
        if d.get("ApiId"):
            return f"{prefix}:apigateway:{region}::/apis/{d['ApiId']}"
        if d.get("ApiName") and d["ApiName"] in api_ids:
            return f"{prefix}:apigateway:{region}::/restapis/{api_ids[d['ApiName']]}"
    if namespace == "AWS/DynamoDB" and d.get("TableName"):
        return f"{prefix}:dynamodb:{region}:{account_id}:table/{d['TableName']}"
    if namespace == "AWS/SQS" and d.get("QueueName"):
        return f"{prefix}:sqs:{region}:{account_id}:{d['QueueName']}"
    if namespace == "AWS/States" and d.get("StateMachineArn"):
        return d["StateMachineArn"]
    return ""
