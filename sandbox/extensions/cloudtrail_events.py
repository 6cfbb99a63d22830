"""CloudTrail event history: record the management calls the sandbox serves, answer LookupEvents.

moto 5.2.5 has trails but no event history (LookupEvents is not implemented).
This extension wraps `BaseResponse.call_action`, the method every moto service
answers an API call through (in server mode and under `mock_aws` alike), and
records each call as a CloudTrail management event in the history of the
calling account and region: who called (access key, IAM user or assumed-role
session), what (event source, event name, read-only or not, request
parameters, the resources named in them), when, and the error if it failed.

Left out, as AWS leaves them out of LookupEvents: data events (item, message,
object and invocation calls; metric and trace uploads, which the traffic
generator makes by the thousand) and LookupEvents itself. The history lives in a
moto `BackendDict`, so moto's reset (`mock_aws`, `/moto-api/reset`) empties it;
each account and region keeps its newest `HISTORY_LIMIT` events.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import logging
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.exceptions import JsonRESTError
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.request import determine_request_protocol
from moto.core.responses import BaseResponse
from moto.core.routing import get_service_router
from moto.core.utils import get_service_model
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

log = logging.getLogger(__name__)

HISTORY_LIMIT = 20_000
MAX_RESULTS = 50
RETENTION = timedelta(days=90)
LOOKUP_ATTRIBUTE_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)

# (boto3 service name, operation) pairs AWS logs as data events, not management events.
DATA_EVENTS = {
    "dynamodb": {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ExecuteTransaction",
    },
    "sqs": {
        "SendMessage",
        "SendMessageBatch",
        "ReceiveMessage",
        "DeleteMessage",
        "DeleteMessageBatch",
        "ChangeMessageVisibility",
        "ChangeMessageVisibilityBatch",
    },
    "sns": {"Publish", "PublishBatch"},
    "lambda": {"Invoke", "InvokeAsync", "InvokeWithResponseStream"},
    "s3": {"GetObject", "PutObject", "DeleteObject", "DeleteObjects", "HeadObject", "CopyObject"},
    "cloudwatch": {"PutMetricData", "GetMetricData", "GetMetricStatistics"},
    "xray": {"PutTraceSegments", "PutTelemetryRecords"},
    "logs": {"PutLogEvents", "GetLogEvents", "FilterLogEvents"},
    "cloudtrail": {"LookupEvents"},
}
READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Lookup", "Search", "BatchGet", "Head", "Query", "Scan", "Select")
# STS calls AWS marks read-only although their names do not say so.
READ_ONLY_OPERATIONS = {("sts", "AssumeRole"), ("sts", "AssumeRoleWithWebIdentity"), ("sts", "AssumeRoleWithSAML")}

# Request parameters that name a resource: (service, parameter) -> CloudTrail resource type.
RESOURCE_PARAMETERS = {
    ("dynamodb", "TableName"): "AWS::DynamoDB::Table",
    ("sqs", "QueueUrl"): "AWS::SQS::Queue",
    ("sqs", "QueueName"): "AWS::SQS::Queue",
    ("sns", "TopicArn"): "AWS::SNS::Topic",
    ("lambda", "FunctionName"): "AWS::Lambda::Function",
    ("stepfunctions", "stateMachineArn"): "AWS::StepFunctions::StateMachine",
    ("stepfunctions", "executionArn"): "AWS::StepFunctions::Execution",
    ("ecs", "cluster"): "AWS::ECS::Cluster",
    ("ecs", "clusterName"): "AWS::ECS::Cluster",
    ("ecs", "service"): "AWS::ECS::Service",
    ("ecs", "serviceName"): "AWS::ECS::Service",
    ("ecs", "taskDefinition"): "AWS::ECS::TaskDefinition",
    ("ecs", "family"): "AWS::ECS::TaskDefinition",
    ("iam", "RoleName"): "AWS::IAM::Role",
    ("iam", "UserName"): "AWS::IAM::User",
    ("iam", "PolicyArn"): "AWS::IAM::Policy",
    ("sts", "RoleArn"): "AWS::IAM::Role",
    ("events", "EventBusName"): "AWS::Events::EventBus",
    ("events", "Rule"): "AWS::Events::Rule",
    ("apigateway", "restApiId"): "AWS::ApiGateway::RestApi",
    ("servicediscovery", "NamespaceId"): "AWS::ServiceDiscovery::Namespace",
    ("servicediscovery", "ServiceId"): "AWS::ServiceDiscovery::Service",
    ("ec2", "VpcId"): "AWS::EC2::VPC",
    ("ec2", "SubnetId"): "AWS::EC2::Subnet",
    ("ec2", "GroupId"): "AWS::EC2::SecurityGroup",
    ("cloudwatch", "AlarmName"): "AWS::CloudWatch::Alarm",
    ("logs", "logGroupName"): "AWS::Logs::LogGroup",
}
# Create calls whose resource is named by a generic "Name"-style parameter.
CREATED_RESOURCES = {
    ("sns", "CreateTopic", "Name"): "AWS::SNS::Topic",
    ("events", "CreateEventBus", "Name"): "AWS::Events::EventBus",
    ("events", "PutRule", "Name"): "AWS::Events::Rule",
    ("stepfunctions", "CreateStateMachine", "name"): "AWS::StepFunctions::StateMachine",
    ("apigateway", "CreateRestApi", "name"): "AWS::ApiGateway::RestApi",
    ("servicediscovery", "CreateService", "Name"): "AWS::ServiceDiscovery::Service",
    ("servicediscovery", "CreateHttpNamespace", "Name"): "AWS::ServiceDiscovery::Namespace",
    ("servicediscovery", "CreatePrivateDnsNamespace", "Name"): "AWS::ServiceDiscovery::Namespace",
}
_SECRET_PARAMETER = re.compile(r"secret|password|token|credential|privatekey", re.IGNORECASE)
_XML_ERROR_CODE = re.compile(r"<Code>([^<]+)</Code>")


@dataclass(frozen=True)
class ManagementEvent:
    sequence: int
    event_id: str
    event_time: datetime
    event_source: str
    event_name: str
    read_only: bool
    username: str
    access_key_id: str
    resources: tuple[tuple[str, str], ...]  # (type, name)
    detail: dict[str, Any] = field(hash=False, compare=False)

    def matches(self, key: str, value: str) -> bool:
        if key == "ReadOnly":
            return str(self.read_only).lower() == value.lower()
        if key == "ResourceName":
            return any(name == value for _, name in self.resources)
        if key == "ResourceType":
            return any(kind == value for kind, _ in self.resources)
        return (
            value
            == {
                "EventId": self.event_id,
                "EventName": self.event_name,
                "Username": self.username,
                "EventSource": self.event_source,
                "AccessKeyId": self.access_key_id,
            }[key]
        )

    def as_lookup_result(self) -> dict[str, Any]:
        return {
            "EventId": self.event_id,
            "EventName": self.event_name,
            "ReadOnly": str(self.read_only).lower(),
            "AccessKeyId": self.access_key_id,
            "EventTime": self.event_time.timestamp(),
            "EventSource": self.event_source,
            "Username": self.username,
            "Resources": [{"ResourceType": kind, "ResourceName": name} for kind, name in self.resources],
            "CloudTrailEvent": json.dumps(self.detail, default=_json_default),
        }


class EventHistory(BaseBackend):
    """The management events of one account and region, oldest first."""

    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.events: list[ManagementEvent] = []
        self._lock = threading.Lock()

    def append(self, event: ManagementEvent) -> None:
        with self._lock:
            self.events.append(event)
            if len(self.events) > HISTORY_LIMIT:
                del self.events[: len(self.events) - HISTORY_LIMIT]

    def snapshot(self) -> list[ManagementEvent]:
        with self._lock:
            return list(self.events)


event_histories = BackendDict(EventHistory, "cloudtrail")
_sequence = itertools.count(1)


class InvalidLookupAttributesException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("InvalidLookupAttributesException", message)


class InvalidTimeRangeException(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__(
            "InvalidTimeRangeException",
            "Occurs if the timestamp values are invalid. Either the start time occurs after the end time"
            " or the time range is outside the range of possible values.",
        )


class InvalidMaxResultsException(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__("InvalidMaxResultsException", f"MaxResults must be between 1 and {MAX_RESULTS}.")


class InvalidNextTokenException(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__("InvalidNextTokenException", "Invalid NextToken.")


class InvalidEventCategoryException(JsonRESTError):
    code = 400

    def __init__(self) -> None:
        super().__init__("InvalidEventCategoryException", "EventCategory must be insight.")


# --- Recording ----------------------------------------------------------------


def install() -> None:
    original = BaseResponse.call_action

    def call_action(self: BaseResponse) -> Any:
        result = original(self)
        try:
            record_call(self, result[0], result[2])
        except Exception:
            # The history is a convenience; a call it cannot describe still gets its answer.
            log.exception("sandbox could not record a CloudTrail event")
        return result

    call_action.__wrapped__ = original  # type: ignore[attr-defined]
    BaseResponse.call_action = call_action  # type: ignore[method-assign]
    CloudTrailResponse.lookup_events = _lookup_events  # type: ignore[attr-defined]


def record_call(response: BaseResponse, status: int, body: Any) -> None:
    service = response.boto3_service_name
    if not service:
        return
    operation = _operation_name(service, response._get_action())
    if not operation or operation in DATA_EVENTS.get(service, ()):
        return
    account_id, region = response.current_account, response.region
    access_key = response.access_key
    identity, username = _user_identity(account_id, access_key, region)
    parameters = _request_parameters(response, service, operation)
    resources = _resources(service, operation, parameters)
    read_only = operation.startswith(READ_ONLY_PREFIXES) or (service, operation) in READ_ONLY_OPERATIONS
    now = datetime.now(UTC)
    event_id = str(uuid.uuid4())
    event_source = f"{_endpoint_prefix(service)}.amazonaws.com"
    detail: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": identity,
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": event_source,
        "eventName": operation,
        "awsRegion": region,
        "sourceIPAddress": response.normalized_request.remote_addr or "127.0.0.1",
        "userAgent": response.headers.get("User-Agent", ""),
        "requestParameters": _redacted(parameters) or None,
        "responseElements": None,
        "requestID": response.response_headers.get("x-amzn-RequestId") or str(uuid.uuid4()),
        "eventID": event_id,
        "readOnly": read_only,
        "resources": [{"type": kind, "ARN": name} for kind, name in resources if name.startswith("arn:")],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }
    if int(status) >= 400:
        detail["errorCode"] = _error_code(body)
    try:
        history = event_histories[account_id][region]
    except KeyError:
        return  # a region CloudTrail does not serve
    history.append(
        ManagementEvent(
            sequence=next(_sequence),
            event_id=event_id,
            event_time=now,
            event_source=event_source,
            event_name=operation,
            read_only=read_only,
            username=username,
            access_key_id=access_key,
            resources=resources,
            detail=detail,
        )
    )


def _user_identity(account_id: str, access_key: str, region: str) -> tuple[dict[str, Any], str]:
    partition = get_partition(region)
    assumed = sts_backends[account_id][partition].get_assumed_role_from_access_key(access_key)
    if assumed:
        role_name = assumed.role_arn.split("/")[-1]
        identity = {
            "type": "AssumedRole",
            "principalId": assumed.user_id,
            "arn": assumed.arn,
            "accountId": account_id,
            "accessKeyId": access_key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": assumed.user_id.split(":")[0],
                    "arn": assumed.role_arn,
                    "accountId": account_id,
                    "userName": role_name,
                },
            },
        }
        return identity, assumed.session_name
    user = iam_backends[account_id][partition].get_user_from_access_key_id(access_key)
    # Credentials moto does not know act as its default user, as GetCallerIdentity reports.
    name, principal_id = (user.name, user.id) if user else ("moto", "AKIAIOSFODNN7EXAMPLE")
    identity = {
        "type": "IAMUser",
        "principalId": principal_id,
        "arn": f"arn:{partition}:iam::{account_id}:user/{name}",
        "accountId": account_id,
        "accessKeyId": access_key,
        "userName": name,
    }
    return identity, name


def _request_parameters(response: BaseResponse, service: str, operation: str) -> dict[str, Any]:
    """The call's parameters as botocore's service model names them, parsed from the request."""
    params = getattr(response, "params", None)
    if response.automated_parameter_parsing and isinstance(params, dict):
        return dict(params)
    request = response.normalized_request
    try:
        service_model = get_service_model(service)
        operation_model = service_model.operation_model(operation)
        protocol = determine_request_protocol(service_model, request.content_type)
        url_params = response.uri_match
        if not url_params and protocol.startswith("rest"):
            _, url_params = get_service_router(service).match(request)
        parser = PROTOCOL_PARSERS[protocol](operation_model, map_type=dict)
        return dict(
            parser.parse(
                {
                    "method": request.method,
                    "values": request.values,
                    "headers": request.headers,
                    "body": request.data,
                    "url_path": request.path,
                    "url_params": url_params,
                }
            )
        )
    except Exception:
        return {}


def _resources(service: str, operation: str, parameters: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    found = []
    for name, value in parameters.items():
        kind = RESOURCE_PARAMETERS.get((service, name)) or CREATED_RESOURCES.get((service, operation, name))
        if kind and isinstance(value, str) and value:
            found.append((kind, value))
    return tuple(found)


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: "HIDDEN_DUE_TO_SECURITY_REASONS" if _SECRET_PARAMETER.search(str(key)) else _redacted(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    return value


def _error_code(body: Any) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    try:
        error_type = json.loads(text).get("__type", "")
        if error_type:
            return error_type.split("#")[-1]
    except (ValueError, AttributeError):
        pass
    match = _XML_ERROR_CODE.search(text)
    return match.group(1) if match else "UnknownError"


@lru_cache
def _operation_name(service: str, action: str) -> str:
    """The API operation moto's `action` is: X-Ray's responses name actions after the request path
    (/TraceSegments for PutTraceSegments), which would record every segment upload as an event."""
    try:
        model = get_service_model(service)
    except Exception:
        return action
    if not action or action in model.operation_names:
        return action
    for name in model.operation_names:
        if model.operation_model(name).http.get("requestUri", "").split("?")[0].strip("/") == action:
            return name
    return action


@lru_cache
def _endpoint_prefix(service: str) -> str:
    try:
        return get_service_model(service).metadata.get("endpointPrefix", service)
    except Exception:
        return service


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


# --- LookupEvents -------------------------------------------------------------


def _lookup_events(self: CloudTrailResponse) -> str:
    params = json.loads(self.body or "{}")
    if params.get("EventCategory") not in (None, "insight"):
        raise InvalidEventCategoryException()
    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise InvalidLookupAttributesException("You cannot specify more than one lookup attribute.")
    for attribute in attributes:
        if attribute.get("AttributeKey") not in LOOKUP_ATTRIBUTE_KEYS:
            raise InvalidLookupAttributesException(f"AttributeKey must be one of {', '.join(LOOKUP_ATTRIBUTE_KEYS)}.")
    max_results = params.get("MaxResults", MAX_RESULTS)
    if not isinstance(max_results, int) or not 1 <= max_results <= MAX_RESULTS:
        raise InvalidMaxResultsException()
    now = datetime.now(UTC)
    start = _timestamp(params.get("StartTime")) or now - RETENTION
    end = _timestamp(params.get("EndTime")) or now
    if start > end:
        raise InvalidTimeRangeException()
    before = _decode_token(params["NextToken"]) if params.get("NextToken") else None

    if params.get("EventCategory") == "insight":
        return json.dumps({"Events": []})  # the sandbox raises no Insights

    page: list[ManagementEvent] = []
    more = False
    for event in reversed(event_histories[self.current_account][self.region].snapshot()):
        if before is not None and event.sequence >= before:
            continue
        if not start <= event.event_time <= end:
            continue
        if any(not event.matches(a["AttributeKey"], str(a.get("AttributeValue", ""))) for a in attributes):
            continue
        if len(page) == max_results:
            more = True
            break
        page.append(event)
    answer: dict[str, Any] = {"Events": [event.as_lookup_result() for event in page]}
    if more:
        answer["NextToken"] = base64.urlsafe_b64encode(str(page[-1].sequence).encode()).decode()
    return json.dumps(answer)


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _decode_token(token: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidNextTokenException() from None
