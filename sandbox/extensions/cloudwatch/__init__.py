"""CloudWatch as the portal reads it: percentiles, a metric index, AWS's limits, evaluated alarms.

moto 5.2.5's CloudWatch stores metrics and alarms but cannot answer what the portal's
observability pages ask: a percentile statistic (`p99`) crashes GetMetricData, a dashboard's
500-query GetMetricData over 7 days takes about half an hour, and alarms never leave the state
they were created in. This package patches moto in place (see `sandbox.extensions`):

- `statistics`: the statistics of a period's datapoints, with CloudWatch's nearest-rank
  percentiles over `Values` + `Counts` distributions.
- `store`: the metric index (series -> time-sorted columns, bisected) in a moto BackendDict.
- `metrics`: PutMetricData, GetMetricData, GetMetricStatistics and ListMetrics on the index,
  with AWS's limits (500 queries, 100,800 datapoints a page, periods, rounding, ScanBy, labels).
- `expressions`: metric-math arithmetic for GetMetricData.
- `alarms`: metric alarms evaluated from the stored data when described, their history.
"""

from sandbox.extensions.cloudwatch import alarms, metrics


def install() -> None:
    metrics.install()
    alarms.install()
