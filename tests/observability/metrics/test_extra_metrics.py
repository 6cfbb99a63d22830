"""The meridian.io/cloudwatch-metrics annotation: its syntax, and a clear error for each kind of mistake."""

import pytest

from observability.metrics.extra_metrics import ExtraMetric, parse_metrics_annotation


def test_one_metric_a_line_with_dimensions_statistics_and_a_unit():
    parsed = parse_metrics_annotation(
        """
        # the dead-letter queue
        AWS/SQS ApproximateNumberOfMessagesVisible{QueueName=orders-dlq} Maximum
        Meridian/Orders OrdersPlaced{Service=orders-api,Env=prod} Sum,p99.9 Count; Meridian/Orders Heartbeat Sum
        """
    )

    assert parsed.errors == []
    assert parsed.metrics == [
        ExtraMetric("AWS/SQS", "ApproximateNumberOfMessagesVisible", (("QueueName", "orders-dlq"),), ("Maximum",)),
        ExtraMetric(
            "Meridian/Orders", "OrdersPlaced", (("Service", "orders-api"), ("Env", "prod")), ("Sum", "p99.9"), "Count"
        ),
        ExtraMetric("Meridian/Orders", "Heartbeat", (), ("Sum",)),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("AWS/SQS", "expected <Namespace> <MetricName>"),
        ("AWS/SQS Age{QueueName=q} Median", "'Median' is not a statistic: use Average, Sum, Minimum, Maximum"),
        ("AWS/SQS Age{QueueName=q} p101", "'p101' is not a statistic"),
        ("AWS/SQS Age{QueueName} Sum", "dimension 'QueueName' is not Name=Value"),
        ("AWS/SQS Age{} Sum", "empty braces"),
        ("AWS/SQS Age{A=1,A=2} Sum", "dimension A is given twice"),
        ("AWS/SQS Age Sum Parsecs", "'Parsecs' is not a CloudWatch unit"),
        (":bad Age Sum", "is not a CloudWatch namespace"),
        ("AWS/SQS Age{Q=1 Sum", "is not a metric name with optional dimensions"),
        ("AWS/SQS Age Sum,Sum", "different statistics"),
    ],
)
def test_each_mistake_names_its_line_and_what_is_expected(line, message):
    parsed = parse_metrics_annotation(f"AWS/Lambda Errors{{FunctionName=f}} Sum\n{line}")

    assert len(parsed.metrics) == 1  # the good line is still charted
    assert len(parsed.errors) == 1
    assert parsed.errors[0].startswith("meridian.io/cloudwatch-metrics line 2 (")
    assert message in parsed.errors[0]


def test_not_text_and_too_many_metrics():
    assert "must be text" in parse_metrics_annotation(["AWS/SQS"]).errors[0]
    many = parse_metrics_annotation("\n".join(f"App M{i} Sum" for i in range(25)))
    assert len(many.metrics) == 20
    assert many.errors == ["meridian.io/cloudwatch-metrics lists 25 metrics; at most 20 are charted (the first ones)."]
    assert parse_metrics_annotation("").metrics == [] and parse_metrics_annotation(None).errors == []
