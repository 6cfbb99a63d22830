"""PutMetricData, GetMetricData, GetMetricStatistics and ListMetrics on the metric index.

What moto 5.2.5 gets wrong, and what the sandbox answers instead:

- A percentile statistic (`p99`) crashes GetMetricData and is ignored by GetMetricStatistics'
  ExtendedStatistics. Here any pNN.NN is answered from the stored distributions (see
  `statistics`), including `Values` + `Counts` weights, which moto expanded into one stored
  copy per count (and truncated when fractional).
- GetMetricData scans every stored datapoint for every period of every query (about 3.5 s per
  query on 7 days x 200 series); here a query bisects its series (see `store`).
- A query without dimensions matched every series of the metric name, and one with dimensions
  ignored the namespace; here a query names one series exactly: namespace, name and the whole
  dimension set, as in CloudWatch.
- AWS limits and options moto lacks: at most 500 queries; at most 100,800 datapoints a call
  (`MaxDatapoints`), the rest paged with NextToken and the cut result marked `PartialData`;
  Period 1, 5, 10, 20, 30 or a multiple of 60; StartTime rounded down as CloudWatch rounds it
  (to the minute within 15 days, 5 minutes within 63 days, the hour before); ScanBy; Label
  with `${PROP('...')}`, the metric name by default; metric-math arithmetic (`expressions`).
- GetMetricStatistics' periods start at StartTime (moto started them at the first datapoint),
  it refuses more than 1,440 datapoints, and Statistics with ExtendedStatistics, as AWS does.
- ListMetrics listed one entry per stored datapoint of a dimensionless metric; here one per
  series, 500 a page, with Dimensions filters and RecentlyActive.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import time
from bisect import bisect_left
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudwatch.exceptions import InvalidParameterCombination, InvalidParameterValue, ValidationError
from moto.cloudwatch.models import CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import get_service_model

from sandbox.extensions.cloudwatch import expressions
from sandbox.extensions.cloudwatch.statistics import BASIC_STATISTICS, Statistic
from sandbox.extensions.cloudwatch.store import MetricStore, Series, SeriesKey, epoch, metric_stores, readable_series

MAX_QUERIES = 500
MAX_DATAPOINTS = 100_800
MAX_STATISTICS_DATAPOINTS = 1_440
MAX_PUT_MEMBERS = 1_000
MAX_DISTINCT_VALUES = 150
LIST_METRICS_PAGE = 500
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)
RECENTLY_ACTIVE = {"PT3H": 3 * 3600}
_QUERY_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
# CloudWatch's other extended statistics (trimmed mean, winsorized mean, trimmed count and sum,
# percentile rank, interquartile mean), which the sandbox does not compute.
_OTHER_EXTENDED_STATISTIC = re.compile(r"^(?:(?:tm|wm|tc|ts)\d|(?:TM|WM|TC|TS|PR)\(|IQM$)")
_PROP = re.compile(r"\$\{PROP\('([^']+)'\)\}")


class InvalidNextToken(ServiceException):
    code = "InvalidNextToken"
    message = "The NextToken is invalid, or belongs to another request."


def install() -> None:
    CloudWatchBackend.put_metric_data = put_metric_data  # type: ignore[method-assign]
    CloudWatchResponse.get_metric_data = _get_metric_data  # type: ignore[method-assign]
    CloudWatchResponse.get_metric_statistics = _get_metric_statistics  # type: ignore[method-assign]
    CloudWatchResponse.list_metrics = _list_metrics  # type: ignore[method-assign]


def store_for(backend: CloudWatchBackend) -> MetricStore:
    return metric_stores[backend.account_id][backend.region_name]


# --- PutMetricData --------------------------------------------------------------


def put_metric_data(self: CloudWatchBackend, namespace: str, metric_data: list[dict[str, Any]]) -> None:
    """moto's validation, AWS's size limits, then the index (moto's own list stays empty).

    Patched on the backend, not the response, so moto's services that publish metrics
    themselves (Kinesis) reach the index too.
    """
    if len(metric_data) > MAX_PUT_MEMBERS:
        raise InvalidParameterValue(f"The collection MetricData must not have a size greater than {MAX_PUT_MEMBERS}.")
    for number, member in enumerate(metric_data, start=1):
        self._validate_parameters_put_metric_data(member, number)
        if len(member.get("Values") or ()) > MAX_DISTINCT_VALUES:
            raise InvalidParameterValue(
                f"The collection MetricData.member.{number}.Values must not have a size greater than "
                f"{MAX_DISTINCT_VALUES}."
            )
        if any(float(count) < 0 for count in member.get("Counts") or ()):
            raise InvalidParameterValue(f"The parameter MetricData.member.{number}.Counts must not be negative.")
    store_for(self).put(namespace, metric_data)


# --- Shared ---------------------------------------------------------------------


def rounded_start(start: float, period: int, now: float) -> float:
    """StartTime rounded down as CloudWatch rounds it, so periods fall on clock boundaries."""
    if period < 60:
        step = period
    elif now - start <= timedelta(days=15).total_seconds():
        step = 60
    elif now - start <= timedelta(days=63).total_seconds():
        step = 300
    else:
        step = 3600
    return start - math.fmod(start, step)


def valid_period(period: Any) -> bool:
    return isinstance(period, int) and period > 0 and (period in HIGH_RESOLUTION_PERIODS or period % 60 == 0)


def periods_of(
    series: Series | None, start: float, end: float, period: int, statistic: Statistic
) -> list[tuple[float, float]]:
    """(period start, value) of each period in [start, end) where `series` has a value, oldest first.

    One bisection finds the time range, then one more per period that holds datapoints: the cost
    follows the datapoints in range, not the number of periods or the size of the store.
    """
    if series is None:
        return []
    times = series.times
    compute = statistic.over(series)
    index, stop = series.span(start, end)
    found: list[tuple[float, float]] = []
    while index < stop:
        bucket = (times[index] - start) // period
        bucket_end = start + (bucket + 1) * period
        after = index + 1
        if after < stop and times[after] < bucket_end:
            after = bisect_left(times, bucket_end, after, stop)
        value = compute(index, after)
        if value is not None:
            found.append((start + bucket * period, value))
        index = after
    return found


def _timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def encode_token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_token(token: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidNextToken() from None
    if not isinstance(payload, dict):
        raise InvalidNextToken()
    return payload


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --- GetMetricData --------------------------------------------------------------


def _get_metric_data(self: CloudWatchResponse) -> ActionResult:
    params = self._get_params()
    queries: list[dict[str, Any]] = params.get("MetricDataQueries") or []
    _validate_queries(queries)
    start, end = epoch(params["StartTime"]), epoch(params["EndTime"])
    if start > end:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start == end:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
    scan_by = params.get("ScanBy") or "TimestampDescending"
    if scan_by not in ("TimestampDescending", "TimestampAscending"):
        raise ValidationError(
            f"The value {scan_by} for parameter ScanBy is invalid: use TimestampDescending or TimestampAscending."
        )
    max_datapoints = params.get("MaxDatapoints") or MAX_DATAPOINTS
    if not isinstance(max_datapoints, int) or max_datapoints < 1:
        raise ValidationError("The parameter MaxDatapoints must be a positive integer.")
    fingerprint = _fingerprint(queries, start, end, scan_by, max_datapoints)
    resume = decode_token(params["NextToken"]) if params.get("NextToken") else None
    if resume is not None and resume.get("f") != fingerprint:
        raise InvalidNextToken()

    backend = self.cloudwatch_backend
    store = store_for(backend)
    descending = scan_by == "TimestampDescending"
    with store.lock:
        # The pages of one request share its answer while no datapoint arrives in between:
        # a 7-day, 5-minute dashboard is about ten pages, each otherwise computed in full.
        cached = store.last_answer
        if resume is not None and cached is not None and cached[:2] == (fingerprint, store.version):
            results = cached[2]
        else:
            results = _answer_queries(queries, start, end, readable_series(store, backend), backend.account_id)
            if descending:
                for result in results:
                    result["points"].reverse()
            store.last_answer = (fingerprint, store.version, results)
    page, next_position = _page(results, resume, max_datapoints, descending)
    answer: dict[str, Any] = {"MetricDataResults": page, "Messages": []}
    if next_position is not None:
        answer["NextToken"] = encode_token({"f": fingerprint, **next_position})
    return _respond(self, answer)


def _respond(self: CloudWatchResponse, answer: dict[str, Any]) -> ActionResult | tuple[str, dict[str, str]]:
    """The GetMetricData answer, its timestamps in epoch seconds, as the client's protocol wants it.

    moto's generic serializer walks the service model for every list element: about 0.4 s for a
    dashboard's 84,000 datapoints, as long as computing them. For the JSON protocol (what boto3
    speaks to CloudWatch) the answer is already in wire form and is dumped directly; the query
    (XML) protocol still goes through moto's serializer.
    """
    if self.determine_response_protocol(get_service_model("cloudwatch")) == "json":
        return json.dumps(answer), {"Content-Type": "application/x-amz-json-1.0"}
    for result in answer["MetricDataResults"]:
        result["Timestamps"] = [_timestamp(t) for t in result["Timestamps"]]
    return ActionResult(answer)


def _validate_queries(queries: list[dict[str, Any]]) -> None:
    if len(queries) > MAX_QUERIES:
        raise ValidationError(f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}.")
    problems = []
    seen: set[str] = set()
    for number, query in enumerate(queries, start=1):
        member = f"MetricDataQueries.member.{number}"
        query_id = query.get("Id", "")
        if not _QUERY_ID.match(query_id):
            problems.append(
                f"The value {query_id} for parameter {member}.Id is invalid: an Id starts with a lowercase letter"
                " and holds only letters, numbers and underscores."
            )
        elif query_id in seen:
            problems.append(f"The value {query_id} for parameter {member}.Id is not unique.")
        seen.add(query_id)
        if "MetricStat" in query and "Expression" in query:
            problems.append(f"The parameters {member}.MetricStat and {member}.Expression are mutually exclusive.")
        elif "MetricStat" in query:
            stat = query["MetricStat"]
            if Statistic.parse(stat.get("Stat", "")) is None:
                problems.append(_unanswered_statistic(stat.get("Stat"), f"{member}.MetricStat.Stat"))
            if not valid_period(stat.get("Period")):
                problems.append(
                    f"The value {stat.get('Period')} for parameter {member}.MetricStat.Period is invalid:"
                    " it must be 1, 5, 10, 20, 30 or a multiple of 60."
                )
        elif "Expression" not in query:
            problems.append(f"The parameter {member}.MetricStat is required.")
    if problems:
        raise ValidationError("\n".join(problems))


def _unanswered_statistic(name: Any, parameter: str) -> str:
    if isinstance(name, str) and _OTHER_EXTENDED_STATISTIC.match(name):
        return (
            f"The sandbox does not compute the statistic {name} ({parameter}): it answers SampleCount, Average,"
            " Sum, Minimum, Maximum and percentiles (pNN.NN)."
        )
    return f"The value {name} for parameter {parameter} is not a valid statistic."


def _answer_queries(
    queries: list[dict[str, Any]],
    start: float,
    end: float,
    series: Mapping[SeriesKey, Series],
    account_id: str,
) -> list[dict[str, Any]]:
    """Every query's (id, label, points oldest first, status, messages); those with ReturnData false left out."""
    now = time.time()
    computed: dict[str, list[tuple[float, float]]] = {}
    for query in queries:
        if "MetricStat" not in query:
            continue
        stat = query["MetricStat"]
        metric = stat["Metric"]
        key = (metric["Namespace"], metric["MetricName"], _dimension_pairs(metric.get("Dimensions")))
        found = series.get(key)
        found = found.in_unit(stat.get("Unit")) if found is not None else None
        period = int(stat["Period"])
        computed[query["Id"]] = periods_of(
            found,
            rounded_start(start, period, now),
            end,
            period,
            Statistic.parse(stat["Stat"]),  # type: ignore[arg-type]
        )

    by_id = {query["Id"]: query for query in queries}
    failures: dict[str, str] = {}
    _evaluate_expressions(by_id, computed, failures)

    results = []
    for query in queries:
        if query.get("ReturnData", True) is False:
            continue
        query_id = query["Id"]
        result: dict[str, Any] = {
            "id": query_id,
            "label": _label(query, account_id),
            "points": computed.get(query_id, []),
            "messages": [],
            "failed": query_id in failures,
        }
        if query_id in failures:
            result["messages"].append({"Code": "Unsupported", "Value": failures[query_id]})
        results.append(result)
    return results


