"""Scorecards: each rule passing and failing, levels, batch computation, rollups and trend, the sweep of
changed entities, and the pieces pages include. Entities are written by the real catalog services."""

from datetime import timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import tasks
from catalog.models import Entity, EntityScore, Location, ScorecardRollup
from catalog.scorecards import registry
from catalog.scorecards.evaluate import RuleResult, level_of
from catalog.scorecards.selectors import entity_scorecard, system_scorecard, team_scorecard
from catalog.scorecards.services import changed_entity_ids, scorecards_compute_all, scorecards_compute_changed
from catalog.services import Incoming, entities_apply, entity_update, location_for
from catalog.team_panels import scorecard_context
from portal.actors import Actor
from portal.models import Team

ACTOR = Actor.for_system("test")

OPENAPI = """openapi: 3.0.3
info: {title: Orders, version: 1.0.0}
paths:
  /orders:
    get: {responses: {'200': {description: OK}}}
"""


def apply(*documents, location: Location | None = None) -> list[Entity]:
    location = location or location_for(type=Location.Type.FILE, target="/catalog/test.yaml")
    result = entities_apply(
        actor=ACTOR,
        location=location,
        incoming=[Incoming(document=d, source=location.target, index=i) for i, d in enumerate(documents)],
        complete=False,
    )
    assert not result.problems and not result.refused, (result.problems, result.refused)
    names = [d["metadata"]["name"] for d in documents]
    return [Entity.objects.get(kind_key=d["kind"].lower(), name=n) for d, n in zip(documents, names, strict=True)]


def group(name="team-a", **metadata):
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": name, "description": f"The {name} team", **metadata},
        "spec": {"type": "team", "children": []},
    }


def component(name="orders", *, spec=None, **metadata):
    metadata.setdefault("description", "Takes orders.")
    spec = {"type": "service", "lifecycle": "production", "owner": "group:team-a", "system": "shop", **(spec or {})}
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, **metadata},
        "spec": spec,
    }


def api(name="orders", *, api_type="openapi", definition=OPENAPI, **spec):
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "metadata": {"name": name, "description": "Orders API."},
        "spec": {
            "type": api_type,
            "lifecycle": "production",
            "owner": "group:team-a",
            "definition": definition,
            **spec,
        },
    }


def discovered_resource(name, component_ref, *, account="123456789012", region="eu-west-1"):
    location = location_for(type=Location.Type.DISCOVERY, target=f"aws:{account}:{region}")
    document = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Resource",
        "metadata": {"name": name, "description": "A table."},
        "spec": {"type": "dynamodb-table", "owner": "group:team-a", "dependencyOf": [component_ref]},
    }
    return apply(document, location=location)[0]


GOLD_METADATA = {
    "links": [{"url": "https://wiki.example.com/orders", "title": "Orders runbook"}],
    "annotations": {"pagerduty.com/service-id": "PX1234"},
}


def results(entity) -> dict[str, bool | None]:
    return {r.rule.id: r.passed for r in entity_scorecard(entity).results}


@pytest.fixture
def team_a(db):
    return apply(group("team-a"))[0]


# --- rules, one by one -------------------------------------------------------------------------


def test_has_owner_passes_for_an_existing_group_and_fails_for_a_missing_one(team_a):
    owned, unowned = apply(component("owned"), component("stray", spec={"owner": "group:nobody"}))

    assert results(owned)["has-owner"] is True
    assert results(unowned)["has-owner"] is False


def test_has_description(team_a):
    described, bare = apply(component("described"), component("bare", description=""))

    assert results(described)["has-description"] is True
    assert results(bare)["has-description"] is False


def test_has_lifecycle_applies_to_components_and_apis_only(team_a):
    with_lifecycle, resource = apply(
        component("with-lifecycle"),
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Resource",
            "metadata": {"name": "bucket", "description": "Files."},
            "spec": {"type": "s3-bucket", "owner": "group:team-a"},
        },
    )

    assert results(with_lifecycle)["has-lifecycle"] is True
    assert "has-lifecycle" not in results(resource)


