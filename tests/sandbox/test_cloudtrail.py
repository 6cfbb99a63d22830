import json
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

PAYMENTS_ROLE = "arn:aws:iam::210987654321:role/MeridianReadOnly"


def lookup(cloudtrail, **kwargs):
    return cloudtrail.lookup_events(**kwargs)["Events"]


def names(events):
    return [event["EventName"] for event in events]


@pytest.fixture
def activity(aws):
    """A few management calls, a data call and a failing call, in eu-west-1 of the prod account."""
    ddb = aws("dynamodb")
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="orders", Item={"orderId": {"S": "o-1"}})  # a data event
    ddb.describe_table(TableName="orders")
    aws("sqs").create_queue(QueueName="order-events")
    with pytest.raises(ClientError):
        aws("lambda").get_function(FunctionName="missing")


def test_management_calls_are_recorded_newest_first_like_aws(activity, aws):
    events = lookup(aws("cloudtrail"))

    assert names(events) == ["GetFunction", "CreateQueue", "DescribeTable", "CreateTable"]
    create_table = events[-1]
    assert create_table["EventSource"] == "dynamodb.amazonaws.com"
    assert create_table["ReadOnly"] == "false"
    assert create_table["AccessKeyId"] == "AKIAMERIDIANSANDBOX1"
    assert create_table["Username"] == "moto"
    assert create_table["Resources"] == [{"ResourceType": "AWS::DynamoDB::Table", "ResourceName": "orders"}]
    detail = json.loads(create_table["CloudTrailEvent"])
    assert detail["eventName"] == "CreateTable"
    assert detail["awsRegion"] == "eu-west-1"
    assert detail["recipientAccountId"] == "123456789012"
    assert detail["userIdentity"]["type"] == "IAMUser"
    assert detail["requestParameters"]["TableName"] == "orders"
    assert detail["eventID"] == create_table["EventId"]
    assert json.loads(events[0]["CloudTrailEvent"])["errorCode"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("EventName", "CreateQueue", ["CreateQueue"]),
        ("ReadOnly", "true", ["GetFunction", "DescribeTable"]),
        ("ReadOnly", "false", ["CreateQueue", "CreateTable"]),
        ("ResourceName", "orders", ["DescribeTable", "CreateTable"]),
        ("ResourceType", "AWS::SQS::Queue", ["CreateQueue"]),
        ("EventSource", "lambda.amazonaws.com", ["GetFunction"]),
        ("Username", "moto", ["GetFunction", "CreateQueue", "DescribeTable", "CreateTable"]),
        ("AccessKeyId", "AKIAOTHERKEY00000000", []),
    ],
)
def test_lookup_attributes_filter(activity, aws, key, value, expected):
    events = lookup(aws("cloudtrail"), LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])

    assert names(events) == expected


