"""CloudWatch metric alarms that follow their metric: evaluated from the stored data when described.

moto 5.2.5 never evaluates an alarm: its state stays "OK, Unchecked: Initial alarm creation"
whatever the data says, and it has no DescribeAlarmHistory. Here DescribeAlarms,
DescribeAlarmsForMetric and DescribeAlarmHistory first evaluate the region's metric alarms
(lazily: at most once a minute per alarm, and again as soon as its metric gets new data):

- The window is the alarm's last EvaluationPeriods complete periods, aligned on multiples of
  Period, before now. The period in progress is left out: its Sum or SampleCount would read
  low until it ends, and an alarm would flap at every period start.
- Each period's Statistic or ExtendedStatistic (percentile) comes from the same computation as
  GetMetricData (`metrics.periods_of`), with the alarm's Unit if it has one.
- ALARM when at least DatapointsToAlarm (default EvaluationPeriods) datapoints breach the
  threshold, else OK. Missing periods follow TreatMissingData: `breaching` and `notBreaching`
  count them as such; `missing` (the default) leaves them out and, when all are missing, the
  alarm goes to INSUFFICIENT_DATA; `ignore` leaves them out and, when all are missing, keeps the
  state. Alarms on AWS/DynamoDB metrics always ignore missing data, as in CloudWatch. With
  EvaluateLowSampleCountPercentile `ignore`, a percentile period with fewer than 10/(1-p)
  samples keeps the state. CloudWatch's look-back beyond the window for `missing` alarms is not
  modelled.
- StateValue, StateReason (CloudWatch's wording: "Threshold Crossed: 1 out of the last 1
  datapoints [612.0 (29/11/26 10:15:00)] was greater than the threshold (500.0) (minimum 1
  datapoint for OK -> ALARM transition)."), StateReasonData (JSON) and the timestamps change
  only when the state changes, and each change is a StateUpdate in the alarm's history.

Also as in CloudWatch: a new alarm starts INSUFFICIENT_DATA; PutMetricAlarm on an existing
alarm keeps its state; creating, updating and deleting are ConfigurationUpdate history items;
DescribeAlarms combines its filters, lists metric alarms only unless AlarmTypes says otherwise,
and pages by MaxRecords (ChildrenOfAlarmName and ParentsOfAlarmName are ignored, as by moto,
which has no PutCompositeAlarm). SetAlarmState keeps moto's behaviour and is recorded; the state it
sets holds until the next evaluation changes it (the next minute, or new data for the metric).

Not evaluated (their state is whatever PutMetricAlarm or SetAlarmState left): metric-math
alarms (`Metrics=[...]`), anomaly-detection operators and composite alarms.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import Alarm, CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.responses import ActionResult
from moto.core.utils import utcnow

from sandbox.extensions.cloudwatch.metrics import (
    InvalidNextToken,
    decode_token,
    encode_token,
    periods_of,
    valid_period,
)
from sandbox.extensions.cloudwatch.statistics import Statistic
from sandbox.extensions.cloudwatch.store import Series, epoch, metric_stores, series_key

COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanThreshold": ("greater than", operator.gt),
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", operator.ge),
    "LessThanThreshold": ("less than", operator.lt),
    "LessThanOrEqualToThreshold": ("less than or equal to", operator.le),
}
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
INITIAL_REASON = "Unchecked: Initial alarm creation"
DESCRIBE_ALARMS_PAGE = 50
HISTORY_PAGE = 100
MAX_RECORDS = 100
HISTORY_LIMIT = 10_000  # items kept per account and region, newest first (AWS keeps 30 days)


@dataclass(frozen=True)
class HistoryItem:
    sequence: int
    alarm_name: str
    alarm_type: str
    timestamp: datetime
    item_type: str  # StateUpdate | ConfigurationUpdate
    summary: str
    data: str

    def as_api(self) -> dict[str, Any]:
        return {
            "AlarmName": self.alarm_name,
            "AlarmType": self.alarm_type,
            "Timestamp": self.timestamp,
            "HistoryItemType": self.item_type,
            "HistorySummary": self.summary,
            "HistoryData": self.data,
        }


class AlarmLedger(BaseBackend):
    """The alarm history of one account and region, and when each alarm was last evaluated."""

    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.history: list[HistoryItem] = []
        # alarm name -> (minute, metric series version) of its last evaluation or SetAlarmState
        self.evaluated: dict[str, tuple[int, int]] = {}
        self.lock = threading.RLock()

    def record(self, alarm: Alarm, item_type: str, summary: str, data: dict[str, Any]) -> None:
        self.history.append(
            HistoryItem(
                sequence=next(_sequence),
                alarm_name=alarm.name,
                alarm_type="CompositeAlarm" if alarm.rule else "MetricAlarm",
                timestamp=datetime.now(UTC),
                item_type=item_type,
                summary=summary,
                data=json.dumps(data),
            )
        )
        if len(self.history) > HISTORY_LIMIT:
            del self.history[: len(self.history) - HISTORY_LIMIT]


alarm_ledgers: BackendDict[AlarmLedger] = BackendDict(AlarmLedger, "cloudwatch")
_sequence = itertools.count(1)


@dataclass(frozen=True)
class Evaluation:
    state: str
    reason: str
    reason_data: str


def install() -> None:
    moto_put = CloudWatchBackend.put_metric_alarm
    moto_delete = CloudWatchBackend.delete_alarms
    moto_set_state = CloudWatchBackend.set_alarm_state

    def put_metric_alarm(self: CloudWatchBackend, *args: Any, **kwargs: Any) -> Alarm:
        name = kwargs["name"] if "name" in kwargs else args[0]
        previous = self.alarms.get(name)
        alarm = moto_put(self, *args, **kwargs)
        ledger = alarm_ledgers[self.account_id][self.region_name]
        with ledger.lock:
            if previous is not None:
                for attribute in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp"):
                    setattr(alarm, attribute, getattr(previous, attribute))
                alarm.state_transitioned_timestamp = _transitioned(previous)
                ledger.record(
                    alarm,
                    "ConfigurationUpdate",
                    f'Alarm "{name}" updated',
                    {
                        "type": "Update",
                        "version": "1.0",
                        "originalAlarm": _configuration(previous),
                        "updatedAlarm": _configuration(alarm),
                    },
                )
            else:
                alarm.state_value = "INSUFFICIENT_DATA"
                alarm.state_reason = INITIAL_REASON
                alarm.state_transitioned_timestamp = alarm.state_updated_timestamp
                ledger.record(
                    alarm,
                    "ConfigurationUpdate",
                    f'Alarm "{name}" created',
                    {"type": "Create", "version": "1.0", "createdAlarm": _configuration(alarm)},
                )
            ledger.evaluated.pop(name, None)
        return alarm

    def delete_alarms(self: CloudWatchBackend, alarm_names: list[str]) -> None:
        ledger = alarm_ledgers[self.account_id][self.region_name]
        with ledger.lock:
            for name in dict.fromkeys(alarm_names):
                alarm = self.alarms.get(name)
                if alarm is not None:
                    ledger.record(
                        alarm,
                        "ConfigurationUpdate",
                        f'Alarm "{name}" deleted',
                        {"type": "Delete", "version": "1.0", "deletedAlarm": _configuration(alarm)},
                    )
                ledger.evaluated.pop(name, None)
            moto_delete(self, alarm_names)

    def set_alarm_state(
        self: CloudWatchBackend, alarm_name: str, reason: str, reason_data: str, state_value: str
    ) -> None:
        store = metric_stores[self.account_id][self.region_name]
        ledger = alarm_ledgers[self.account_id][self.region_name]
        with store.lock, ledger.lock:
            alarm = self.alarms.get(alarm_name)
            before = _state(alarm) if alarm is not None else None
            moto_set_state(self, alarm_name, reason, reason_data, state_value)
            if before is not None and before["stateValue"] != alarm.state_value:
                alarm.state_transitioned_timestamp = alarm.state_updated_timestamp
                _record_state_update(ledger, alarm, before)
            if alarm is not None and evaluable(alarm):
                # The state set holds until the next evaluation: the next minute, or new data.
                ledger.evaluated[alarm_name] = _stamp(alarm, store.series.get(_key(alarm)), time.time())

    CloudWatchBackend.put_metric_alarm = put_metric_alarm  # type: ignore[method-assign]
    CloudWatchBackend.delete_alarms = delete_alarms  # type: ignore[method-assign]
    CloudWatchBackend.set_alarm_state = set_alarm_state  # type: ignore[method-assign]
    CloudWatchResponse.describe_alarms = _describe_alarms  # type: ignore[method-assign]
    CloudWatchResponse.describe_alarms_for_metric = _describe_alarms_for_metric  # type: ignore[method-assign]
    CloudWatchResponse.describe_alarm_history = _describe_alarm_history  # type: ignore[attr-defined]


# --- Evaluation -----------------------------------------------------------------


def evaluable(alarm: Alarm) -> bool:
    """A single-metric alarm with a threshold comparison: what the sandbox evaluates."""
    return (
        alarm.rule is None
        and not alarm.metric_data_queries
        and bool(alarm.namespace and alarm.metric_name)
        and alarm.comparison_operator in COMPARISONS
        and Statistic.parse(alarm.extended_statistic or alarm.statistic or "") is not None
        and valid_period(_int(alarm.period))
        and _int(alarm.evaluation_periods) > 0
        and alarm.threshold is not None
    )


def evaluate_alarms(backend: CloudWatchBackend) -> None:
    """Bring the state of the region's metric alarms up to date with their data (see the module docstring)."""
    store = metric_stores[backend.account_id][backend.region_name]
    ledger = alarm_ledgers[backend.account_id][backend.region_name]
    now = time.time()
    with store.lock, ledger.lock:
        for alarm in list(backend.alarms.values()):
            if not evaluable(alarm):
                continue
            series = store.series.get(_key(alarm))
            stamp = _stamp(alarm, series, now)
            if ledger.evaluated.get(alarm.name) == stamp:
                continue
            ledger.evaluated[alarm.name] = stamp
            outcome = evaluate(alarm, series, now)
            if outcome is not None and outcome.state != alarm.state_value:
                before = _state(alarm)
                alarm.state_value = outcome.state
                alarm.state_reason = outcome.reason
                alarm.state_reason_data = outcome.reason_data
                alarm.state_updated_timestamp = alarm.state_transitioned_timestamp = utcnow()
                _record_state_update(ledger, alarm, before)