@pytest.mark.parametrize(
    ("metadata", "passes"),
    [
        ({"links": [{"url": "https://wiki.example.com/rb", "type": "runbook"}]}, True),
        ({"links": [{"url": "https://wiki.example.com/rb", "title": "On-call Runbook"}]}, True),
        ({"annotations": {"meridian.io/runbook": "https://wiki.example.com/rb"}}, True),
        ({"links": [{"url": "https://grafana.example.com/d/orders", "title": "Dashboard"}]}, False),
        ({}, False),
    ],
    ids=["link-type", "link-title", "annotation", "other-link", "nothing"],
)
def test_has_runbook(team_a, metadata, passes):
    (entity,) = apply(component("orders", **metadata))

    assert results(entity)["has-runbook"] is passes


@pytest.mark.parametrize(
    ("annotations", "passes"),
    [
        ({"pagerduty.com/service-id": "PX1234"}, True),
        ({"opsgenie.com/team": "orders"}, True),
        ({"meridian.io/oncall": "https://oncall.example.com/orders"}, True),
        ({"pagerduty.com/service-id": ""}, False),
        ({"backstage.io/techdocs-ref": "dir:."}, False),
    ],
    ids=["pagerduty", "opsgenie", "meridian", "empty-value", "unrelated"],
)
def test_has_oncall(team_a, annotations, passes):
    (entity,) = apply(component("orders", annotations=annotations))

    assert results(entity)["has-oncall"] is passes


@pytest.mark.parametrize(
    ("api_type", "definition", "passes"),
    [
        ("openapi", OPENAPI, True),
        ("openapi", '{"swagger": "2.0", "info": {"title": "T", "version": "1"}, "paths": {}}', True),
        ("openapi", "openapi: 3.0.3\ninfo: {title: T}\npaths: {}\n", False),  # no info.version
        ("openapi", "openapi: [3.0\n  broken", False),
        ("openapi", "just some words", False),
        ("asyncapi", "asyncapi: 2.6.0\ninfo: {title: Events, version: 1.0.0}\nchannels: {}\n", True),
        ("asyncapi", "info: {title: Events, version: 1.0.0}\n", False),
        ("graphql", "type Query { order(id: ID!): Order }\ntype Order { id: ID! }", True),
        ("graphql", "type Query { order(id: ID!: Order }", False),
        ("grpc", 'syntax = "proto3";\nservice Orders {\n  rpc Get (Req) returns (Res);\n}\n', True),
        ("grpc", "syntax = proto3", False),
        ("trpc", "export const router = t.router({})", True),
    ],
)
def test_valid_api_definition_for_apis(team_a, api_type, definition, passes):
    (entity,) = apply(api("orders", api_type=api_type, definition=definition))

    assert results(entity)["valid-api-definition"] is passes


def test_valid_api_definition_for_components_needs_provided_apis_to_resolve(team_a):
    provides_known, provides_missing, provides_none = apply(
        component("orders-svc", spec={"providesApis": ["orders"]}),
        component("billing-svc", spec={"providesApis": ["billing"]}),
        component("worker"),
    )
    # The API arrives after the component that provides it: the reference resolves then.
    apply(api("orders"))

    assert results(provides_known)["valid-api-definition"] is True
    assert results(provides_missing)["valid-api-definition"] is False
    assert results(provides_none)["valid-api-definition"] is None  # nothing to check: does not count


def test_linked_aws_resources_needs_a_discovered_resource(team_a):
    linked, file_only, orphan_only, library = apply(
        component("linked"),
        component("file-only"),
        component("orphan-only"),
        component("shared-lib", spec={"type": "library"}),
    )
    discovered_resource("linked-table", "component:linked")
    # A Resource written in a file is documentation, not proof that something runs in AWS.
    apply(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Resource",
            "metadata": {"name": "declared-table", "description": "A table."},
            "spec": {"type": "dynamodb-table", "owner": "group:team-a", "dependencyOf": ["component:file-only"]},
        }
    )
    gone = discovered_resource("gone-table", "component:orphan-only", region="us-east-1")
    entities_apply(
        actor=ACTOR, location=gone.location, incoming=[], complete=True, force=True
    )  # AWS no longer lists it: orphaned

    assert results(linked)["linked-aws-resources"] is True
    assert results(file_only)["linked-aws-resources"] is False
    assert results(orphan_only)["linked-aws-resources"] is False
    assert results(library)["linked-aws-resources"] is None


