"""The catalog's AWS gateway: what the Resource Groups Tagging API knows in one account and region.

One paginated GetResources per account and region, 100 resources a page (the API's maximum),
and no call per resource: the ARN and the tags are all discovery needs.
"""

from dataclasses import dataclass

from portal.aws.clients import client
from portal.aws.errors import aws_errors

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
