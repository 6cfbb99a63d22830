"""The scorecard rule "Has alarms on its golden signals" (silver): passes, fails, does not apply."""

import pytest

from catalog.models import Entity
from catalog.scorecards.selectors import entity_scorecard
from observability.metrics import services
from observability.scorecard_rules import golden_signal_alarms
from tests.observability.conftest import put_alarm
from tests.observability.estate import REGION, components, discover, lambda_arn, table_arn

pytestmark = pytest.mark.django_db

RULE = "alarms-on-golden-signals"


def result(entity: Entity):
    return {r.rule.id: r.passed for r in entity_scorecard(entity).results}[RULE]


def test_passes_with_an_alarm_on_a_golden_signal_and_fails_without(aws, account):
    alarmed, silent, custom_only, lonely = components("alarmed", "silent", "custom-only", "lonely")
    discover(
        (lambda_arn("alarmed"), "alarmed"),
        (table_arn("silent"), "silent"),
        (lambda_arn("custom-only"), "custom-only"),
    )
    put_alarm("alarmed errors", "AWS/Lambda", "Errors", {"FunctionName": "alarmed"}, threshold=1)
    # An alarm on the function, but on a metric that is not one of its golden signals.
    put_alarm("custom-only iterator age", "AWS/Lambda", "IteratorAge", {"FunctionName": "custom-only"}, threshold=1)
    services.cloudwatch_sync(account=account, region=REGION)

    assert result(alarmed) is True
    assert result(silent) is False
    assert result(custom_only) is False
    assert result(lonely) is None  # no linked AWS resource: "Linked to its AWS resources" asks for that first


def test_the_rule_is_silver_and_its_provider_costs_two_queries_for_any_batch(aws, account, django_assert_num_queries):
    made = components(*(f"svc-{i}" for i in range(8)))
    discover(*((lambda_arn(f"svc-{i}"), f"svc-{i}") for i in range(8)))
    put_alarm("svc-1 errors", "AWS/Lambda", "Errors", {"FunctionName": "svc-1"}, threshold=1)
    services.cloudwatch_sync(account=account, region=REGION)

    with django_assert_num_queries(2):  # the components' resources, their alarms
        found = golden_signal_alarms(made)

    assert found == {e.pk: e.name == "svc-1" for e in made}
    assert next(r.rule.level for r in entity_scorecard(made[1]).results if r.rule.id == RULE) == "silver"
