"""Observability's scorecard rule: "Has alarms on its golden signals" (silver).

A Component passes when at least one CloudWatch alarm (as last synced) watches a golden-signal
metric (observability.metrics.golden_signals) of one of its linked AWS resources: an alarm on the target group's
5xx count, the Lambda function's errors, the queue's age of oldest message... The rule does not
apply to a Component with no linked resource of a type in the golden-signal table (the catalog's
"Linked to its AWS resources" rule asks for those first).
"""

from catalog.models import Entity, ScoreLevel
from catalog.scorecards.registry import ScoringContext, context_provider, rule
from observability.metrics.golden_signals import BY_TYPE, is_golden_metric
from observability.metrics.selectors import services_with_resources
from observability.models import Alarm


@context_provider("golden_signal_alarms")
def golden_signal_alarms(entities: list[Entity]) -> dict[int, bool]:
    """Component id -> whether an alarm watches one of its golden signals; components without resources of a
    type in the table are left out (the rule does not apply). Two queries: the linked resources, the alarms."""
    ids = [e.pk for e in entities if e.kind_key == "component"]
    if not ids:
        return {}
    watched = {
        s.component_id: {ref.arn for ref in s.resources if ref.resource_type in BY_TYPE}
        for s in services_with_resources(ids)
    }
    watched = {component_id: arns for component_id, arns in watched.items() if arns}
    arns = set().union(*watched.values())
    # An alarm's resource_arn was worked out from its namespace and dimensions, so its namespace is the resource's.
    alarms = (
        Alarm.objects.filter(resource_arn__in=arns).order_by().values_list("resource_arn", "namespace", "metric_name")
    )
    covered = {arn for arn, namespace, metric in (alarms if arns else []) if is_golden_metric(namespace, metric)}
    return {component_id: bool(arns & covered) for component_id, arns in watched.items()}


@rule(
    id="alarms-on-golden-signals",
    title="Has alarms on its golden signals",
    why="An alarm on its traffic, errors, latency or saturation tells the team before its users do.",
    kinds={"component"},
    level=ScoreLevel.SILVER,
    needs=("golden_signal_alarms",),
)
def alarms_on_golden_signals(entity: Entity, context: ScoringContext) -> bool | None:
    return context["golden_signal_alarms"].get(entity.pk)
