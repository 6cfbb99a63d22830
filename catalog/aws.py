"""The catalog's AWS gateway: what the Resource Groups Tagging API knows in one account and region.

One paginated GetResources per account and region, 100 resources a page (the API's maximum), and no call
per resource: the ARN and the tags are all discovery needs, except for the resources whose ARN carries a
generated id instead of their name (API Gateway APIs, Cloud Map namespaces and services). Their names come
from one listing per such type, made only when discovery found one of that type (resource_names).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from portal.aws.arns import Arn
from portal.aws.clients import client
from portal.aws.errors import AwsError, aws_errors

logger = logging.getLogger(__name__)

PAGE_SIZE = 100  # GetResources' ResourcesPerPage maximum


@dataclass(frozen=True)
class TaggedResource:
    arn: str
    tags: dict[str, str]


def tagged_resources(account, region: str, *, page_size: int = PAGE_SIZE) -> list[TaggedResource]:
    """Every resource the tagging API lists in `account` (an AwsAccount) and `region`.

    Raises portal.aws.errors.AwsError (access denied, throttled, unreachable...) and returns
    nothing partial: a failure on any page fails the whole listing.
    """
    found = []
    with aws_errors(account=account, service="resourcegroupstaggingapi"):
        tagging = client("resourcegroupstaggingapi", account=account, region=region)
        for page in tagging.get_paginator("get_resources").paginate(ResourcesPerPage=page_size):
            for mapping in page.get("ResourceTagMappingList", []):
                tags = {t["Key"]: t.get("Value", "") for t in mapping.get("Tags", [])}
                found.append(TaggedResource(arn=mapping["ResourceARN"], tags=tags))
    return found


# (ARN service, resource type) -> (client, paginated operation, its list key, its page-size parameter and
# maximum, the item's id key): one listing a type gives every name of that type in the region.
_NAME_LISTINGS = {
    ("apigateway", "restapis"): ("apigateway", "get_rest_apis", "items", ("limit", 500), "id"),
    ("apigateway", "apis"): ("apigatewayv2", "get_apis", "Items", ("MaxResults", "500"), "ApiId"),
    ("servicediscovery", "namespace"): ("servicediscovery", "list_namespaces", "Namespaces", ("MaxResults", 100), "Id"),
    ("servicediscovery", "service"): ("servicediscovery", "list_services", "Services", ("MaxResults", 100), "Id"),
}


def resource_names(account, region: str, arns: Iterable[Arn]) -> dict[str, str]:
    """ARN -> the resource's own name, for the ARNs that carry only a generated id (a REST API's
    "u8xhsycssz", a Cloud Map service's "srv-uh6olo66"); one paginated listing per such type present.

    A name is for people, not identity (the entity's name stays derived from the ARN): a listing that fails
    costs those resources their names, logged, and never the discovery run.
    """
    wanted: dict[tuple[str, str], dict[str, str]] = {}  # type -> {id: ARN}
    for arn in arns:
        if (arn.service, arn.resource_type) in _NAME_LISTINGS:
            wanted.setdefault((arn.service, arn.resource_type), {})[arn.short_name] = arn.arn
    names = {}
    for kind, by_id in wanted.items():
        service, operation, items_key, (size_key, size), id_key = _NAME_LISTINGS[kind]
        try:
            with aws_errors(account=account, service=service):
                listing = client(service, account=account, region=region)
                for page in listing.get_paginator(operation).paginate(**{size_key: size}):
                    for item in page.get(items_key, []):
                        if (arn := by_id.get(item.get(id_key, ""))) and item.get("Name", item.get("name")):
                            names[arn] = item.get("Name", item.get("name"))
        except AwsError as exc:
            logger.warning("Names of %s in %s %s not listed: %s", kind[1], account, region, exc)
    return names