def evaluate(alarm: Alarm, series: Series | None, now: float) -> Evaluation | None:
    """The state `alarm` should be in at `now` given `series`, or None when it keeps its state."""
    period = _int(alarm.period)
    count = _int(alarm.evaluation_periods)
    needed = min(_int(alarm.datapoints_to_alarm) or count, count)
    threshold = float(alarm.threshold)
    statistic = Statistic.parse(alarm.extended_statistic or alarm.statistic)
    assert statistic is not None  # evaluable() checked it
    phrase, breaches = COMPARISONS[alarm.comparison_operator]
    treatment = "ignore" if alarm.namespace == "AWS/DynamoDB" else (alarm.treat_missing_data or "missing")
    if treatment not in TREATMENTS:
        treatment = "missing"

    end = math.floor(now / period) * period
    start = end - count * period
    series = series.in_unit(alarm.unit) if series is not None else None
    values = dict(periods_of(series, start, end, period, statistic))
    samples = dict(periods_of(series, start, end, period, Statistic("SampleCount")))
    if statistic.percentile is not None and alarm.evaluate_low_sample_count_percentile == "ignore":
        enough = 10.0 / (1.0 - statistic.percentile / 100.0) if statistic.percentile < 100 else 0.0
        if any(samples.get(t, 0.0) < enough for t in values):
            return None

    newest_first = [end - (k + 1) * period for k in range(count)]
    present = [(t, values[t]) for t in newest_first if t in values]
    missing = count - len(present)
    breaching = [(t, v) for t, v in present if breaches(v, threshold)]
    calm = [(t, v) for t, v in present if not breaches(v, threshold)]
    data = _reason_data(alarm, statistic, now, start, present, samples, threshold)

    if not present and treatment in ("missing", "ignore"):
        if treatment == "ignore":
            return None
        return Evaluation("INSUFFICIENT_DATA", f"Insufficient Data: {_count(count, 'datapoint')} unknown.", data)

    breach_count = len(breaching) + (missing if treatment == "breaching" else 0)
    treated = {"breaching": "Breaching", "notBreaching": "NonBreaching"}.get(treatment)
    if not present:
        reason = (
            f"Threshold Crossed: no datapoints were received for {_plural(count, 'period')} and"
            f" {_count(missing, 'missing datapoint')} treated as [{treated}]."
        )
        return Evaluation("ALARM" if breach_count >= needed else "OK", reason, data)
    suffix = f" and {_count(missing, 'missing datapoint')} treated as [{treated}]" if treated and missing else ""
    threshold_text = f"the threshold ({_number(threshold)})"
    if breach_count >= needed:
        state, shown, verb, rule = "ALARM", breaching, phrase, f"minimum {_plural(needed, 'datapoint')} for OK -> ALARM"
    elif calm:
        state, shown, verb = "OK", calm, f"not {phrase}"
        rule = f"minimum {_plural(count - needed + 1, 'datapoint')} for ALARM -> OK"
    else:  # every datapoint received breaches, but fewer than DatapointsToAlarm of them
        state, shown, verb, rule = "OK", breaching, phrase, f"minimum {_plural(needed, 'datapoint')} for OK -> ALARM"
    listed = ", ".join(f"{_number(v)} ({_day(t)})" for t, v in shown)
    reason = (
        f"Threshold Crossed: {len(shown)} out of the last {len(present)} datapoints [{listed}]"
        f" {'was' if len(shown) == 1 else 'were'} {verb} {threshold_text}{suffix} ({rule} transition)."
    )
    return Evaluation(state, reason, data)


