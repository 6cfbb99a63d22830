"""Time ranges: the period chosen for each, windows aligned to it, and clear errors for bad custom ranges."""

from datetime import UTC, datetime, timedelta

import pytest

from observability.metrics.aws import queries_per_call
from observability.timeranges import TimeRangeError, choose_period, parse_window, window_for

NOW = datetime(2025, 3, 10, 12, 34, 56, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "period", "points", "per_call"),
    [("1h", 60, 60, 500), ("6h", 60, 360, 280), ("24h", 300, 288, 350), ("7d", 1800, 336, 300)],
)
def test_each_preset_has_a_period_that_keeps_series_and_calls_inside_the_limits(key, period, points, per_call):
    window = window_for(key, now=NOW)

    assert (window.period, window.points) == (period, points)
    assert queries_per_call(window.points) == per_call
    assert queries_per_call(window.points) * window.points <= 100_800
    # Aligned: start and end on multiples of the period, the end just after now.
    assert window.start.timestamp() % period == 0 and window.end.timestamp() % period == 0
    assert window.end - timedelta(seconds=period) < NOW <= window.end


def test_every_view_within_a_period_asks_for_the_same_window():
    first = window_for("1h", now=NOW)
    assert window_for("1h", now=NOW + timedelta(seconds=3)) == first
    assert window_for("1h", now=NOW + timedelta(seconds=60)) != first


def test_default_and_custom_ranges():
    assert parse_window({}, now=NOW).key == "1h"
    custom = parse_window({"range": "custom", "start": "2025-03-01T10:00", "end": "2025-03-01T10:30"}, now=NOW)
    assert (custom.key, custom.period, custom.start, custom.end) == (
        "custom",
        60,
        datetime(2025, 3, 1, 10, 0, tzinfo=UTC),
        datetime(2025, 3, 1, 10, 30, tzinfo=UTC),
    )
    # An offset is honoured; the end is cut at now.
    shifted = parse_window({"range": "custom", "start": "2025-03-10T13:00+02:00", "end": "2025-03-11T00:00"}, now=NOW)
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
        parse_window(params, now=NOW)
    assert message in str(refused.value)