def test_an_event_is_found_by_its_id(activity, aws):
    cloudtrail = aws("cloudtrail")
    event_id = lookup(cloudtrail)[2]["EventId"]

    events = lookup(cloudtrail, LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": event_id}])

    assert names(events) == ["DescribeTable"]


def test_pages_cover_every_event_once(aws):
    sqs = aws("sqs")
    for number in range(7):
        sqs.create_queue(QueueName=f"queue-{number}")
    cloudtrail = aws("cloudtrail")

    pages = []
    kwargs = {"MaxResults": 3, "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "CreateQueue"}]}
    while True:
        answer = cloudtrail.lookup_events(**kwargs)
        pages.append([json.loads(e["CloudTrailEvent"])["requestParameters"]["QueueName"] for e in answer["Events"]])
        if "NextToken" not in answer:
            break
        kwargs["NextToken"] = answer["NextToken"]

    assert pages == [["queue-6", "queue-5", "queue-4"], ["queue-3", "queue-2", "queue-1"], ["queue-0"]]


def test_the_time_window_bounds_the_events(aws):
    sqs = aws("sqs")
    sqs.create_queue(QueueName="before")
    time.sleep(0.05)
    start = datetime.now(UTC)
    sqs.create_queue(QueueName="inside")
    end = datetime.now(UTC)
    time.sleep(0.05)
    sqs.create_queue(QueueName="after")
    cloudtrail = aws("cloudtrail")

    events = lookup(cloudtrail, StartTime=start, EndTime=end)
    future = lookup(cloudtrail, StartTime=end + timedelta(hours=1), EndTime=end + timedelta(hours=2))

    assert [json.loads(e["CloudTrailEvent"])["requestParameters"]["QueueName"] for e in events] == ["inside"]
    assert future == []


def test_history_is_kept_per_account_and_region(aws):
    aws("sqs", "eu-west-1").create_queue(QueueName="in-ireland")
    aws("sqs", "us-east-1").create_queue(QueueName="in-virginia")
    credentials = aws("sts").assume_role(
        RoleArn=PAYMENTS_ROLE, RoleSessionName="meridian-portal", ExternalId="meridian-demo"
    )["Credentials"]
    payments = {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
    aws("sqs", "eu-west-1", **payments).create_queue(QueueName="in-payments")

    ireland = lookup(aws("cloudtrail", "eu-west-1"))
    virginia = lookup(aws("cloudtrail", "us-east-1"))
    in_payments = lookup(aws("cloudtrail", "eu-west-1", **payments))

    assert names(ireland) == ["AssumeRole", "CreateQueue"]
    assert names(virginia) == ["CreateQueue"]
    assert names(in_payments) == ["CreateQueue"]
    assert in_payments[0]["Username"] == "meridian-portal"
    identity = json.loads(in_payments[0]["CloudTrailEvent"])["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == "arn:aws:sts::210987654321:assumed-role/MeridianReadOnly/meridian-portal"
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == PAYMENTS_ROLE


def test_xray_calls_are_recorded_under_their_operation_names_and_segment_uploads_not_at_all(aws):
    xray = aws("xray")
    segment = {"id": "a000000000000001", "trace_id": "1-6956f600-000000000000000000000001", "name": "orders-api"}
    xray.put_trace_segments(TraceSegmentDocuments=[json.dumps({**segment, "start_time": 1.0, "end_time": 2.0})])
    xray.get_service_graph(StartTime=datetime(2026, 1, 1, tzinfo=UTC), EndTime=datetime(2026, 1, 2, tzinfo=UTC))

    events = lookup(aws("cloudtrail"))

    assert names(events) == ["GetServiceGraph"]  # PutTraceSegments is a data event
    assert events[0]["ReadOnly"] == "true"
    assert events[0]["EventSource"] == "xray.amazonaws.com"


def test_lookup_events_itself_is_not_recorded(aws):
    cloudtrail = aws("cloudtrail")
    lookup(cloudtrail)

    assert lookup(cloudtrail) == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        (
            {
                "LookupAttributes": [
                    {"AttributeKey": "EventName", "AttributeValue": "CreateQueue"},
                    {"AttributeKey": "ReadOnly", "AttributeValue": "false"},
                ]
            },
            "InvalidLookupAttributesException",
        ),
        (
            {"StartTime": datetime(2025, 2, 1, tzinfo=UTC), "EndTime": datetime(2025, 1, 1, tzinfo=UTC)},
            "InvalidTimeRangeException",
        ),
        ({"NextToken": "not-a-token"}, "InvalidNextTokenException"),
    ],
)
def test_bad_lookups_get_aws_errors(aws, kwargs, error):
    with pytest.raises(ClientError) as raised:
        aws("cloudtrail").lookup_events(**kwargs)

    assert raised.value.response["Error"]["Code"] == error


@mock_aws
def test_lookup_events_works_under_mock_aws_too():
    boto3.client("sns", region_name="eu-west-1").create_topic(Name="order-events")

    events = boto3.client("cloudtrail", region_name="eu-west-1").lookup_events()["Events"]

    assert names(events) == ["CreateTopic"]
    assert events[0]["Resources"] == [{"ResourceType": "AWS::SNS::Topic", "ResourceName": "order-events"}]