def test_users_and_locations_get_no_scorecard(team_a):
    (user,) = apply(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "User",
            "metadata": {"name": "alice"},
            "spec": {"memberOf": ["team-a"]},
        }
    )

    assert entity_scorecard(user) is None
    card = render_to_string("catalog/scorecards/_entity_card.html", {"entity": user})
    assert "No scorecard level: no scorecard rule applies to this User." in card


# --- levels ------------------------------------------------------------------------------------


def _result(rule_id: str, passed):
    return RuleResult(rule=registry.get_rule(rule_id), passed=passed)


def test_levels_need_every_rule_of_the_level_and_below():
    bronze_ok = [_result("has-owner", True), _result("has-description", True), _result("has-lifecycle", True)]
    silver_ok = [_result("has-runbook", True), _result("has-oncall", True), _result("valid-api-definition", None)]

    assert level_of([_result("has-owner", False), *bronze_ok[1:], *silver_ok]) == "none"
    assert level_of([*bronze_ok, _result("has-runbook", False), _result("has-oncall", True)]) == "bronze"
    assert level_of([*bronze_ok, *silver_ok, _result("linked-aws-resources", False)]) == "silver"
    assert level_of([*bronze_ok, *silver_ok, _result("linked-aws-resources", True)]) == "gold"
    # A failing gold rule does not help a failing silver one: still bronze.
    assert level_of([*bronze_ok, _result("has-oncall", False), _result("linked-aws-resources", True)]) == "bronze"


def test_entity_levels_end_to_end(team_a):
    bare, bronze, silver, gold = apply(
        component("bare", description=""),
        component("bronze-svc"),
        component("silver-svc", **GOLD_METADATA),
        component("gold-svc", **GOLD_METADATA),
    )
    discovered_resource("gold-table", "component:gold-svc")

    assert [entity_scorecard(e).level for e in (bare, bronze, silver, gold)] == ["none", "bronze", "silver", "gold"]
    card = entity_scorecard(silver)
    assert card.failed == ["linked-aws-resources"]
    assert card.passed == ["has-description", "has-lifecycle", "has-owner", "has-oncall", "has-runbook"]


def test_a_later_app_adds_its_own_rule_with_a_batch_provider(team_a):
    (entity,) = apply(component("orders", **GOLD_METADATA))
    calls = []

    @registry.context_provider("test_alarmed")
    def alarmed(entities):
        calls.append(len(entities))
        return set()

    @registry.rule(
        id="test-alarms-defined",
        title="Alarms defined",
        why="An alarm tells the team before its users do.",
        kinds={"component"},
        level="silver",
        needs=("test_alarmed",),
    )
    def alarms_defined(entity, context):
        return entity.pk in context["test_alarmed"]

    try:
        card = entity_scorecard(entity)
    finally:
        registry._rules.pop("test-alarms-defined")
        registry._providers.pop("test_alarmed")

    assert calls == [1]
    assert "test-alarms-defined" in card.failed
    assert card.level == "bronze"  # the new silver rule fails, so silver is lost


# --- computing and storing ---------------------------------------------------------------------


def _catalog(count: int) -> list[Entity]:
    documents = [group("team-a"), group("team-b")]
    for i in range(count):
        metadata = GOLD_METADATA if i % 2 else {}
        owner = "group:team-a" if i % 3 else "group:team-b"
        documents.append(component(f"svc-{i}", spec={"owner": owner, "system": "shop"}, **metadata))
    return apply(*documents)


