"""Traces: the list (GetTraceSummaries with the person's filter expression) and one trace (BatchGetTraces).

The filter expression is X-Ray's own language, passed to X-Ray as written (e.g.
`service("orders-api") AND fault`): the portal does not parse it, so every expression X-Ray knows
works, and one X-Ray refuses comes back as a form error with X-Ray's message.

Traces are read per account and region (X-Ray keeps them there): the list shows one X-Ray page at
a time, newest first, and its "older" link carries X-Ray's NextToken. X-Ray does not promise an
order within a page, so each page is sorted by start time here.

Answers are kept for a minute (service_map.fresh_for) per (account, region, range, expression, page) through
fetch_or_last_good, so a reload makes no AWS call, and AWS trouble shows the last good answer
with a notice instead of an error.
"""

import hashlib
import re
from dataclasses import dataclass

from observability.timeranges import Window
from observability.xray import aws as aws_xray
from observability.xray.aws import SummaryPage, Trace, TraceSummary, XrayInvalidRequest
from observability.xray.service_map import fresh_for
from portal.aws.clients import PageBudget, page_timeouts
from portal.aws.freshness import fetch_or_last_good
from portal.aws.models import AwsAccount
from portal.aws.selectors import enabled_account_regions

# The portal's own bound on what it forwards; X-Ray's expressions are short (a few clauses).
MAX_EXPRESSION_LENGTH = 2000
TRACE_ID = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")


class TraceQueryError(ValueError):
    """A trace list asked for with input that cannot be sent to X-Ray (the message says why)."""


@dataclass(frozen=True)
class Source:
    account: AwsAccount
    region: str

    @property
    def value(self) -> str:
        return f"{self.account.name}/{self.region}"


def trace_sources() -> list[Source]:
    return [Source(account, region) for account, region in enabled_account_regions()]


def choose_source(sources: list[Source], account_name: str, region: str) -> Source:
    """The (account, region) asked for, or the first one when nothing was asked; TraceQueryError if unknown."""
    if not sources:
        raise TraceQueryError("No AWS account is configured, so there are no traces to read.")
    if not account_name and not region:
        return sources[0]
    for source in sources:
        if source.account.name == account_name and (not region or source.region == region):
            return source
    raise TraceQueryError(f"No enabled AWS account {account_name!r} with the region {region!r} is configured.")


def clean_expression(raw: str | None) -> str:
    expression = (raw or "").strip()
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise TraceQueryError(f"A filter expression is at most {MAX_EXPRESSION_LENGTH} characters here.")
    return expression


@dataclass(frozen=True)
class TraceList:
    source: Source
    window: Window
    expression: str
    summaries: list[TraceSummary]  # newest first
    next_token: str
    fetched_at: object  # datetime | None
    stale: bool
    error: str  # AWS trouble (the notice); empty when fine
    error_code: str
    filter_error: str  # X-Ray refused the expression: its message, for the form


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def trace_list(source: Source, window: Window, expression: str, *, page_token: str = "") -> TraceList:
    refused: list[XrayInvalidRequest] = []

    def fetch() -> SummaryPage:
        try:
            return aws_xray.trace_summaries(
                source.account,
                source.region,
                start=window.start,
                end=window.end,
                filter_expression=expression,
                next_token=page_token,
                timeouts=page_timeouts(),
            )
        except XrayInvalidRequest as error:
            refused.append(error)
            raise

    key = f"xray:trace-summaries:{source.account.account_id}:{source.region}:{window.cache_key}:"
    key += _digest(expression, page_token)
    result = fetch_or_last_good(key, fetch, fresh_for=fresh_for())
    page: SummaryPage | None = result.value
    if refused:
        return TraceList(source, window, expression, [], "", None, False, "", "", filter_error=refused[0].aws_message)
    summaries = sorted(page.summaries, key=lambda s: (s.start is not None, s.start, s.id), reverse=True) if page else []
    return TraceList(
        source=source,
        window=window,
        expression=expression,
        summaries=summaries,
        next_token=page.next_token if page else "",
        fetched_at=result.fetched_at,
        stale=result.stale,
        error=result.error,
        error_code=result.error_code,
        filter_error="",
    )


@dataclass(frozen=True)
class PartNotice:
    """An account and region whose part of the trace AWS did not give this time."""

    label: str
    error: str
    error_code: str
    fetched_at: object  # when the part shown was fetched, None if never


@dataclass(frozen=True)
class FetchedTrace:
    trace: Trace | None  # None: no account and region has the trace, or AWS never answered (see notices)
    fetched_at: object  # the oldest part's
    notices: list[PartNotice]
    sources_with_segments: list[str]  # "account region" of each part found

    @property
    def stale(self) -> bool:
        return bool(self.notices)


def trace_detail(source: Source, trace_id: str, *, sources: list[Source] | None = None) -> FetchedTrace:
    """One trace with its segments from every account and region, the one it was listed in first.

    A request crossing accounts or regions leaves a part of its trace (same id) in each X-Ray, so the
    waterfall asks each one (BatchGetTraces, cached per account, region and trace) and joins the parts.
    A part X-Ray does not have is remembered as missing for a minute; no new call starts once the page
    has spent OBSERVABILITY_PAGE_AWS_BUDGET seconds on AWS.
    """
    others = trace_sources() if sources is None else sources
    ordered = [source] + [s for s in others if s.value != source.value]
    budget = PageBudget()
    parts: list[Trace] = []
    found_in: list[str] = []
    notices: list[PartNotice] = []
    times = []
    for where in ordered:

        def fetch(where=where):
            budget.check(f"the part of the trace in {where.account.name} {where.region} was not fetched")
            with budget.spending():
                answer = aws_xray.batch_get_traces(where.account, where.region, [trace_id], timeouts=page_timeouts())
            return answer[0] if answer else None

        key = f"xray:trace:{where.account.account_id}:{where.region}:{trace_id}"
        result = fetch_or_last_good(key, fetch, fresh_for=fresh_for())
        label = f"{where.account.name} {where.region}"
        if result.stale:
            notices.append(PartNotice(label, result.error, result.error_code, result.fetched_at))
        if result.fetched_at is not None:
            times.append(result.fetched_at)
        if result.value is not None:
            parts.append(result.value)
            found_in.append(label)
    if not parts:
        return FetchedTrace(None, min(times) if times else None, notices, [])
    seen: set[str] = set()
    segments = []
    for part in parts:
        for segment in part.segments:
            identity = str(segment.get("id"))
            if identity not in seen:
                seen.add(identity)
                segments.append(segment)
    joined = Trace(id=trace_id, duration=parts[0].duration, segments=tuple(segments))
    return FetchedTrace(joined, min(times) if times else None, notices, found_in)