def _evaluate_expressions(
    by_id: dict[str, dict[str, Any]], computed: dict[str, list[tuple[float, float]]], failures: dict[str, str]
) -> None:
    resolving: list[str] = []

    def resolve(query_id: str) -> dict[float, float]:
        if query_id not in computed:
            query = by_id.get(query_id)
            if query is None or query_id in resolving:
                raise KeyError(query_id)
            resolving.append(query_id)
            try:
                computed[query_id] = _expression_points(query)
            finally:
                resolving.pop()
        return dict(computed[query_id])

    def _expression_points(query: dict[str, Any]) -> list[tuple[float, float]]:
        expression = query["Expression"]
        if expression.lstrip().upper().startswith("SELECT"):
            raise expressions.UnsupportedExpression(expression)
        return sorted(expressions.evaluate(expression, resolve).items())

    for query_id, query in by_id.items():
        if "Expression" not in query or query_id in computed:
            continue
        try:
            resolve(query_id)
        except expressions.UnknownReference as unknown:
            raise ValidationError(
                f"Error in expression '{query_id}': Unrecognized metric or expression: '{unknown.name}'."
            ) from None
        except expressions.UnsupportedExpression:
            failures[query_id] = (
                f"The sandbox does not evaluate the expression '{query['Expression']}': it answers query Ids,"
                " numbers and + - * / only (no functions, SEARCH or Metrics Insights)."
            )
            computed[query_id] = []