def test_compute_all_stores_each_entitys_latest_score_and_the_rollups(db):
    entities = _catalog(6)  # svc-0 .. svc-5; odd ones have runbook and on-call (silver), even ones bronze

    summary = scorecards_compute_all(batch_size=4)

    # Groups have only the description rule (bronze): bronze is as far as they go.
    assert summary.entities == 8 and summary.levels == {"bronze": 5, "silver": 3}
    scores = {s.entity.name: s for s in EntityScore.objects.select_related("entity")}
    assert scores["svc-1"].level == "silver" and scores["svc-1"].failed == ["linked-aws-resources"]
    assert scores["svc-0"].level == "bronze" and set(scores["svc-0"].failed) == {
        "has-runbook",
        "has-oncall",
        "linked-aws-resources",
    }
    assert scores["svc-1"].entity_etag == entities[3].etag
    team_a = ScorecardRollup.objects.get(scope="team", key="group:default/team-a")
    # svc-1, svc-2, svc-4, svc-5 are team-a's (i % 3 != 0).
    assert (team_a.entities, team_a.bronze, team_a.silver, team_a.gold, team_a.none) == (4, 2, 2, 0, 0)
    assert team_a.failures == {"has-oncall": 2, "has-runbook": 2, "linked-aws-resources": 4}
    shop = ScorecardRollup.objects.get(scope="system", key="system:default/shop")
    assert shop.entities == 6
    whole = ScorecardRollup.objects.get(scope="catalog", key="")
    assert whole.entities == 8


def test_compute_all_is_idempotent_and_keeps_one_rollup_per_day(db):
    _catalog(3)
    scorecards_compute_all()
    first = dict(ScorecardRollup.objects.values_list("key", "entities"))

    scorecards_compute_all()

    assert dict(ScorecardRollup.objects.values_list("key", "entities")) == first
    assert ScorecardRollup.objects.filter(day=timezone.localdate()).count() == len(first)
    assert EntityScore.objects.count() == 5


def _queries_for_catalog(size: int) -> int:
    _catalog(size)
    with CaptureQueriesContext(connection) as queries:
        scorecards_compute_all(batch_size=1000)
    EntityScore.objects.all().delete()
    ScorecardRollup.objects.all().delete()
    Entity.objects.all().delete()
    return len(queries)


def test_batch_computation_makes_the_same_number_of_queries_for_5_or_50_entities(db):
    small = _queries_for_catalog(5)
    large = _queries_for_catalog(50)

    # One batch: select it with its locations (1), the providers (5: owners, provided APIs, two for linked
    # resources, and observability's golden-signal alarms: the components' resources, whose alarms are not read
    # when there are none), its scores in one INSERT ... ON CONFLICT inside a savepoint (3); the empty next batch (1);
    # the rollups: savepoint, delete today's stale rows, one upsert, release (4).
    assert small == large == 14


def test_a_team_sees_its_trend_one_row_a_day(db):
    _catalog(3)  # team-a: svc-1 (silver), svc-2 (bronze)
    yesterday = timezone.localdate() - timedelta(days=1)
    scorecards_compute_all(day=yesterday)
    svc2 = Entity.objects.get(name="svc-2")
    entity_update(actor=ACTOR, entity=svc2, document=component("svc-2", spec={"system": "shop"}, **GOLD_METADATA))
    scorecards_compute_all()

    rollup = team_scorecard("team-a")

    assert [(r.day, r.bronze, r.silver) for r in rollup.trend] == [
        (yesterday, 1, 1),
        (timezone.localdate(), 0, 2),
    ]
    assert rollup.latest.silver == 2
    assert [(f.rule.id, f.count) for f in rollup.failures] == [("linked-aws-resources", 2)]
    assert rollup.share_at_least_bronze == [(yesterday.isoformat(), 100), (timezone.localdate().isoformat(), 100)]
    assert system_scorecard("system:default/shop").latest.entities == 3


