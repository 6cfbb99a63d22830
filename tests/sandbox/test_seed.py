import time
from datetime import UTC, datetime

import boto3

from sandbox import estate
from sandbox.seed import seed_estate

PAYMENTS_ROLE = "arn:aws:iam::210987654321:role/MeridianReadOnly"


def _tagged_resources(client):
    return [m for page in client.get_paginator("get_resources").paginate() for m in page["ResourceTagMappingList"]]


def _payments_credentials(aws):
    credentials = aws("sts").assume_role(
        RoleArn=PAYMENTS_ROLE, RoleSessionName="meridian-portal", ExternalId="meridian-demo"
    )["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def test_a_service_is_found_by_its_tag(sandbox_estate, aws):
    tagging = aws("resourcegroupstaggingapi", "eu-west-1")

    mappings = tagging.get_resources(TagFilters=[{"Key": "service", "Values": ["orders-api"]}])[
        "ResourceTagMappingList"
    ]

    arns = {m["ResourceARN"] for m in mappings}
    assert "arn:aws:dynamodb:eu-west-1:123456789012:table/orders" in arns
    assert "arn:aws:ecs:eu-west-1:123456789012:service/meridian-commerce/orders-api" in arns
    assert "arn:aws:sns:eu-west-1:123456789012:order-events" in arns
    for mapping in mappings:
        tags = {tag["Key"]: tag["Value"] for tag in mapping["Tags"]}
        assert tags["team"] == "team-orders"
        assert tags["env"] == "prod"


def test_every_seeded_resource_carries_service_team_and_env(sandbox_estate, aws):
    services = {s.name: s.team for s in estate.services()}
    credentials = [{}, _payments_credentials(aws)]

    for region in estate.regions():
        for account in credentials:
            mappings = _tagged_resources(aws("resourcegroupstaggingapi", region, **account))
            assert mappings, (region, account)
            for mapping in mappings:
                tags = {tag["Key"]: tag["Value"] for tag in mapping["Tags"]}
                assert services[tags["service"]] == tags["team"], mapping["ResourceARN"]
                assert tags["env"] == "prod"


def test_the_assumed_role_lists_the_payments_account(sandbox_estate, aws):
    payments = _payments_credentials(aws)

    identity = aws("sts", **payments).get_caller_identity()
    tables = aws("dynamodb", "eu-west-1", **payments).list_tables()["TableNames"]
    services = aws("ecs", "eu-west-1", **payments).list_services(cluster="meridian-payments")["serviceArns"]
    tagged = _tagged_resources(aws("resourcegroupstaggingapi", "us-east-1", **payments))

    assert identity["Account"] == "210987654321"
    assert tables == ["payments"]
    assert services == ["arn:aws:ecs:eu-west-1:210987654321:service/meridian-payments/payments-api"]
    assert {m["ResourceARN"] for m in tagged} == {
        "arn:aws:dynamodb:us-east-1:210987654321:table/fraud-scores",
        "arn:aws:lambda:us-east-1:210987654321:function:fraud-scorer",
        "arn:aws:cloudwatch:us-east-1:210987654321:alarm:fraud-scorer p99 duration",
    }
    assert "orders" not in tables  # prod's tables stay in prod
    role = aws("iam", "us-east-1", **payments).get_role(RoleName="MeridianReadOnly")["Role"]
    condition = role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert condition == {"StringEquals": {"sts:ExternalId": "meridian-demo"}}


def test_seeding_again_changes_nothing(sandbox_estate, aws):
    payments = _payments_credentials(aws)
    clients = [
        (aws("resourcegroupstaggingapi", region, **account), aws("cloudtrail", region, **account))
        for region in estate.regions()
        for account in ({}, payments)
    ]
    before = [sorted(m["ResourceARN"] for m in _tagged_resources(tagging)) for tagging, _ in clients]
    second_run = datetime.now(UTC)

    started = time.monotonic()
    summary = seed_estate(sandbox_estate)
    elapsed = time.monotonic() - started

    assert summary.created == []
    assert summary.existing > 50
    assert [sorted(m["ResourceARN"] for m in _tagged_resources(tagging)) for tagging, _ in clients] == before
    for _, cloudtrail in clients:
        writes = cloudtrail.lookup_events(
            StartTime=second_run, LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}]
        )["Events"]
        assert writes == [], [e["EventName"] for e in writes]
    assert elapsed < 10


