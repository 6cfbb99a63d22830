"""Templates as a person reads them: no template syntax shown as text."""

from pathlib import Path

from django.template.loader import render_to_string

from observability.timeranges import CHART_RANGES, XRAY_RANGES

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def test_no_template_has_a_comment_django_would_show_as_text():
    # {# ... #} is a one-line comment; over several lines Django renders it as text ({% comment %} spans lines).
    unclosed = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if line.count("{#") > line.count("#}")
    ]
    assert unclosed == []


def test_the_time_range_form_says_how_far_apart_points_are_on_charts_only():
    chart = render_to_string(
        "observability/_time_range.html",
        {"window": CHART_RANGES.preset("24h"), "range_choices": CHART_RANGES.choices(), "show_period": True},
    )
    xray = render_to_string(
        "observability/_time_range.html", {"window": XRAY_RANGES.preset("1h"), "range_choices": XRAY_RANGES.choices()}
    )

    assert "last 24 h, one point per 5 min" in chart and "{#" not in chart and "comment" not in chart
    assert "last 1 h</span>" in xray and "one point per" not in xray
