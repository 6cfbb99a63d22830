"""Amazon Resource Names, parsed once for every app: discovery names its Resources from them, CloudWatch finds a
resource's dimensions in them, saga monitoring tells state machines and their accounts and regions by them.

    arn:<partition>:<service>:<region>:<account>:<resource>

The resource part has three shapes (AWS's "ARN format" reference): a bare name (SQS, SNS, S3), `type/id`
(`table/orders`, `service/cluster/orders-api`) or `type:id` (`function:orders`, `stateMachine:order-saga`).
"""

import re
from dataclasses import dataclass

# Services whose ARNs end in the resource's name, with no type before it.
_BARE_NAME_SERVICES = frozenset({"sqs", "sns", "s3"})


@dataclass(frozen=True)
class Arn:
    arn: str
    service: str
    region: str
    account: str
    resource_type: str  # "" for bare names
    resource_id: str  # what follows the type, e.g. "meridian-commerce/orders-api"

    @property
    def short_name(self) -> str:
        """The resource's own name: the last path segment ("orders-api" of cluster/orders-api), except
        for load balancers and target groups, whose ARNs end in a generated id after their name
        (loadbalancer/app/<name>/<id>, targetgroup/<name>/<id>)."""
        segments = self.resource_id.rstrip("/").split("/")
        if self.service == "elasticloadbalancing" and len(segments) >= 2:
            if self.resource_type == "loadbalancer" and len(segments) == 3:  # app|net|gwy/<name>/<id>
                return segments[1]
            if self.resource_type == "targetgroup":
                return segments[0]
        return segments[-1]


def parse_arn(arn: str) -> Arn | None:
    """The parts of an ARN; None for anything that is not one (or an SNS subscription, which is no topic)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    _, _, service, region, account, resource = parts
    resource = resource.lstrip("/")
    if service in _BARE_NAME_SERVICES:
        if service == "sns" and ":" in resource:
            return None  # a subscription (topic:id), not a topic
        return Arn(arn, service, region, account, "", resource)
    kind, sep, rest = _split(resource)
    if not sep:
        return Arn(arn, service, region, account, "", kind)
    if service == "lambda":
        rest = rest.split(":", 1)[0]  # function:name:alias -> the function
    return Arn(arn, service, region, account, kind, rest)


def _split(resource: str) -> tuple[str, str, str]:
    found = re.search(r"[/:]", resource)
    if not found:
        return resource, "", ""
    return resource[: found.start()], found.group(), resource[found.end() :]
