"""GetResources lists tagged API Gateway REST APIs, Cloud Map namespaces and services, and EventBridge rules."""

import boto3
from moto import mock_aws

from sandbox import extensions


def _listed(tagging, **filters) -> dict[str, dict[str, str]]:
    return {
        m["ResourceARN"]: {t["Key"]: t["Value"] for t in m["Tags"]}
        for page in tagging.get_paginator("get_resources").paginate(**filters)
        for m in page["ResourceTagMappingList"]
    }


@mock_aws
def test_the_resources_moto_leaves_out_are_listed_with_their_tags():
    extensions.install()
    region = "eu-west-1"
    api_id = boto3.client("apigateway", region_name=region).create_rest_api(name="front", tags={"service": "gw"})["id"]
    boto3.client("apigateway", region_name=region).create_rest_api(name="untagged")
    events = boto3.client("events", region_name=region)
    events.create_event_bus(Name="commerce")
    rule_arn = events.put_rule(
        Name="placed",
        EventBusName="commerce",
        EventPattern='{"source": ["orders"]}',
        Tags=[{"Key": "service", "Value": "ev"}],
    )["RuleArn"]
    sd = boto3.client("servicediscovery", region_name=region)
    sd.create_http_namespace(Name="shop.local", Tags=[{"Key": "service", "Value": "platform"}])
    namespace_id = sd.list_namespaces()["Namespaces"][0]["Id"]
    service_arn = sd.create_service(
        Name="orders", NamespaceId=namespace_id, Tags=[{"Key": "service", "Value": "orders"}]
    )["Service"]["Arn"]
    tagging = boto3.client("resourcegroupstaggingapi", region_name=region)

    listed = _listed(tagging)

    assert listed[f"arn:aws:apigateway:{region}::/restapis/{api_id}"] == {"service": "gw"}
    assert listed[rule_arn] == {"service": "ev"}
    assert listed[service_arn] == {"service": "orders"}
    assert any(":namespace/" in arn and tags == {"service": "platform"} for arn, tags in listed.items())
    assert len(listed) == 4  # the untagged API is not listed, as moto lists no untagged resource
    # Filters apply to them as to moto's own resources.
    assert set(_listed(tagging, TagFilters=[{"Key": "service", "Values": ["ev", "gw"]}])) == {
        rule_arn,
        f"arn:aws:apigateway:{region}::/restapis/{api_id}",
    }
    assert set(_listed(tagging, ResourceTypeFilters=["servicediscovery:service"])) == {service_arn}
    assert _listed(boto3.client("resourcegroupstaggingapi", region_name="us-east-1")) == {}