def test_a_team_that_lost_its_entities_drops_out_of_todays_rollup(db):
    _catalog(3)
    scorecards_compute_all()
    assert ScorecardRollup.objects.filter(key="group:default/team-b").exists()
    svc0 = Entity.objects.get(name="svc-0")  # team-b's only component
    entity_update(actor=ACTOR, entity=svc0, document=component("svc-0", spec={"system": "shop"}))

    scorecards_compute_all()

    assert not ScorecardRollup.objects.filter(key="group:default/team-b").exists()


def test_the_sweep_rescores_changed_entities_and_their_neighbours(team_a):
    svc, other = apply(component("orders", **GOLD_METADATA), component("billing"))
    scorecards_compute_all()
    assert changed_entity_ids() == []
    assert EntityScore.objects.get(entity=svc).level == "silver"

    # A discovered resource linked to the component appears: the component is its neighbour.
    resource = discovered_resource("orders-table", "component:orders")
    entity_update(actor=ACTOR, entity=other, document=component("billing", description=""))

    assert set(changed_entity_ids()) == {resource.pk, other.pk}
    scorecards_compute_changed()

    assert changed_entity_ids() == []
    assert EntityScore.objects.get(entity=svc).level == "gold"
    assert EntityScore.objects.get(entity=other).level == "none"
    assert EntityScore.objects.get(entity=resource).level == "bronze"  # a Resource has only bronze rules


def test_tasks_compute_scores_and_are_safe_to_run_twice(team_a):
    (svc,) = apply(component("orders"))

    tasks.scorecards_compute()
    tasks.scorecards_compute()
    tasks.scorecards_compute_changed()

    assert EntityScore.objects.get(entity=svc).level == "bronze"
    assert ScorecardRollup.objects.filter(scope="team").count() == 1


# --- what pages include --------------------------------------------------------------------------


def test_the_team_summary_shows_levels_failures_and_trend(db):
    _catalog(3)
    scorecards_compute_all(day=timezone.localdate() - timedelta(days=1))
    scorecards_compute_all()
    team = Team.objects.get(slug="team-a")

    html = render_to_string("catalog/scorecards/_rollup.html", scorecard_context(None, team))

    assert 'data-testid="scorecard-rollup"' in html
    assert '<span class="me-3" data-level="silver">Silver: <strong>1</strong></span>' in html
    assert "Linked to its AWS resources</strong> — 2 failing" in html
    assert "<polyline" in html


def test_the_team_summary_says_when_there_is_no_score_yet(db):
    team = Team.objects.create(slug="newcomers", name="Newcomers")

    html = render_to_string("catalog/scorecards/_rollup.html", scorecard_context(None, team))

    assert "No scorecard yet" in html


def test_the_entity_card_and_badge(team_a):
    (svc,) = apply(component("orders", **GOLD_METADATA))
    scorecards_compute_all()
    svc = Entity.objects.select_related("score").get(pk=svc.pk)

    card = render_to_string("catalog/scorecards/_entity_card.html", {"entity": svc})
    badge = Template("{% load scorecards %}{{ entity|stored_level|level_badge }}").render(Context({"entity": svc}))
    no_score_yet = Template("{% load scorecards %}{{ entity|stored_level|level_badge }}").render(
        Context({"entity": Entity.objects.select_related("score").get(pk=apply(component("new"))[0].pk)})
    )

    assert 'data-rule="linked-aws-resources" data-passed="false"' in card
    assert "Linked resources put its metrics" in card  # the why of a failing rule
    assert 'data-rule="has-owner" data-passed="true"' in card
    assert 'data-level="silver"' in badge
    assert no_score_yet == ""


def test_migrate_registered_the_catalog_schedules(db):
    from django_celery_beat.models import PeriodicTask

    registered = dict(PeriodicTask.objects.filter(name__startswith="catalog: ").values_list("name", "task"))

    assert registered == {
        "catalog: discover AWS resources": "catalog.tasks.catalog_discover_all",
        "catalog: resolve relations": "catalog.tasks.relations_resolve",
        "catalog: scorecards": "catalog.tasks.scorecards_compute",
        "catalog: scorecards of changed entities": "catalog.tasks.scorecards_compute_changed",
    }


# --- rules that do not apply, and rescoring after imports and discovery -------------------------