def test_a_fresh_seed_is_fast_and_complete(sandbox_endpoint):
    started = time.monotonic()
    summary = seed_estate(sandbox_endpoint)
    elapsed = time.monotonic() - started

    assert elapsed < 10
    assert "state machine order-saga" in summary.created
    assert "rest api meridian-storefront" in summary.created
    assert "iam role meridian-payments/MeridianReadOnly" in summary.created
    apis = boto3.client(
        "apigateway",
        region_name="eu-west-1",
        endpoint_url=sandbox_endpoint,
        aws_access_key_id="AKIAANYKEY0000000000",
        aws_secret_access_key="x",
    ).get_rest_apis()["items"]
    assert [(api["name"], api["tags"]["service"]) for api in apis] == [("meridian-storefront", "storefront-gateway")]


def _clients_everywhere(aws):
    payments = _payments_credentials(aws)
    return [
        (region, credentials, lambda service, r=region, c=credentials: aws(service, r, **c))
        for region in estate.regions()
        for credentials in ({}, payments)
    ]


def test_each_ecs_service_sits_behind_its_own_load_balancer(sandbox_estate, aws):
    checked = []
    for _, _, client in _clients_everywhere(aws):
        ecs, elbv2 = client("ecs"), client("elbv2")
        for cluster in ecs.list_clusters()["clusterArns"]:
            arns = ecs.list_services(cluster=cluster)["serviceArns"]
            for service in ecs.describe_services(cluster=cluster, services=arns)["services"] if arns else []:
                (registration,) = service["loadBalancers"]
                (group,) = elbv2.describe_target_groups(TargetGroupArns=[registration["targetGroupArn"]])[
                    "TargetGroups"
                ]
                (balancer,) = elbv2.describe_load_balancers(LoadBalancerArns=group["LoadBalancerArns"])["LoadBalancers"]
                network = service["networkConfiguration"]["awsvpcConfiguration"]
                assert group["TargetGroupName"] == balancer["LoadBalancerName"] == service["serviceName"]
                assert (group["TargetType"], registration["containerPort"]) == ("ip", group["Port"])
                assert (balancer["Type"], balancer["Scheme"]) == ("application", "internal")
                assert balancer["VpcId"] == group["VpcId"]
                assert {z["SubnetId"] for z in balancer["AvailabilityZones"]} == set(network["subnets"])
                assert balancer["SecurityGroups"] == network["securityGroups"]
                descriptions = elbv2.describe_tags(ResourceArns=[group["TargetGroupArn"], balancer["LoadBalancerArn"]])
                for description in descriptions["TagDescriptions"]:
                    tags = {t["Key"]: t["Value"] for t in description["Tags"]}
                    assert tags == estate.service(service["serviceName"]).tags
                checked.append(service["serviceName"])

    ecs_services = [
        s["name"] for svc in estate.services() for d in svc.deployments for s in d.resources.get("ecs_services", [])
    ]
    assert sorted(checked) == sorted(ecs_services) == ["inventory-service", "orders-api", "payments-api"]


def test_alarms_watch_golden_signals_of_most_services(sandbox_estate, aws):
    from sandbox.traffic.signals import SIGNALS

    contract = {(s.namespace, s.metric) for signals in SIGNALS.values() for s in signals.values()}
    alarmed = set()
    for _, _, client in _clients_everywhere(aws):
        cloudwatch = client("cloudwatch")
        for alarm in cloudwatch.describe_alarms()["MetricAlarms"]:
            tags = {
                t["Key"]: t["Value"] for t in cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
            }
            assert tags == estate.service(tags["service"]).tags
            assert (alarm["Namespace"], alarm["MetricName"]) in contract
            assert alarm["Dimensions"] and alarm["Threshold"] >= 0
            if alarm["Namespace"] == "AWS/ApplicationELB":
                names = [d["Name"] for d in alarm["Dimensions"]]
                values = [d["Value"] for d in alarm["Dimensions"]]
                assert names == ["TargetGroup", "LoadBalancer"]
                assert values[0].startswith("targetgroup/") and values[1].startswith("app/")
            alarmed.add(tags["service"])

    serving = {s.name for s in estate.services() if s.traffic}
    assert len(alarmed) >= len(serving) - 2 and alarmed < serving
    assert "refunds-worker" not in alarmed  # the scorecard's negative example