def _dimension_pairs(dimensions: list[dict[str, str]] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(d["Name"]), str(d.get("Value"))) for d in dimensions or ()))


def _label(query: dict[str, Any], account_id: str) -> str:
    label = query.get("Label")
    stat = query.get("MetricStat")
    if not label:
        return stat["Metric"]["MetricName"] if stat else query["Id"]
    if not stat:
        return label
    metric = stat["Metric"]
    properties = {
        "MetricName": metric["MetricName"],
        "Namespace": metric["Namespace"],
        "Period": str(stat["Period"]),
        "Stat": stat["Stat"],
        "AccountId": account_id,
        **{f"Dim.{d['Name']}": d.get("Value", "") for d in metric.get("Dimensions") or ()},
    }
    return _PROP.sub(lambda match: properties.get(match.group(1), ""), label)


def _page(
    results: list[dict[str, Any]], resume: dict[str, Any] | None, budget: int, descending: bool
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The results of this page and the position of the next one (None when this is the last).

    A page holds at most `budget` datapoints. Results are taken in request order; the one cut
    short is marked PartialData and the next page resumes after its last timestamp (not at an
    offset, so datapoints arriving meanwhile are neither repeated nor skipped); results not
    reached yet come in later pages. Clients merge pages by Id, as boto3's paginator users do.
    """
    first = int(resume.get("r", 0)) if resume else 0
    after = resume.get("t") if resume else None
    if not isinstance(first, int) or first < 0 or first > len(results):
        raise InvalidNextToken()
    page = []
    for index in range(first, len(results)):
        result = results[index]
        points = result["points"]
        if index == first and after is not None:
            points = [p for p in points if (p[0] < after if descending else p[0] > after)]
        if points and budget == 0:
            return page, {"r": index, "t": None}
        taken = points[:budget]
        budget -= len(taken)
        complete = len(taken) == len(points)
        status = "InternalError" if result["failed"] else ("Complete" if complete else "PartialData")
        page.append(
            {
                "Id": result["id"],
                "Label": result["label"],
                "Timestamps": [t for t, _ in taken],
                "Values": [v for _, v in taken],
                "StatusCode": status,
                "Messages": result["messages"],
            }
        )
        if not complete:
            return page, {"r": index, "t": taken[-1][0]}
    return page, None


# --- GetMetricStatistics --------------------------------------------------------


def _get_metric_statistics(self: CloudWatchResponse) -> ActionResult:
    params = self._get_params()
    statistics: list[str] = params.get("Statistics") or []
    extended: list[str] = params.get("ExtendedStatistics") or []
    if bool(statistics) == bool(extended):
        raise InvalidParameterCombination("Must specify either Statistics or ExtendedStatistics, but not both.")
    for number, name in enumerate(statistics, start=1):
        if name not in BASIC_STATISTICS:
            raise InvalidParameterValue(
                f"The parameter Statistics.member.{number} must be a value in the set"
                " [ Minimum, Maximum, Average, SampleCount, Sum ]."
            )
    for number, name in enumerate(extended, start=1):
        parsed = Statistic.parse(name)
        if parsed is None or parsed.percentile is None:
            raise InvalidParameterValue(_unanswered_statistic(name, f"ExtendedStatistics.member.{number}"))
    if len(statistics) > 5 or len(extended) > 10:
        which, limit = ("Statistics", 5) if len(statistics) > 5 else ("ExtendedStatistics", 10)
        raise InvalidParameterValue(f"The collection {which} must not have a size greater than {limit}.")
    period = params.get("Period")
    if not valid_period(period):
        raise InvalidParameterValue("The parameter Period must be 1, 5, 10, 20, 30 or a multiple of 60.")
    start, end = epoch(params["StartTime"]), epoch(params["EndTime"])
    if start >= end:
        raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
    start = rounded_start(start, period, time.time())
    requested = math.ceil((end - start) / period)
    if requested > MAX_STATISTICS_DATAPOINTS:
        raise InvalidParameterCombination(
            f"You have requested up to {requested} datapoints, which exceeds the limit of"
            f" {MAX_STATISTICS_DATAPOINTS}. You may reduce the datapoints requested by increasing Period,"
            " or decreasing the time range."
        )

    backend = self.cloudwatch_backend
    store = store_for(backend)
    key = (params["Namespace"], params["MetricName"], _dimension_pairs(params.get("Dimensions")))
    with store.lock:
        series = readable_series(store, backend).get(key)
        series = series.in_unit(params.get("Unit")) if series is not None else None
        datapoints = _datapoints(series, start, end, period, statistics, extended)
    return ActionResult({"Label": params["MetricName"], "Datapoints": datapoints})


def _datapoints(
    series: Series | None, start: float, end: float, period: int, statistics: list[str], extended: list[str]
) -> list[dict[str, Any]]:
    if series is None:
        return []
    columns: dict[str, dict[float, float]] = {}
    for name in statistics + extended:
        columns[name] = dict(periods_of(series, start, end, period, Statistic.parse(name)))  # type: ignore[arg-type]
    starts = sorted({t for column in columns.values() for t in column})
    datapoints = []
    for period_start in starts:
        _, stop = series.span(period_start, min(period_start + period, end))
        datapoint: dict[str, Any] = {"Timestamp": _timestamp(period_start), "Unit": series.units[stop - 1]}
        for name in statistics:
            if period_start in columns[name]:
                datapoint[name] = columns[name][period_start]
        percentiles = {name: columns[name][period_start] for name in extended if period_start in columns[name]}
        if percentiles:
            datapoint["ExtendedStatistics"] = percentiles
        datapoints.append(datapoint)
    return datapoints


# --- ListMetrics ----------------------------------------------------------------


def _list_metrics(self: CloudWatchResponse) -> ActionResult:
    params = self._get_params()
    recently_active = params.get("RecentlyActive")
    if recently_active is not None and recently_active not in RECENTLY_ACTIVE:
        raise InvalidParameterValue(f"The value {recently_active} for parameter RecentlyActive is invalid: use PT3H.")
    filters = [(f["Name"], f.get("Value")) for f in params.get("Dimensions") or ()]
    matches = _metric_filter(params.get("Namespace"), params.get("MetricName"), filters, recently_active)
    after = None
    if params.get("NextToken"):
        payload = decode_token(params["NextToken"])
        after = _as_key(payload.get("k"))

    backend = self.cloudwatch_backend
    store = store_for(backend)
    with store.lock:
        keys = sorted(key for key, series in readable_series(store, backend).items() if matches(key, series))
    if after is not None:
        keys = [key for key in keys if key > after]
    page = keys[:LIST_METRICS_PAGE]
    answer: dict[str, Any] = {
        "Metrics": [
            {"Namespace": ns, "MetricName": name, "Dimensions": [{"Name": n, "Value": v} for n, v in dims]}
            for ns, name, dims in page
        ]
    }
    if params.get("IncludeLinkedAccounts"):
        answer["OwningAccounts"] = [backend.account_id] * len(page)
    if len(keys) > LIST_METRICS_PAGE:
        answer["NextToken"] = encode_token({"k": [page[-1][0], page[-1][1], [list(p) for p in page[-1][2]]]})
    return ActionResult(answer)


def _metric_filter(
    namespace: str | None, metric_name: str | None, filters: list[tuple[str, str | None]], recently_active: str | None
) -> Callable[[SeriesKey, Series], bool]:
    oldest = time.time() - RECENTLY_ACTIVE[recently_active] if recently_active else None

    def matches(key: SeriesKey, series: Series) -> bool:
        if namespace and key[0] != namespace:
            return False
        if metric_name and key[1] != metric_name:
            return False
        dimensions = dict(key[2])
        for name, value in filters:
            if name not in dimensions or (value is not None and dimensions[name] != value):
                return False
        return oldest is None or series.last_put >= oldest

    return matches


def _as_key(raw: Any) -> SeriesKey:
    try:
        namespace, name, dimensions = raw
        return (str(namespace), str(name), tuple((str(n), str(v)) for n, v in dimensions))
    except (TypeError, ValueError):
        raise InvalidNextToken() from None
