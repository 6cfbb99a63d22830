"""The one AWS client factory: `client(service, *, account, region)`.

Every boto3 client in the portal comes from here, so every one has the same
timeouts, retries, endpoint, call accounting and circuit breaker:

- Credentials: the portal's own (environment, profile, instance/task role)
  when the account has no role_arn; otherwise AssumeRole into it with its
  ExternalId and the session name "meridian".
- Assumed-role credentials are kept in Django's cache until 5 minutes before
  they expire. Why the shared cache and not process memory: every web and
  worker process (on every host) then shares one set per account, so STS
  sees one AssumeRole per account an hour instead of one per process, and
  nothing lives in process memory across requests (ARCHITECTURE). They are
  temporary, scoped to a role the portal may assume anyway, and the cache
  is infrastructure only the portal reaches (Redis in production).
- `botocore.config.Config`: standard retry mode with AWS_MAX_ATTEMPTS attempts in all, the
  AWS_CONNECT_TIMEOUT/AWS_READ_TIMEOUT timeouts, and AWS_ENDPOINT_URL when
  set (the sandbox, LocalStack, a VPC endpoint). Nothing else differs between them and AWS.
- `timeouts=page_timeouts()` for a call made while a person waits for a page (the
  AWS_PAGE_* settings: about a second to connect, two to answer, no retry): a slow
  AWS then costs the page a couple of seconds at most, and the page shows its last
  good data instead. Tasks keep the longer defaults, since nobody waits on them.
- `PageBudget()` for a page that makes several AWS calls (a dashboard over accounts and
  regions, a trace joined from several X-Rays): once the page has waited AWS_PAGE_BUDGET
  seconds on AWS in all, no new call starts and the rest shows its last good data.
"""

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import boto3
from botocore.config import Config
from django.conf import settings
from django.core.cache import cache

from portal.aws import accounting
from portal.aws.breaker import CircuitBreaker, is_outage_exception, is_outage_response
from portal.aws.errors import PageBudgetSpent, aws_errors

SESSION_NAME = "meridian"
ASSUME_ROLE_SECONDS = 3600
# Refresh this long before expiry, so a call started with cached credentials never outlives them.
CREDENTIALS_MARGIN = timedelta(minutes=5)

# One boto3 session per process: it holds the service models (loading them again for every
# client costs tens of milliseconds) and the portal's own refreshable credentials. Creating a
# client from a shared session is not thread-safe, hence the lock.
_session: boto3.session.Session | None = None
_session_lock = threading.Lock()


def _shared_session() -> boto3.session.Session:
    global _session
    if _session is None:
        _session = boto3.session.Session()
    return _session


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float
    max_attempts: int  # every request, the first included


def default_timeouts() -> Timeouts:
    return Timeouts(settings.AWS_CONNECT_TIMEOUT, settings.AWS_READ_TIMEOUT, settings.AWS_MAX_ATTEMPTS)


def page_timeouts() -> Timeouts:
    """For calls a page waits on: short, and no retry (the next view tries again)."""
    return Timeouts(settings.AWS_PAGE_CONNECT_TIMEOUT, settings.AWS_PAGE_READ_TIMEOUT, settings.AWS_PAGE_MAX_ATTEMPTS)


class PageBudget:
    """How long one page view may wait on AWS in all, over every call it makes (AWS_PAGE_BUDGET seconds).

        budget = PageBudget()
        for account, region in sources:
            budget.check(f"the X-Ray graph of {account.name} {region} was not fetched")  # PageBudgetSpent once spent
            with budget.spending():
                answer = ...  # the AWS call

    Only time spent in AWS calls counts: answers from the cache cost the page nothing.
    """

    def __init__(self, seconds: float | None = None):
        self.seconds = settings.AWS_PAGE_BUDGET if seconds is None else seconds
        self.spent = 0.0

    @property
    def exhausted(self) -> bool:
        return self.spent > self.seconds

    def check(self, what_is_skipped: str) -> None:
        """Raise PageBudgetSpent, saying what is skipped ("these charts were not fetched"), once the budget is spent."""
        if self.exhausted:
            raise PageBudgetSpent(
                f"AWS was slow for this page, so {what_is_skipped} "
                f"(after {self.spent:.1f}s on AWS; the budget is {self.seconds:g}s)."
            )

    @contextmanager
    def spending(self) -> Iterator[None]:
        began = time.monotonic()
        try:
            yield
        finally:
            self.spent += time.monotonic() - began


def client_config(region: str, timeouts: Timeouts | None = None) -> Config:
    timeouts = timeouts or default_timeouts()
    return Config(
        region_name=region,
        connect_timeout=timeouts.connect,
        read_timeout=timeouts.read,
        # total_max_attempts, not max_attempts: botocore reads `max_attempts` in this dict as *retries*
        # (3 would mean 4 requests), while AWS_MAX_ATTEMPTS, like botocore's own variable of that name,
        # counts every request including the first.
        retries={"mode": "standard", "total_max_attempts": timeouts.max_attempts},
        user_agent_appid="meridian",
    )


