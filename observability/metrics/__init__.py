"""CloudWatch golden signals and alarms of the catalog's services: the Metrics tab, dashboards, the alarm sync."""
