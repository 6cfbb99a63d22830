"""The periodic CloudWatch sync: alarms (paged) into the database, matched to resources by namespace and
dimensions, the dimension lookups (a target group's LoadBalancer, a REST API's name), faults, and the tasks."""

import boto3
import pytest

from observability.metrics import services, tasks
from observability.models import Alarm, CloudWatchSync, ResourceDimensions
from portal.aws.accounting import count_aws_calls
from portal.aws.models import AwsAccount
from portal.celery import app as celery_app
from tests.observability.conftest import put_alarm, set_alarm_state
from tests.observability.estate import ACCOUNT, REGION, discover, lambda_arn, table_arn
from tests.observability.faults import ACCESS_DENIED, failing_cloudwatch

pytestmark = pytest.mark.django_db


def load_balanced_service(name: str = "orders-api") -> tuple[str, str]:
    """An ALB routing to a target group in moto; (target group ARN, load balancer dimension app/<name>/<id>)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    elbv2 = boto3.client("elbv2", region_name=REGION)
    balancer = elbv2.create_load_balancer(Name="shop", Subnets=subnets)["LoadBalancers"][0]
    group = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")["TargetGroups"][
        0
    ]
    elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}],
    )
    return group["TargetGroupArn"], balancer["LoadBalancerArn"].split(":loadbalancer/", 1)[1]


def rest_api(name: str = "storefront") -> str:
    return boto3.client("apigateway", region_name=REGION).create_rest_api(name=name)["id"]


def sync(account):
    with count_aws_calls() as calls:
        run = services.cloudwatch_sync(account=account, region=REGION)
    return run, calls


def test_alarms_are_matched_to_the_resources_their_dimensions_name(aws, account):
    group_arn, balancer = load_balanced_service()
    api_id = rest_api()
    discover(
        (group_arn, "orders-api"),
        (f"arn:aws:apigateway:{REGION}::/restapis/{api_id}", "storefront"),
        (lambda_arn("fraud-score"), "fraud-detection"),
        (table_arn("orders"), "orders-api"),
    )
    group_dimension = group_arn.split(":", 5)[5]
    put_alarm(
        "orders-api 5xx",
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        {"TargetGroup": group_dimension, "LoadBalancer": balancer},
        threshold=5,
    )
    put_alarm("storefront 5xx", "AWS/ApiGateway", "5XXError", {"ApiName": "storefront", "Stage": "prod"}, threshold=1)
    put_alarm(
        "fraud-score p99 latency", "AWS/Lambda", "Duration", {"FunctionName": "fraud-score"}, threshold=800, stat="p99"
    )
    put_alarm(
        "orders throttled",
        "AWS/DynamoDB",
        "ThrottledRequests",
        {"TableName": "orders", "Operation": "PutItem"},
        threshold=0,
    )
    put_alarm("business KPI", "Meridian/Orders", "OrdersPlaced", {"Env": "prod"}, threshold=10)  # fmt: skip

    run, calls = sync(account)

    assert (run.status, run.alarms, run.error) == ("ok", 5, "")
    assert dict(Alarm.objects.values_list("name", "resource_arn")) == {
        "orders-api 5xx": group_arn,
        "storefront 5xx": f"arn:aws:apigateway:{REGION}::/restapis/{api_id}",
        "fraud-score p99 latency": lambda_arn("fraud-score"),
        "orders throttled": table_arn("orders"),  # the Operation dimension narrows the metric, not the resource
        "business KPI": "",  # a custom metric names no resource the portal knows
    }
    p99 = Alarm.objects.get(name="fraud-score p99 latency")
    assert (p99.statistic, p99.threshold, p99.comparison_operator, p99.account, p99.region) == (
        "p99", 800.0, "GreaterThanThreshold", account, REGION
    )  # fmt: skip
    assert dict(ResourceDimensions.objects.values_list("arn", "dimensions")) == {
        group_arn: {"LoadBalancer": balancer},
        f"arn:aws:apigateway:{REGION}::/restapis/{api_id}": {"ApiName": "storefront"},
    }
    assert (calls[("cloudwatch", "DescribeAlarms")], calls[("elbv2", "DescribeTargetGroups")]) == (1, 1)
    assert calls[("apigateway", "GetRestApis")] == 1


def test_a_second_run_updates_states_and_forgets_deleted_alarms(aws, account):
    put_alarm("a errors", "AWS/Lambda", "Errors", {"FunctionName": "a"}, threshold=1)
    put_alarm("b errors", "AWS/Lambda", "Errors", {"FunctionName": "b"}, threshold=1)
    sync(account)
    first_ids = dict(Alarm.objects.values_list("name", "pk"))
    set_alarm_state("a errors", "ALARM", "Threshold Crossed: 1 datapoint [3.0] was greater than the threshold (1.0).")
    boto3.client("cloudwatch", region_name=REGION).delete_alarms(AlarmNames=["b errors"])

    run, _ = sync(account)

    alarm = Alarm.objects.get()
    assert (alarm.name, alarm.pk, alarm.state) == ("a errors", first_ids["a errors"], "ALARM")
    assert alarm.state_reason.startswith("Threshold Crossed")
    assert run.alarms == 1
    sync(account)  # and again: nothing changes
    assert list(Alarm.objects.values_list("name", "state")) == [("a errors", "ALARM")]


def test_without_target_groups_or_rest_apis_only_the_alarms_are_read(aws, account):
    discover((lambda_arn("fraud-score"), "fraud-detection"))
    put_alarm("fraud errors", "AWS/Lambda", "Errors", {"FunctionName": "fraud-score"}, threshold=1)

    _, calls = sync(account)

    assert dict(calls) == {("cloudwatch", "DescribeAlarms"): 1}


def test_access_denied_is_recorded_and_the_last_alarms_are_kept(aws, account, settings, page_faults):
    put_alarm("a errors", "AWS/Lambda", "Errors", {"FunctionName": "a"}, threshold=1)
    first, _ = sync(account)

    with failing_cloudwatch(*ACCESS_DENIED) as endpoint:
        settings.AWS_ENDPOINT_URL = endpoint
        run, _ = sync(account)

    assert (run.status, run.error_code) == ("error", "access_denied")
    assert "lacks the permission cloudwatch:GetMetricData" in run.error or "cloudwatch:" in run.error
    assert run.last_success_at == first.last_success_at and run.alarms == 1
    assert list(Alarm.objects.values_list("name", flat=True)) == ["a errors"]


def test_the_periodic_task_fans_out_per_enabled_account_and_region(aws, account):
    account.regions = [REGION, "us-east-1"]
    account.save()
    AwsAccount.objects.create(name="retired", account_id="444444444444", regions=[REGION], enabled=False)
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    try:
        with count_aws_calls() as calls:
            tasks.cloudwatch_sync_all()
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous

    assert calls[("cloudwatch", "DescribeAlarms")] == 2
    assert sorted(CloudWatchSync.objects.values_list("account__account_id", "region", "status")) == [
        (ACCOUNT, REGION, "ok"),
        (ACCOUNT, "us-east-1", "ok"),
    ]


def test_a_missing_or_disabled_account_is_skipped(db):
    with count_aws_calls() as calls:
        tasks.cloudwatch_sync(424242, REGION)

    assert calls.total == 0 and not CloudWatchSync.objects.exists()


def test_the_sync_is_scheduled_every_few_minutes():
    from portal.schedules import SCHEDULES

    schedule = next(s for s in SCHEDULES if s.task == "observability.tasks.cloudwatch_sync_all")
    assert schedule.expires < schedule.every