def _new_client(service: str, region: str, credentials: dict | None, timeouts: Timeouts | None = None):
    kwargs = {"config": client_config(region, timeouts), "region_name": region}
    if settings.AWS_ENDPOINT_URL:
        kwargs["endpoint_url"] = settings.AWS_ENDPOINT_URL
    if credentials is not None:
        kwargs.update(
            aws_access_key_id=credentials["access_key"],
            aws_secret_access_key=credentials["secret_key"],
            aws_session_token=credentials["token"],
        )
    with _session_lock:
        return _shared_session().client(service, **kwargs)


def _instrument(botocore_client, *, service: str, breaker_account: str):
    """Wire call accounting and the circuit breaker into this client's events (and only this client's)."""
    breaker = CircuitBreaker(breaker_account, service)
    events = botocore_client.meta.events
    events.register("before-call", partial(_before_call, service=service, breaker=breaker))
    events.register("request-created", partial(_request_created, service=service))
    events.register("after-call", partial(_after_call, breaker=breaker))
    events.register("after-call-error", partial(_after_call_error, breaker=breaker))
    return botocore_client


def _before_call(*, service, breaker, model, context, **kwargs):
    # The breaker first: a refused call makes no network request and is not counted as one.
    context["meridian_breaker"] = breaker.before_call()
    accounting.record_call(service, model.name)


def _request_created(*, service, operation_name, **kwargs):
    accounting.record_attempt(service, operation_name)


def _after_call(*, breaker, http_response, parsed, context, **kwargs):
    ticket = context.get("meridian_breaker")
    if ticket is None:
        return
    code = (parsed or {}).get("Error", {}).get("Code", "") if http_response.status_code >= 300 else ""
    if is_outage_response(http_response.status_code, code):
        breaker.record_failure(ticket)
    else:
        breaker.record_success(ticket)


def _after_call_error(*, breaker, exception, context, **kwargs):
    ticket = context.get("meridian_breaker")
    if ticket is not None and is_outage_exception(exception):
        breaker.record_failure(ticket)


def _credentials_cache_key(account) -> str:
    # The role and external id are part of the key, so an edited account never reuses old credentials.
    fingerprint = hashlib.sha256(f"{account.role_arn}\n{account.external_id}".encode()).hexdigest()[:16]
    return f"aws:credentials:{account.account_id}:{fingerprint}"


def _assumed_role_credentials(account, region: str, timeouts: Timeouts | None = None) -> dict:
    key = _credentials_cache_key(account)
    cached = cache.get(key)
    if cached is not None:
        return cached
    sts = _instrument(_new_client("sts", region, None, timeouts), service="sts", breaker_account=account.account_id)
    params = {"RoleArn": account.role_arn, "RoleSessionName": SESSION_NAME, "DurationSeconds": ASSUME_ROLE_SECONDS}
    if account.external_id:
        params["ExternalId"] = account.external_id
    with aws_errors(account=account, service="sts"):
        answer = sts.assume_role(**params)["Credentials"]
    expiration = answer["Expiration"]
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=UTC)
    credentials = {
        "access_key": answer["AccessKeyId"],
        "secret_key": answer["SecretAccessKey"],
        "token": answer["SessionToken"],
        "expires_at": expiration.isoformat(),
    }
    keep_for = (expiration - datetime.now(UTC) - CREDENTIALS_MARGIN).total_seconds()
    if keep_for > 0:
        cache.set(key, credentials, timeout=int(keep_for))
    return credentials


def client(service: str, *, account, region: str | None = None, timeouts: Timeouts | None = None):
    """A boto3 client for `service` in `account` (an AwsAccount) and `region`.

    `region` defaults to the account's first region, then AWS_DEFAULT_REGION.
    `timeouts` defaults to the AWS_CONNECT_TIMEOUT/AWS_READ_TIMEOUT/AWS_MAX_ATTEMPTS
    settings; pages pass `page_timeouts()`. May raise AwsError subclasses while
    assuming the role (AccessDenied on sts:AssumeRole, endpoint unreachable, circuit open).
    """
    region = region or account.home_region
    credentials = _assumed_role_credentials(account, region, timeouts) if account.role_arn else None
    return _instrument(
        _new_client(service, region, credentials, timeouts), service=service, breaker_account=account.account_id
    )


def portal_client(service: str, *, region: str | None = None, timeouts: Timeouts | None = None):
    """A client with the portal's own credentials, in no account of the portal's list (no role assumed).

    For asking whether AWS answers the portal at all (the readiness probe), before any account is involved.
    """
    region = region or settings.AWS_DEFAULT_REGION
    return _instrument(_new_client(service, region, None, timeouts), service=service, breaker_account="portal")
