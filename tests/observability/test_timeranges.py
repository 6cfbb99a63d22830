"""Time ranges: the period chosen for each, windows aligned to it, and clear errors for bad custom ranges (charts,
then X-Ray's ranges)."""

from datetime import UTC, datetime, timedelta

import pytest

from observability.metrics.aws import queries_per_call
from observability.timeranges import CHART_RANGES, SAGA_RANGES, XRAY_RANGES, TimeRangeError, choose_period

NOW = datetime(2025, 3, 10, 12, 34, 56, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "period", "points", "per_call"),
    [("1h", 60, 60, 500), ("6h", 60, 360, 280), ("24h", 300, 288, 350), ("7d", 1800, 336, 300)],
)
def test_each_preset_has_a_period_that_keeps_series_and_calls_inside_the_limits(key, period, points, per_call):
    window = CHART_RANGES.preset(key, now=NOW)

    assert (window.period, window.points) == (period, points)
    assert queries_per_call(window.points) == per_call
    assert queries_per_call(window.points) * window.points <= 100_800
    # Aligned: start and end on multiples of the period, the end just after now.
    assert window.start.timestamp() % period == 0 and window.end.timestamp() % period == 0
    assert window.end - timedelta(seconds=period) < NOW <= window.end


def test_every_view_within_a_period_asks_for_the_same_window():
    first = CHART_RANGES.preset("1h", now=NOW)
    assert CHART_RANGES.preset("1h", now=NOW + timedelta(seconds=3)) == first
    assert CHART_RANGES.preset("1h", now=NOW + timedelta(seconds=60)) != first


def test_default_and_custom_ranges():
    assert CHART_RANGES.parse({}, now=NOW).key == "1h"
    custom = CHART_RANGES.parse({"range": "custom", "start": "2025-03-01T10:00", "end": "2025-03-01T10:30"}, now=NOW)
    assert (custom.key, custom.period, custom.start, custom.end) == (
        "custom",
        60,
        datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
        datetime(2025, 3, 1, 10, 30, tzinfo=UTC),
    )
    # An offset is honoured; the end is cut at now.
    shifted = CHART_RANGES.parse(
        {"range": "custom", "start": "2025-03-10T13:00+02:00", "end": "2025-03-11T00:00"}, now=NOW
    )
    assert shifted.start == datetime(2025, 3, 10, 11, 0, tzinfo=UTC) and shifted.end <= NOW + timedelta(minutes=1)


def test_older_data_needs_coarser_periods_as_cloudwatch_keeps_it():
    assert choose_period(timedelta(hours=1), oldest=timedelta(days=20)) == 300  # 1-minute data is gone after 15 days
    assert choose_period(timedelta(hours=1), oldest=timedelta(days=100)) == 3600  # 5-minute data after 63 days
    assert choose_period(timedelta(days=400), oldest=timedelta(days=400)) == 86400


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"range": "2w"}, "Unknown time range '2w': choose 1h, 6h, 24h, 7d or custom."),
        ({"range": "custom", "start": "2025-03-01T10:00"}, "A custom range needs both a start and an end"),
        ({"range": "custom", "start": "yesterday", "end": "2025-03-01T10:00"}, "The start 'yesterday' is not a date"),
        ({"range": "custom", "start": "2025-03-01T10:00", "end": "2025-02-01T10:00"}, "must be before the end"),
        ({"range": "custom", "start": "2025-03-01T10:00", "end": "2025-03-01T10:02"}, "at least 5 minutes"),
        ({"range": "custom", "start": "2026-01-01T00:00", "end": "2026-01-02T00:00"}, "is in the future"),
        (
            {"range": "custom", "start": "2023-01-01T00:00", "end": "2023-02-01T00:00"},
            "CloudWatch keeps metrics for 455",
        ),
    ],
)
def test_bad_ranges_are_refused_with_what_to_give(params, message):
    with pytest.raises(TimeRangeError) as refused:
        CHART_RANGES.parse(params, now=NOW)
    assert message in str(refused.value)


# --- X-Ray's ranges -----------------------------------------------------------------------------------------

XRAY_NOW = datetime(2026, 6, 1, 12, 0, 30, tzinfo=UTC)


def test_presets_end_at_the_next_whole_minute_and_are_cached_by_name():
    window = XRAY_RANGES.parse({"range": "6h"}, now=XRAY_NOW)

    assert window.start == datetime(2026, 6, 1, 6, 1, tzinfo=UTC)
    assert window.end == datetime(2026, 6, 1, 12, 1, tzinfo=UTC)
    assert window.cache_key == "6h" and window.label == "last 6 h" and window.query() == "range=6h"
    assert XRAY_RANGES.parse({}, now=XRAY_NOW).key == "1h"


def test_a_custom_range_is_read_as_utc_and_ends_no_later_than_now():
    asked = {"range": "custom", "start": "2026-06-01T10:00", "end": "2026-06-01T14:00"}
    window = XRAY_RANGES.parse(asked, now=XRAY_NOW)

    assert (window.start, window.end) == (datetime(2026, 6, 1, 10, tzinfo=UTC), datetime(2026, 6, 1, 12, 1, tzinfo=UTC))
    assert window.query() == "range=custom&start=2026-06-01T10:00&end=2026-06-01T12:01"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"range": "week"}, "Unknown time range 'week'"),
        ({"range": "custom", "start": "2026-06-01T10:00"}, "needs both a start and an end"),
        ({"range": "custom", "start": "yesterday", "end": "2026-06-01T11:00"}, "is not a date and time"),
        ({"range": "custom", "start": "2026-06-01T11:00", "end": "2026-06-01T10:00"}, "must be before the end"),
        ({"range": "custom", "start": "2026-06-02T10:00", "end": "2026-06-02T11:00"}, "in the future"),
        ({"range": "custom", "start": "2026-05-30T10:00", "end": "2026-05-31T11:00"}, "at most 24 hours"),
        ({"range": "custom", "start": "2026-04-01T10:00", "end": "2026-04-01T11:00"}, "keeps traces for 30 days"),
    ],
)
def test_ranges_x_ray_cannot_be_asked_about_say_why(params, message):
    with pytest.raises(TimeRangeError, match=message):
        XRAY_RANGES.parse(params, now=XRAY_NOW)


def test_a_window_of_a_minute_is_the_least():
    with pytest.raises(TimeRangeError, match="at least a minute"):
        half_a_minute = {"range": "custom", "start": "2026-06-01T10:00:00", "end": "2026-06-01T10:00:30"}
        XRAY_RANGES.parse(half_a_minute, now=XRAY_NOW)
    window = XRAY_RANGES.parse({"range": "15m"}, now=XRAY_NOW)
    assert window.end - window.start == timedelta(minutes=15)


# --- Sagas' ranges -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "bar", "bars"), [("24h", 3600, 24), ("7d", 6 * 3600, 28), ("30d", 86400, 30)])
def test_each_saga_range_has_its_bar_width_and_a_range_of_its_own_only(key, bar, bars):
    window = SAGA_RANGES.parse({"range": key}, now=NOW)

    assert (window.period, window.points) == (bar, bars) and window.end.timestamp() % bar == 0
    assert SAGA_RANGES.choices()[-1][0] == "30d"  # no custom range: the sync keeps what it read
    with pytest.raises(TimeRangeError, match=r"Unknown range 'custom': choose 24h, 7d, 30d\."):
        SAGA_RANGES.parse({"range": "custom", "start": "2025-03-01T10:00", "end": "2025-03-01T11:00"}, now=NOW)
