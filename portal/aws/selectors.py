"""Reads for the AWS accounts pages and API. None of them calls AWS."""

from dataclasses import dataclass

from django.db.models import QuerySet

from portal.aws.breaker import OPEN, breaker_states
from portal.aws.errors import AwsCircuitOpen, AwsEndpointUnreachable, AwsServerError, AwsTimeout, AwsUnavailable
from portal.aws.models import AwsAccount

# The error codes (AwsError.code) that mean "AWS could not be reached", not "AWS said no".
UNAVAILABLE_CODES = frozenset(
    cls.code for cls in (AwsUnavailable, AwsEndpointUnreachable, AwsTimeout, AwsServerError, AwsCircuitOpen)
)


def aws_account_list() -> QuerySet[AwsAccount]:
    return AwsAccount.objects.order_by("name", "id")


def enabled_account_regions() -> list[tuple[AwsAccount, str]]:
    """(account, region) for every enabled account and each of its regions (its home region if it lists none),
    by account name: what every periodic sync fans out over, one small task each, and what a page reads
    from every account. One query."""
    return [
        (account, region)
        for account in AwsAccount.objects.filter(enabled=True).order_by("name", "id")
        for region in (account.regions or [account.home_region])
    ]


@dataclass(frozen=True)
class AvailabilityNotice:
    account_names: list[str]
    breaker_open: bool

    @property
    def message(self) -> str:
        names = ", ".join(self.account_names)
        if self.breaker_open:
            return (
                f"AWS is not answering for {names}: the portal has paused calls for a while rather than wait. "
                "What you see is the last verified state."
            )
        return f"AWS could not be reached for {names} at the last verification. What you see may be out of date."


def aws_availability_notice(accounts: list[AwsAccount]) -> AvailabilityNotice | None:
    """A notice when AWS is down for some of these accounts: breakers open (from the cache) or last check failed."""
    enabled = [a for a in accounts if a.enabled]
    states = breaker_states([(a.account_id, "sts") for a in enabled])
    open_ids = {s.account_id for s in states if s.state == OPEN}
    down = [a.name for a in enabled if a.account_id in open_ids or a.last_error_code in UNAVAILABLE_CODES]
    if not down:
        return None
    return AvailabilityNotice(account_names=down, breaker_open=bool(open_ids))
