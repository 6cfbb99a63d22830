"""Observability of the catalog's services, in three parts (one app label, `observability`):

- metrics/: CloudWatch golden signals and alarms (the Metrics tab, team and system dashboards, alarm badges)
- xray/: X-Ray service maps, traces and their waterfalls, declared vs observed dependencies (the X-Ray tab)
- sagas/: Step Functions sagas, their executions' outcomes, compensations and alerts (the Sagas tab)

Each part has the same file roles: aws.py (its gateway), services.py (writes), selectors.py (reads),
tasks.py (Celery), tabs.py (what it adds to entity pages), views.py and urls.py (its pages). Shared at the
root: apps.py (wiring into the catalog's registries), models/ (each part's models), urls.py, timeranges.py
(the time range of every page), scorecard_rules.py and templatetags/.

docs/observability.md describes the design.
"""
