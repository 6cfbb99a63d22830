"""Error mapping. A ClientError is built the way botocore builds it from a response: that is the network edge."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from portal.aws.errors import (
    AwsAccessDenied,
    AwsEndpointUnreachable,
    AwsError,
    AwsNotFound,
    AwsServerError,
    AwsThrottled,
    AwsTimeout,
    aws_errors,
    translate,
)


def client_error(code: str, message: str, operation: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"RequestId": "c0ffee", "HTTPStatusCode": status, "RetryAttempts": 0},
        },
        operation,
    )


def test_access_denied_names_the_missing_permission_and_the_account(second_account):
    error = client_error(
        "AccessDeniedException",
        "User: arn:aws:sts::222222222222:assumed-role/MeridianReadOnly/meridian is not authorized to perform: "
        "ecs:ListServices on resource: * because no identity-based policy allows the ecs:ListServices action",
        "ListServices",
        400,
    )

    with pytest.raises(AwsAccessDenied) as raised, aws_errors(account=second_account, service="ecs"):
        raise error

    denied = raised.value
    assert denied.permission == "ecs:ListServices"
    assert "lacks the permission ecs:ListServices" in str(denied)
    assert "meridian-payments (222222222222)" in str(denied)
    assert denied.__cause__ is error


def test_access_denied_without_a_permission_in_the_message_names_the_operation(own_account):
    error = client_error(
        "UnauthorizedOperation", "You are not authorized to perform this operation.", "DescribeVpcs", 403
    )

    denied = translate(error, account=own_account, service="ec2")

    assert isinstance(denied, AwsAccessDenied)
    assert denied.permission == "ec2:DescribeVpcs"


def test_throttling_after_retries(own_account):
    error = client_error("ThrottlingException", "Rate exceeded", "DescribeServices", 400)

    throttled = translate(error, account=own_account, service="ecs")

    assert isinstance(throttled, AwsThrottled)
    assert "throttling ecs DescribeServices calls in account meridian-prod (123456789012)" in str(throttled)


def test_not_found(own_account):
    error = client_error("ClusterNotFoundException", "Cluster not found.", "DescribeServices", 400)

    assert isinstance(translate(error, account=own_account, service="ecs"), AwsNotFound)


def test_server_errors_are_unavailability(own_account):
    error = client_error("InternalFailure", "We encountered an internal error.", "ListClusters", 500)

    assert isinstance(translate(error, account=own_account, service="ecs"), AwsServerError)


def test_anything_else_is_a_generic_aws_error_with_the_code(own_account):
    error = client_error("InvalidParameterException", "Bad cluster name", "CreateCluster", 400)

    mapped = translate(error, account=own_account, service="ecs")

    assert type(mapped) is AwsError
    assert "InvalidParameterException: Bad cluster name" in str(mapped)


def test_unreachable_endpoint_names_the_configured_endpoint(settings, own_account):
    # AWS_ENDPOINT_URL may be the sandbox, LocalStack or a VPC endpoint: the message says only that it is configured.
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:5055"

    mapped = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:5055/"), account=own_account)

    assert isinstance(mapped, AwsEndpointUnreachable)
    assert mapped.endpoint == "http://127.0.0.1:5055/"
    assert "the AWS endpoint http://127.0.0.1:5055/ (AWS_ENDPOINT_URL)" in str(mapped)
    assert "is it running?" in str(mapped)
    assert "sandbox" not in str(mapped) and "make run" not in str(mapped)


def test_unreachable_endpoint_on_real_aws_points_at_the_network(settings, own_account):
    settings.AWS_ENDPOINT_URL = ""

    mapped = translate(EndpointConnectionError(endpoint_url="https://ecs.eu-west-1.amazonaws.com"), account=own_account)

    assert "https://ecs.eu-west-1.amazonaws.com (real AWS)" in str(mapped)
    assert "sandbox" not in str(mapped)


def test_read_timeout_names_the_setting(settings, own_account):
    settings.AWS_READ_TIMEOUT = 5.0

    mapped = translate(ReadTimeoutError(endpoint_url="https://sts.eu-west-1.amazonaws.com"), account=own_account)

    assert isinstance(mapped, AwsTimeout)
    assert "within 5s (AWS_READ_TIMEOUT)" in str(mapped)