def test_a_level_no_rule_of_which_applies_is_not_reached():
    bronze_ok = [_result("has-owner", True), _result("has-description", True), _result("has-lifecycle", True)]
    silver_ok = [_result("has-runbook", True), _result("has-oncall", True)]

    # A Resource has bronze rules only: passing them is bronze, never gold by default.
    assert level_of([_result("has-owner", True), _result("has-description", None)]) == "bronze"
    # A library: the gold rule does not apply to it, so silver is as far as it goes.
    assert level_of([*bronze_ok, *silver_ok, _result("linked-aws-resources", None)]) == "silver"
    # Silver rules that all answer "does not apply" do not make a bronze entity silver.
    assert level_of([*bronze_ok, _result("valid-api-definition", None)]) == "bronze"


def test_discovered_resources_and_groups_are_not_gold_for_what_nobody_did(team_a):
    tagged = discovered_resource("orders-alarm", "component:orders")
    location = location_for(type=Location.Type.DISCOVERY, target="aws:123456789012:eu-west-1")
    (untagged,) = apply(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Resource",
            "metadata": {"name": "subnet-0abc", "description": "subnet subnet-0abc; found by AWS discovery."},
            "spec": {"type": "subnet", "owner": "group:default/unowned"},
        },
        location=location,
    )

    # The description discovery wrote is not the team's: the rule does not apply; the team tag is what counts.
    assert results(tagged) == {"has-owner": True, "has-description": None}
    assert entity_scorecard(tagged).level == "bronze"
    assert entity_scorecard(untagged).level == "none"
    assert entity_scorecard(team_a).level == "bronze"  # a Group has only the description rule


@pytest.fixture
def celery_eager():
    from portal.celery import app as celery_app

    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


def test_an_import_or_a_discovery_rescores_what_it_changed_and_its_teams_at_once(
    team_a, celery_eager, django_capture_on_commit_callbacks
):
    apply(component("billing"))
    scorecards_compute_all()  # at boot: before the rest of the catalog's import and the first discovery
    assert ScorecardRollup.objects.get(scope="team", key="group:default/team-a").entities == 1

    with django_capture_on_commit_callbacks(execute=True):
        (svc,) = apply(component("orders", **GOLD_METADATA))
    with django_capture_on_commit_callbacks(execute=True):
        resource = discovered_resource("orders-table", "component:orders")

    assert EntityScore.objects.get(entity=svc).level == "gold"  # rescored as its Resource arrived
    assert EntityScore.objects.get(entity=resource).level == "bronze"
    rollup = ScorecardRollup.objects.get(scope="team", key="group:default/team-a", day=timezone.localdate())
    assert (rollup.entities, rollup.gold, rollup.bronze) == (3, 1, 2)  # two components and the table
    assert rollup.failures == {"has-oncall": 1, "has-runbook": 1, "linked-aws-resources": 1}
    assert ScorecardRollup.objects.get(scope="system", key="system:default/shop").entities == 2
    assert ScorecardRollup.objects.get(scope="catalog", key="").entities == 4  # and the Group


def test_an_entity_that_moves_team_or_system_leaves_the_old_rollups_at_once(
    team_a, celery_eager, django_capture_on_commit_callbacks
):
    apply(group("team-b"), component("billing"), component("orders"))
    scorecards_compute_all()
    assert ScorecardRollup.objects.get(scope="team", key="group:default/team-a").entities == 2

    moved = component("orders", spec={"owner": "group:team-b", "system": "payments"})
    with django_capture_on_commit_callbacks(execute=True):
        apply(moved)

    def counted(scope, key):
        return ScorecardRollup.objects.get(scope=scope, key=key, day=timezone.localdate()).entities

    assert counted("team", "group:default/team-a") == 1  # not after the hourly run: now
    assert counted("team", "group:default/team-b") == 1
    assert counted("system", "system:default/shop") == 1
    assert counted("system", "system:default/payments") == 1
    assert EntityScore.objects.get(entity__name="orders").owner_key == "group:default/team-b"
