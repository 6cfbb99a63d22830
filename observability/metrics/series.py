"""CloudWatch series for pages: cached per query and period, fetched in as few calls as the limits allow,
and the last good answer when AWS fails.

`fetch_series(queries, window)` is what every chart goes through:

1. One cache read (`get_many`) for every query of the page. An entry is one query (account, region,
   namespace, metric, dimensions, statistic) at one period and range; it answers for one period the
   aligned window it was fetched for, so a second view within the period makes no AWS call at all.
   After that it is the query's last good data (kept KEEP_LAST_GOOD): one entry per query serves
   both, which halves the cache's writes and entries.
2. The queries not in the cache are grouped per account and region; each group is one client and
   ceil(n / queries-a-call) GetMetricData calls (observability.metrics.aws batches them). A dashboard of 50
   services is one or a few calls, not 50.
3. A group AWS fails for (throttled, denied, unreachable, slow, breaker open) gets its last good
   series, marked stale, with a notice saying why and from when.
   Page calls use the short page timeouts (portal.aws.clients.page_timeouts), and no new call starts
   once the page has spent OBSERVABILITY_PAGE_AWS_BUDGET seconds on AWS, so a slow AWS costs a page
   a couple of seconds at most and never an error page.
"""

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from observability.metrics import aws
from observability.timeranges import Window
from portal.aws.clients import PageBudget, Timeouts, page_timeouts
from portal.aws.errors import AwsError
from portal.aws.models import AwsAccount

logger = logging.getLogger(__name__)

KEEP_LAST_GOOD = timedelta(days=7)


@dataclass(frozen=True)
class SeriesQuery:
    """One series: a metric of one account and region, with one statistic."""

    account_id: str
    region: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]  # in the order they are sent
    stat: str

    @property
    def cache_id(self) -> str:
        raw = "\x1f".join(
            [self.account_id, self.region, self.namespace, self.metric, self.stat]
            + [f"{n}={v}" for n, v in self.dimensions]
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def as_metric_stat(self) -> aws.MetricStatQuery:
        return aws.MetricStatQuery(self.namespace, self.metric, self.dimensions, self.stat)


@dataclass(frozen=True)
class SeriesResult:
    timestamps: tuple[datetime, ...] = ()
    values: tuple[float, ...] = ()
    fetched_at: datetime | None = None  # when AWS gave this data; None if it never did
    stale: bool = False
    error: str = ""


@dataclass(frozen=True)
class FetchNotice:
    """AWS failed for one account and region; what is shown instead."""

    account: str
    region: str
    error: str
    error_code: str
    last_fetched_at: datetime | None  # of the last good data shown; None if there is none

    @property
    def message(self) -> str:
        shown = (
            f"showing the data fetched at {self.last_fetched_at:%H:%M:%S} UTC"
            if self.last_fetched_at
            else "no earlier data to show"
        )
        return f"CloudWatch could not be read for {self.account} in {self.region} ({shown}). {self.error}"


@dataclass
class FetchResult:
    results: dict[SeriesQuery, SeriesResult] = field(default_factory=dict)
    notices: list[FetchNotice] = field(default_factory=list)

    def get(self, query: SeriesQuery) -> SeriesResult:
        return self.results.get(query, SeriesResult())


def _cache_key(query: SeriesQuery, window: Window) -> str:
    # Per range, not per window: the entry is both the cached answer for its window (fresh for one period)
    # and, after that, the last good data of the range, so one entry per query serves both.
    return f"obs:series:{query.cache_id}:{window.period}:{window.cache_key}"


def _is_fresh(entry, window: Window, now: datetime) -> bool:
    start, end, _, _, fetched_at = entry
    return (start, end) == (window.start, window.end) and now - fetched_at < timedelta(seconds=window.period)


def fetch_series(
    queries: Iterable[SeriesQuery],
    window: Window,
    *,
    timeouts: Timeouts | None = None,
    budget: PageBudget | None = None,
) -> FetchResult:
    """The series of `queries` over `window`, from the cache, then AWS, then the last good data.

    Page defaults: `timeouts` = page_timeouts(), `budget` = a PageBudget of AWS_PAGE_BUDGET seconds.
    """
    timeouts = timeouts or page_timeouts()
    budget = budget or PageBudget()
    wanted = list(dict.fromkeys(queries))
    outcome = FetchResult()
    if not wanted:
        return outcome
    keys = {q: _cache_key(q, window) for q in wanted}
    cached = cache.get_many(list(keys.values()))
    now = timezone.now()
    missing: dict[tuple[str, str], list[SeriesQuery]] = {}
    for q in wanted:
        entry = cached.get(keys[q])
        if entry is not None and _is_fresh(entry, window, now):
            outcome.results[q] = SeriesResult(timestamps=entry[2], values=entry[3], fetched_at=entry[4])
        else:
            missing.setdefault((q.account_id, q.region), []).append(q)
    if not missing:
        return outcome

    accounts = {
        a.account_id: a for a in AwsAccount.objects.filter(account_id__in={a for a, _ in missing}, enabled=True)
    }
    for (account_id, region), group in sorted(missing.items()):
        account = accounts.get(account_id)
        if account is None:
            error = (
                f"Account {account_id or '(none)'} is not an enabled AWS account of the portal: "
                "a portal admin adds it under AWS accounts."
            )
            _fall_back(
                outcome,
                group,
                cached,
                keys,
                label=account_id or "(no account)",
                region=region,
                error=error,
                code="unknown_account",
            )
            continue
        try:
            budget.check("these charts were not fetched")
            with budget.spending():
                series = aws.metric_data(
                    account,
                    region,
                    [q.as_metric_stat() for q in group],
                    start=window.start,
                    end=window.end,
                    period=window.period,
                    timeouts=timeouts,
                )
        except AwsError as exc:
            logger.warning("GetMetricData in %s, %s failed: %s", account, region, exc, extra={"aws_error": exc.code})
            _fall_back(outcome, group, cached, keys, label=str(account), region=region, error=str(exc), code=exc.code)
            continue
        _store(outcome, group, series, window, cached, keys)
    return outcome


def _store(outcome: FetchResult, group, series: list[aws.MetricSeries], window: Window, cached: dict, keys) -> None:
    now = timezone.now()
    fresh = {}
    for query, answer in zip(group, series, strict=True):
        if answer.status in ("Complete", "PartialData"):
            fresh[keys[query]] = (window.start, window.end, answer.timestamps, answer.values, now)
            outcome.results[query] = SeriesResult(timestamps=answer.timestamps, values=answer.values, fetched_at=now)
        else:  # e.g. Forbidden for one metric: that chart says so, the others are fine
            error = f"CloudWatch answered {answer.status}: {answer.message or 'no detail'}"
            outcome.results[query] = _stale(cached.get(keys[query]), error)
    if fresh:
        cache.set_many(fresh, timeout=int(KEEP_LAST_GOOD.total_seconds()))


def _stale(entry, error: str) -> SeriesResult:
    if entry is None:
        return SeriesResult(stale=True, error=error)
    _, _, timestamps, values, fetched_at = entry
    return SeriesResult(timestamps=timestamps, values=values, fetched_at=fetched_at, stale=True, error=error)


def _fall_back(outcome: FetchResult, group, cached: dict, keys, *, label: str, region: str, error: str, code: str):
    fetched = []
    for query in group:
        entry = cached.get(keys[query])
        outcome.results[query] = _stale(entry, error)
        if entry is not None:
            fetched.append(entry[4])
    outcome.notices.append(
        FetchNotice(
            account=label, region=region, error=error, error_code=code, last_fetched_at=min(fetched, default=None)
        )
    )
