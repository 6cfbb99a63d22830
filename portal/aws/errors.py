"""The project's own AWS exceptions, and the one place botocore's errors are turned into them.

Gateways wrap their calls in `aws_errors(account=..., service=...)`, so the
rest of the portal catches `AwsError` (or a subclass) and shows its message,
which says what to do: which permission is missing in which account, which
endpoint cannot be reached, that the portal is backing off.

    AwsError
    ├── AwsAccessDenied          the role lacks a permission (named)
    ├── AwsNotFound              the resource does not exist
    ├── AwsThrottled             AWS kept saying "slow down" after retries
    └── AwsUnavailable           AWS cannot be reached now (pages show stale data)
        ├── AwsEndpointUnreachable   connection refused / DNS / connect timeout
        ├── AwsTimeout               connected, but no answer in time
        ├── AwsServerError           5xx after retries
        └── AwsCircuitOpen           the breaker refuses calls for a while (no network)
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from django.conf import settings

# Codes AWS services use for "slow down" (botocore's standard retry mode uses the same list).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedException",
        "AuthorizationError",
        "AuthorizationErrorException",
        "NotAuthorized",
        "Forbidden",
    }
)
# IAM's own wording: "... is not authorized to perform: ecs:ListServices on resource: ..."
_PERMISSION_IN_MESSAGE = re.compile(r"not authorized to perform:?\s+([A-Za-z0-9-]+:[A-Za-z0-9*]+)")


class AwsError(Exception):
    """Something went wrong talking to AWS. `str()` is a message a person can act on."""

    code = "aws_error"

    def __init__(self, message: str, *, account: str = "", service: str = "", operation: str = "", aws_code: str = ""):
        super().__init__(message)
        self.message = message
        self.account = account
        self.service = service
        self.operation = operation
        self.aws_code = aws_code


class AwsAccessDenied(AwsError):
    code = "access_denied"

    def __init__(self, message: str, *, permission: str = "", **kwargs: Any):
        super().__init__(message, **kwargs)
        self.permission = permission


class AwsNotFound(AwsError):
    code = "not_found"


class AwsThrottled(AwsError):
    code = "throttled"


class AwsUnavailable(AwsError):
    code = "unavailable"


class AwsEndpointUnreachable(AwsUnavailable):
    code = "endpoint_unreachable"

    def __init__(self, message: str, *, endpoint: str = "", **kwargs: Any):
        super().__init__(message, **kwargs)
        self.endpoint = endpoint


class AwsTimeout(AwsUnavailable):
    code = "timeout"


class AwsServerError(AwsUnavailable):
    code = "server_error"


class AwsCircuitOpen(AwsUnavailable):
    code = "circuit_open"

    def __init__(self, message: str, *, retry_in: float = 0.0, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_in = retry_in


class PageBudgetSpent(AwsError):
    """A page has waited on AWS as long as it may (portal.aws.clients.PageBudget): no new call was started."""

    code = "page_budget"


def account_label(account) -> str:
    """How messages name an account: "payments (111111111111)"."""
    if account is None:
        return "the portal's own AWS account"
    return f"{account.name} ({account.account_id})"


def describe_endpoint(endpoint: str) -> str:
    """Name the endpoint and where it comes from, so nobody debugs the wrong thing.

    AWS_ENDPOINT_URL is set for the embedded sandbox, but just as well for LocalStack or a VPC endpoint:
    the message says only what the portal knows, that it is the configured endpoint.
    """
    if settings.AWS_ENDPOINT_URL:
        return f"the AWS endpoint {endpoint or settings.AWS_ENDPOINT_URL} (AWS_ENDPOINT_URL)"
    return f"the AWS endpoint {endpoint or 'for this region'} (real AWS)"


def _endpoint_advice() -> str:
    if settings.AWS_ENDPOINT_URL:
        return "is it running? Check AWS_ENDPOINT_URL and this host's network"
    return "check this host's network, DNS and proxy"


def translate(exc: Exception, *, account=None, service: str = "") -> AwsError:
    """The project's exception for a botocore exception (returned, not raised, so callers chain it)."""
    who = account_label(account)
    common = {"account": who, "service": service}
    if isinstance(exc, AwsError):
        return exc
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "") or ""
        message = error.get("Message", "") or ""
        operation = exc.operation_name or ""
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        common.update(operation=operation, aws_code=code)
        if code in ACCESS_DENIED_CODES or status == 403:
            found = _PERMISSION_IN_MESSAGE.search(message)
            permission = found.group(1) if found else f"{service}:{operation}" if service else operation
            return AwsAccessDenied(
                f"Access denied in account {who}: the portal's role lacks the permission {permission}. "
                f"Add {permission} to the IAM policy of the role the portal assumes there. (AWS said: {message})",
                permission=permission,
                **common,
            )
        if code in THROTTLING_CODES or status == 429:
            return AwsThrottled(
                f"AWS is throttling {service or 'this service'} {operation} calls in account {who}, even after "
                f"retries. The portal will try again later; if it persists, lower the sync frequency or ask AWS "
                f"for a higher quota. (AWS said: {code}: {message})",
                **common,
            )
        if status == 404 or code.endswith(("NotFound", "NotFoundException")) or code.startswith("NoSuch"):
            return AwsNotFound(f"Not found in account {who}: {message or code} ({service} {operation}).", **common)
        if status >= 500:
            return AwsServerError(
                f"AWS {service} answered {operation} with a server error ({status} {code}) for account {who}, "
                f"even after retries. It is on AWS's side; the portal will try again later. (AWS said: {message})",
                **common,
            )
        return AwsError(f"AWS {service} {operation} failed for account {who}: {code}: {message}", **common)
    if isinstance(exc, ReadTimeoutError):
        endpoint = exc.kwargs.get("endpoint_url", "")
        return AwsTimeout(
            f"No answer from {describe_endpoint(endpoint)} within {settings.AWS_READ_TIMEOUT:g}s "
            f"(AWS_READ_TIMEOUT) for account {who}; {_endpoint_advice()}.",
            **common,
        )
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ConnectionClosedError | BotoConnectionError):
        endpoint = exc.kwargs.get("endpoint_url", "")
        return AwsEndpointUnreachable(
            f"Cannot connect to {describe_endpoint(endpoint)} (account {who}); {_endpoint_advice()}.",
            endpoint=endpoint,
            **common,
        )
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AwsError(
            f"The portal has no usable AWS credentials to reach account {who}: set AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY, a profile, or run it with an instance/task role.",
            **common,
        )
    if isinstance(exc, BotoCoreError):
        return AwsError(f"AWS {service} call failed for account {who}: {exc}", **common)
    raise TypeError(f"not an AWS exception: {exc!r}")


@contextmanager
def aws_errors(*, account=None, service: str = "") -> Iterator[None]:
    """Turn botocore exceptions raised inside the block into the project's own, keeping the cause."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise translate(exc, account=account, service=service) from exc
