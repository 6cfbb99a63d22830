"""The AWS layer's own gateway: who the portal is in an account (STS GetCallerIdentity).

It proves the whole path — assume-role, endpoint, retries, breaker, call
accounting, error mapping — with the one call every role may make.
"""

from dataclasses import dataclass

from portal.aws.clients import Timeouts, client, portal_client
from portal.aws.errors import aws_errors


@dataclass(frozen=True)
class CallerIdentity:
    account_id: str
    arn: str
    user_id: str


def caller_identity(account, region: str | None = None) -> CallerIdentity:
    with aws_errors(account=account, service="sts"):
        answer = client("sts", account=account, region=region).get_caller_identity()
    return CallerIdentity(account_id=answer["Account"], arn=answer["Arn"], user_id=answer["UserId"])


def portal_identity(*, timeouts: Timeouts) -> CallerIdentity:
    """Who the portal is with its own credentials: the one cheap call that proves AWS answers, and in time."""
    with aws_errors(service="sts"):
        answer = portal_client("sts", timeouts=timeouts).get_caller_identity()
    return CallerIdentity(account_id=answer["Account"], arn=answer["Arn"], user_id=answer["UserId"])