def _reason_data(
    alarm: Alarm,
    statistic: Statistic,
    now: float,
    start: float,
    present: list[tuple[float, float]],
    samples: dict[float, float],
    threshold: float,
) -> str:
    data: dict[str, Any] = {"version": "1.0", "queryDate": _iso(now), "startDate": _iso(start)}
    data["extendedStatistic" if statistic.percentile is not None else "statistic"] = statistic.name
    if alarm.unit:
        data["unit"] = alarm.unit
    data["period"] = _int(alarm.period)
    data["recentDatapoints"] = [v for _, v in reversed(present)]
    data["threshold"] = threshold
    data["evaluatedDatapoints"] = [
        {"timestamp": _iso(t), "sampleCount": samples.get(t, 0.0), "value": v} for t, v in present
    ]
    return json.dumps(data)


def _record_state_update(ledger: AlarmLedger, alarm: Alarm, before: dict[str, Any]) -> None:
    ledger.record(
        alarm,
        "StateUpdate",
        f"Alarm updated from {before['stateValue']} to {alarm.state_value}",
        {"version": "1.0", "oldState": before, "newState": _state(alarm)},
    )


def _state(alarm: Alarm) -> dict[str, Any]:
    state: dict[str, Any] = {"stateValue": alarm.state_value, "stateReason": alarm.state_reason}
    try:
        reason_data = json.loads(alarm.state_reason_data or "{}")
    except ValueError:
        reason_data = None
    if reason_data:
        state["stateReasonData"] = reason_data
    return state


