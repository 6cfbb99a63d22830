"""Observability: CloudWatch golden signals and alarms of the catalog's services.

- signals: the golden-signal table (which metrics of which resource type, with which statistics)
- dimensions: a Resource entity's CloudWatch dimensions, and an alarm's resource (its ARN)
- annotations: the `meridian.io/cloudwatch-metrics` annotation (extra metrics per entity)
- timeranges: the chart's time range, its period, and the window aligned to it
- aws: the gateway (GetMetricData batched to its limits, DescribeAlarms, the dimension lookups)
- series: GetMetricData answers cached per query and period, with last good data when AWS fails
- selectors / services / tasks: linked resources and alarms (reads), the periodic sync (writes)
- charts, panels: plotly figures, and the panels of the Metrics tab and the dashboards
- entity_tabs, views, templatetags: the Metrics tab, the team and system dashboards, alarm badges
- scorecard_rules: "has alarms on its golden signals" (silver)

docs/observability.md describes the design.
"""
