"""Scorecards: rules that say how well an entity is looked after, and the level it reaches.

- registry: `@rule(...)` registers a check, `@context_provider(name)` a batch loader that rules
  read instead of querying per entity. Apps add rules in a `scorecard_rules` module of their
  own (found like admin.py is found), e.g. observability/scorecard_rules.py:

      from catalog.scorecards.registry import context_provider, rule

      @context_provider("alarmed_components")
      def alarmed(entities):  # one query for the whole batch
          return set(Alarm.objects.filter(entity__in=entities).values_list("entity_id", flat=True))

      @rule(id="alarms-defined", title="Alarms defined", level="silver", kinds={"component"},
            why="An alarm tells the team before its users do.", needs=("alarmed_components",))
      def alarms_defined(entity, context):
          return entity.pk in context["alarmed_components"]

- catalog/scorecard_rules.py (outside this package, found like any app's): the catalog's own
  rules (owner, description, lifecycle, runbook, on-call, API definition, linked AWS resources).
- evaluate: runs the rules on a batch of entities and gives each its level.
- services: computes and stores the latest score of every entity, and the daily rollups.
- selectors: an entity's scorecard, a team's or a system's rollup and trend.
"""