def _configuration(alarm: Alarm) -> dict[str, Any]:
    configuration = {
        "alarmName": alarm.name,
        "alarmArn": alarm.alarm_arn,
        "alarmDescription": alarm.description,
        "actionsEnabled": alarm.actions_enabled,
        "namespace": alarm.namespace,
        "metricName": alarm.metric_name,
        "dimensions": [{"name": d.name, "value": d.value} for d in alarm.dimensions],
        "statistic": alarm.statistic,
        "extendedStatistic": alarm.extended_statistic,
        "period": alarm.period,
        "unit": alarm.unit,
        "evaluationPeriods": alarm.evaluation_periods,
        "datapointsToAlarm": alarm.datapoints_to_alarm,
        "threshold": alarm.threshold,
        "comparisonOperator": alarm.comparison_operator,
        "treatMissingData": alarm.treat_missing_data,
        "alarmRule": alarm.rule,
    }
    return {key: value for key, value in configuration.items() if value not in (None, "")}


def _key(alarm: Alarm) -> tuple:
    return series_key(alarm.namespace, alarm.metric_name, alarm.dimensions)


def _stamp(alarm: Alarm, series: Series | None, now: float) -> tuple[int, int]:
    return (int(now // 60), series.version if series is not None else 0)


def _transitioned(alarm: Alarm) -> Any:
    return getattr(alarm, "state_transitioned_timestamp", None) or alarm.state_updated_timestamp


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _number(value: float) -> str:
    return repr(float(value))


def _day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%d/%m/%y %H:%M:%S")


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _plural(number: int, word: str) -> str:
    return f"{number} {word}" if number == 1 else f"{number} {word}s"


def _count(number: int, word: str) -> str:
    """ "1 datapoint was" / "3 datapoints were"."""
    return f"{_plural(number, word)} {'was' if number == 1 else 'were'}"


# --- DescribeAlarms, DescribeAlarmsForMetric, DescribeAlarmHistory ---------------


def _max_records(params: dict[str, Any], default: int) -> int:
    max_records = params.get("MaxRecords") or default
    if not isinstance(max_records, int) or not 1 <= max_records <= MAX_RECORDS:
        raise ValidationError(f"The parameter MaxRecords must be between 1 and {MAX_RECORDS}.")
    return max_records


def _describe_alarms(self: CloudWatchResponse) -> ActionResult:
    backend = self.cloudwatch_backend
    evaluate_alarms(backend)
    params = self._get_params()
    max_records = _max_records(params, DESCRIBE_ALARMS_PAGE)
    names = set(params.get("AlarmNames") or ())
    prefix = params.get("AlarmNamePrefix")
    action_prefix = params.get("ActionPrefix")
    state = params.get("StateValue")
    types = set(params.get("AlarmTypes") or ("MetricAlarm",))
    after = decode_token(params["NextToken"]).get("a") if params.get("NextToken") else None

    alarms = [
        a
        for a in sorted(backend.alarms.values(), key=lambda a: a.name)
        if (not names or a.name in names)
        and (not prefix or a.name.startswith(prefix))
        and (not action_prefix or any(action.startswith(action_prefix) for action in a.alarm_actions))
        and (not state or a.state_value == state)
        and ("CompositeAlarm" if a.rule else "MetricAlarm") in types
        and (after is None or a.name > after)
    ]
    page = alarms[:max_records]
    result: dict[str, Any] = {
        "MetricAlarms": [a for a in page if a.rule is None],
        "CompositeAlarms": [a for a in page if a.rule is not None],
    }
    if len(alarms) > max_records:
        result["NextToken"] = encode_token({"a": page[-1].name})
    return ActionResult(result)


def _describe_alarms_for_metric(self: CloudWatchResponse) -> ActionResult:
    backend = self.cloudwatch_backend
    evaluate_alarms(backend)
    params = self._get_params()
    namespace, metric_name = params.get("Namespace"), params.get("MetricName")
    dimensions = series_key(namespace, metric_name, params.get("Dimensions"))[2] if params.get("Dimensions") else None
    wanted = {
        "statistic": params.get("Statistic"),
        "extended_statistic": params.get("ExtendedStatistic"),
        "period": params.get("Period"),
        "unit": params.get("Unit"),
    }
    alarms = [
        a
        for a in sorted(backend.alarms.values(), key=lambda a: a.name)
        if a.rule is None
        and a.namespace == namespace
        and a.metric_name == metric_name
        and (dimensions is None or _key(a)[2] == dimensions)
        and all(value is None or str(getattr(a, attr)) == str(value) for attr, value in wanted.items())
    ]
    return ActionResult({"MetricAlarms": alarms})


def _describe_alarm_history(self: CloudWatchResponse) -> ActionResult:
    backend = self.cloudwatch_backend
    evaluate_alarms(backend)
    params = self._get_params()
    max_records = _max_records(params, HISTORY_PAGE)
    scan_by = params.get("ScanBy") or "TimestampDescending"
    if scan_by not in ("TimestampDescending", "TimestampAscending"):
        raise ValidationError(f"The value {scan_by} for parameter ScanBy is invalid.")
    name = params.get("AlarmName")
    types = set(params.get("AlarmTypes") or ("MetricAlarm",))
    item_type = params.get("HistoryItemType")
    start = epoch(params["StartDate"]) if params.get("StartDate") else None
    end = epoch(params["EndDate"]) if params.get("EndDate") else None
    after = None
    if params.get("NextToken"):
        after = decode_token(params["NextToken"]).get("s")
        if not isinstance(after, int):
            raise InvalidNextToken()

    ledger = alarm_ledgers[backend.account_id][backend.region_name]
    with ledger.lock:
        items = list(ledger.history)
    descending = scan_by == "TimestampDescending"
    if descending:
        items.reverse()
    items = [
        item
        for item in items
        if (name is None or item.alarm_name == name)
        and item.alarm_type in types
        and (item_type is None or item.item_type == item_type)
        and (start is None or item.timestamp.timestamp() >= start)
        and (end is None or item.timestamp.timestamp() <= end)
        and (after is None or (item.sequence < after if descending else item.sequence > after))
    ]
    page = items[:max_records]
    result: dict[str, Any] = {"AlarmHistoryItems": [item.as_api() for item in page]}
    if len(items) > max_records:
        result["NextToken"] = encode_token({"s": page[-1].sequence})
    return ActionResult(result)
