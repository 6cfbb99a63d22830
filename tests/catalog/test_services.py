"""Applying documents, and creating, changing and deleting entities, through catalog.services."""

import copy
import hashlib
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from catalog.annotations import ORPHAN_ANNOTATION
from catalog.models import Entity, EntityTag, Location, Relation
from catalog.services import (
    EntityConflict,
    EntityInvalid,
    Incoming,
    PreconditionFailed,
    entities_apply,
    entity_create,
    entity_delete,
    entity_update,
    location_for,
    team_entities_link,
)
from portal.actors import Actor
from portal.models import Team
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return Actor(user=UserFactory(username="importer"))


@pytest.fixture
def location():
    return location_for(type="file", target="/srv/catalog/orders.yaml")


def component(name, **spec) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name, "title": name.title(), "description": f"The {name} service", "tags": ["python"]},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-orders", **spec},
    }


def api(name) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "metadata": {"name": name},
        "spec": {
            "type": "openapi",
            "lifecycle": "production",
            "owner": "team-orders",
            "definition": "openapi: 3.0.0\n",
        },
    }


def group(name, namespace="default", display_name=None) -> dict:
    spec = {"type": "team", "children": []}
    if display_name:
        spec["profile"] = {"displayName": display_name}
    return {"apiVersion": "backstage.io/v1alpha1", "kind": "Group",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}  # fmt: skip


def incoming(*documents, source="/srv/catalog/orders.yaml") -> list[Incoming]:
    return [Incoming(document=d, source=source, index=i) for i, d in enumerate(documents)]


def apply(actor, location, *documents, **kwargs):
    return entities_apply(actor=actor, location=location, incoming=incoming(*documents), **kwargs)


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].split(" ", 1)[0] in ("INSERT", "UPDATE", "DELETE")]


# --- create, update, no-op -----------------------------------------------------------------------


def test_apply_creates_entities_with_their_indexed_copies_and_an_audit_event(actor, location):
    document = component("orders", system="shop")
    document["metadata"]["tags"] = ["python", "grpc", "python"]
    result = apply(actor, location, document)

    assert (result.created, result.updated, result.unchanged, result.problems) == (
        ["component:default/orders"],
        [],
        [],
        [],
    )
    entity = Entity.objects.get()
    assert entity.document == document
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entity.etag == hashlib.sha256(canonical.encode()).hexdigest()
    assert entity.uid is not None
    assert (entity.kind, entity.kind_key, entity.namespace, entity.name, entity.ref_key) == (
        "Component", "component", "default", "orders", "component:default/orders")  # fmt: skip
    assert (entity.title, entity.description, entity.spec_type, entity.lifecycle) == (
        "Orders", "The orders service", "service", "production")  # fmt: skip
    assert (entity.owner_key, entity.system_key) == ("group:default/team-orders", "system:default/shop")
    assert entity.search_text == "orders Orders The orders service python grpc"
    assert entity.location == location and not entity.orphaned
    assert sorted(EntityTag.objects.values_list("tag", flat=True)) == ["grpc", "python"]

    event = AuditEvent.objects.get()
    assert (event.action, event.actor_label, event.target_type, event.target_id) == (
        "entity.create", "importer", "catalog.entity", str(entity.pk))  # fmt: skip
    assert (event.before, event.after) == (None, document)


def test_reapplying_unchanged_documents_writes_nothing(actor, location):
    documents = [component("orders", dependsOn=["resource:orders-db"]), api("orders-api"), group("team-orders")]
    apply(actor, location, *documents)
    events = AuditEvent.objects.count()

    with CaptureQueriesContext(connection) as queries:
        result = apply(actor, location, *copy.deepcopy(documents))

    assert result.unchanged == ["component:default/orders", "api:default/orders-api", "group:default/team-orders"]
    assert (result.created, result.updated, result.orphaned) == ([], [], [])
    assert writes(queries.captured_queries) == []
    assert AuditEvent.objects.count() == events


def test_a_changed_document_updates_the_entity_and_keeps_its_uid(actor, location):
    apply(actor, location, component("orders"))
    entity = Entity.objects.get()
    before = copy.deepcopy(entity.document)
    changed = component("orders")
    changed["metadata"]["description"] = "Takes and tracks orders"
    changed["metadata"]["tags"] = ["go"]

    result = apply(actor, location, changed)

    assert result.updated == ["component:default/orders"]
    updated = Entity.objects.get()
    assert updated.uid == entity.uid and updated.etag != entity.etag
    assert updated.description == "Takes and tracks orders"
    assert list(EntityTag.objects.values_list("tag", flat=True)) == ["go"]
    event = AuditEvent.objects.filter(action="entity.update").get()
    assert (event.before, event.after) == (before, changed)


def test_catalog_owned_fields_in_a_document_are_not_stored(actor, location):
    document = component("orders")
    document["metadata"].update(uid="11111111-2222-3333-4444-555555555555", etag="abc", generation=3)
    document["metadata"]["annotations"] = {ORPHAN_ANNOTATION: "true", "example.com/x": "y"}
    apply(actor, location, document)
    entity = Entity.objects.get()
    assert str(entity.uid) != "11111111-2222-3333-4444-555555555555"
    assert set(entity.document["metadata"]) == {"name", "title", "description", "tags", "annotations"}
    assert entity.annotations == {"example.com/x": "y"}
    assert not entity.orphaned


def test_invalid_documents_are_reported_and_skipped_while_valid_ones_apply(actor, location):
    bad = component("bad name")
    result = apply(actor, location, component("orders"), bad)
    assert result.created == ["component:default/orders"]
    assert [(p.source, p.index, p.field, p.rule) for p in result.problems] == [
        ("/srv/catalog/orders.yaml", 1, "metadata.name", "name.format")
    ]
    assert Entity.objects.count() == 1


# --- relations -----------------------------------------------------------------------------------


def test_relations_are_derived_from_the_spec_and_seen_from_both_ends(actor, location):
    apply(actor, location, group("team-orders"), api("orders-api"),
          component("orders", providesApis=["orders-api"], consumesApis=["payments-api"]))  # fmt: skip
    orders = Entity.objects.get(ref_key="component:default/orders")
    out = {(r.type, r.target_key, r.target_id) for r in orders.relations_out.all()}
    orders_api = Entity.objects.get(ref_key="api:default/orders-api")
    team = Entity.objects.get(ref_key="group:default/team-orders")
    assert out == {
        ("ownedBy", "group:default/team-orders", team.pk),
        ("providesApi", "api:default/orders-api", orders_api.pk),
        ("consumesApi", "api:default/payments-api", None),  # unresolved: no such API yet
    }
    assert {(r.type, r.source_id) for r in orders_api.relations_in.all()} == {("providesApi", orders.pk)}
    assert {(r.type, r.source.name) for r in team.relations_in.all()} == {
        ("ownedBy", "orders"),
        ("ownedBy", "orders-api"),
    }


def test_an_unresolved_relation_resolves_when_its_target_arrives_from_another_location(actor, location):
    apply(actor, location, component("orders", consumesApis=["payments-api"]))
    relation = Relation.objects.get(type="consumesApi")
    assert relation.target is None

    elsewhere = location_for(type="file", target="/srv/catalog/payments.yaml")
    apply(actor, elsewhere, api("payments-api"))

    relation.refresh_from_db()
    assert relation.target == Entity.objects.get(ref_key="api:default/payments-api")


def test_the_sweep_that_resolves_relations_changes_the_catalog_version(
    actor, location, django_capture_on_commit_callbacks
):
    from catalog.services import relations_resolve_all
    from catalog.version import catalog_version

    apply(actor, location, component("orders", consumesApis=["payments-api"]), api("payments-api"))
    Relation.objects.filter(type="consumesApi").update(target=None)  # as if the resolution after commit had failed
    before = catalog_version()
    with django_capture_on_commit_callbacks(execute=True):
        assert relations_resolve_all() == 1
    # Graphs and list badges are cached under the version: a relation that now reaches its target must show.
    after = catalog_version()
    assert after != before
    with django_capture_on_commit_callbacks(execute=True):
        assert relations_resolve_all() == 0
    assert catalog_version() == after  # nothing resolved: cached pages stay valid


def test_a_reference_cycle_is_legal(actor, location):
    a = component("a", dependsOn=["component:b"])
    b = component("b", dependsOn=["component:a"])
    result = apply(actor, location, a, b)
    assert result.created == ["component:default/a", "component:default/b"]
    pairs = set(Relation.objects.values_list("source__name", "type", "target__name"))
    assert pairs == {("a", "dependsOn", "b"), ("b", "dependsOn", "a"), ("a", "ownedBy", None), ("b", "ownedBy", None)}
    assert apply(actor, location, a, b).unchanged == ["component:default/a", "component:default/b"]


def test_changing_a_reference_rewrites_the_relations(actor, location):
    apply(actor, location, api("v1"), api("v2"), component("orders", providesApis=["v1"]))
    apply(actor, location, api("v1"), api("v2"), component("orders", providesApis=["v2"]))
    assert list(Relation.objects.filter(type="providesApi").values_list("target__name", flat=True)) == ["v2"]


def test_deleting_a_target_leaves_the_relation_unresolved(actor, location):
    apply(actor, location, api("orders-api"), component("orders", providesApis=["orders-api"]))
    entity_delete(actor=actor, entity=Entity.objects.get(name="orders-api"))
    relation = Relation.objects.get(type="providesApi")
    assert (relation.target_key, relation.target) == ("api:default/orders-api", None)


# --- conflicts -----------------------------------------------------------------------------------


def test_duplicates_in_one_batch_keep_the_first(actor, location):
    first, second = component("orders"), component("Orders")
    second["metadata"]["description"] = "second"
    result = apply(actor, location, first, second)
    assert result.created == ["component:default/orders"]
    [problem] = result.problems
    assert (problem.index, problem.field, problem.rule) == (1, "metadata.name", "duplicate")
    assert "/srv/catalog/orders.yaml document 1" in problem.message  # people count documents from 1
    assert Entity.objects.get().description == "The orders service"


def test_an_entity_of_another_location_is_not_taken_over(actor, location):
    apply(actor, location, component("orders"))
    other = location_for(type="url", target="https://git.example.com/orders/catalog-info.yaml")
    changed = component("orders")
    changed["metadata"]["description"] = "hijacked"
    result = entities_apply(actor=actor, location=other, incoming=incoming(changed, source="https://git.example.com/x"))
    [problem] = result.problems
    assert (problem.field, problem.rule) == ("metadata.name", "location.conflict")
    assert "file:/srv/catalog/orders.yaml" in problem.message
    entity = Entity.objects.get()
    assert (entity.description, entity.location) == ("The orders service", location)


# --- orphans -------------------------------------------------------------------------------------


def test_an_entity_gone_from_its_location_is_orphaned_not_deleted(actor, location):
    apply(actor, location, *(component(n) for n in ("a", "b", "c", "d")))
    result = apply(actor, location, *(component(n) for n in ("a", "b", "c")))

    assert result.orphaned == ["component:default/d"]
    d = Entity.objects.get(name="d")
    assert d.orphaned and d.annotations == {ORPHAN_ANNOTATION: "true"}
    event = AuditEvent.objects.get(action="entity.orphan")
    assert (event.before, event.after) == (component("d"), d.document)

    back = apply(actor, location, *(component(n) for n in ("a", "b", "c", "d")))
    assert back.updated == ["component:default/d"]
    d.refresh_from_db()
    assert not d.orphaned and d.document == component("d")


def test_the_orphan_guard_refuses_an_import_that_would_orphan_too_much(actor, location, settings):
    settings.CATALOG_ORPHAN_GUARD = 0.5
    apply(actor, location, *(component(n) for n in ("a", "b", "c", "d")))
    events = AuditEvent.objects.count()

    result = apply(actor, location, component("a"), component("new"))

    assert "would orphan 3 of the 4 entities" in result.refused and "CATALOG_ORPHAN_GUARD" in result.refused
    assert (result.created, result.orphaned) == ([], [])
    assert not Entity.objects.filter(orphaned=True).exists() and not Entity.objects.filter(name="new").exists()
    assert AuditEvent.objects.count() == events

    forced = apply(actor, location, component("a"), component("new"), force=True)
    assert forced.refused == ""
    assert forced.orphaned == ["component:default/b", "component:default/c", "component:default/d"]
    assert forced.created == ["component:default/new"]


def test_exactly_the_guard_share_is_allowed(actor, location, settings):
    settings.CATALOG_ORPHAN_GUARD = 0.5
    apply(actor, location, *(component(n) for n in ("a", "b", "c", "d")))
    assert apply(actor, location, component("a"), component("b")).orphaned == [
        "component:default/c",
        "component:default/d",
    ]


def test_an_invalid_document_keeps_its_entity_instead_of_orphaning_it(actor, location):
    apply(actor, location, component("a"), component("b"))
    broken = component("b")
    broken["spec"]["owner"] = ["not", "a", "ref"]
    result = apply(actor, location, component("a"), broken)
    assert result.orphaned == [] and result.problems[0].field == "spec.owner"
    assert not Entity.objects.get(name="b").orphaned


def test_a_partial_apply_orphans_nothing(actor, location):
    apply(actor, location, component("a"), component("b"))
    assert apply(actor, location, component("c"), complete=False).orphaned == []
    assert Entity.objects.filter(orphaned=True).count() == 0


# --- Groups and Teams ----------------------------------------------------------------------------


def test_a_group_in_namespace_default_is_the_team_of_the_same_slug(actor, location):
    apply(actor, location, component("orders"))  # owner team-orders: no such team yet
    assert Entity.objects.get(name="orders").owner_team is None

    apply(actor, location, component("orders"), group("team-orders", display_name="Orders team"),
          component("billing", owner="group:default/team-orders"))  # fmt: skip

    team = Team.objects.get(slug="team-orders")
    assert (team.name, team.memberships.count()) == ("Orders team", 0)
    # Its own Group belongs to it as well: owner_team is what permission checks read, without a query.
    owned = set(Entity.objects.filter(owner_team=team).values_list("name", flat=True))
    assert owned == {"orders", "billing", "team-orders"}
    created = AuditEvent.objects.get(action="team.create")
    assert created.actor_kind == "system" and created.actor_label == "system:catalog:importer"


def test_groups_elsewhere_or_with_existing_teams_create_no_team(actor, location):
    existing = TeamFactory(slug="team-pay", name="Payments")
    apply(actor, location, group("team-pay"), group("team-ops", namespace="ops"), group("team.dots"),
          component("pay", owner="team-pay"), component("ops", owner="ops/team-ops"))  # fmt: skip
    assert list(Team.objects.values_list("slug", flat=True)) == ["team-pay"]
    assert Team.objects.get().name == "Payments"
    assert Entity.objects.get(name="pay").owner_team == existing
    assert Entity.objects.get(name="ops").owner_team is None


def test_a_team_made_in_the_portal_is_linked_to_the_entities_it_owns(actor, location):
    apply(actor, location, component("orders"))
    team = TeamFactory(slug="team-orders")
    assert team_entities_link(team=team) == 1
    assert Entity.objects.get().owner_team == team


# --- one entity at a time ------------------------------------------------------------------------


def test_entity_create_puts_it_in_the_api_location(actor):
    entity = entity_create(actor=actor, document=component("orders"))
    assert (entity.location.type, entity.location.target) == ("api", "api")
    assert AuditEvent.objects.get().action == "entity.create"
    with pytest.raises(EntityConflict) as conflict:
        entity_create(actor=actor, document=component("ORDERS"))
    assert conflict.value.problems[0].rule == "exists"


def test_entity_create_refuses_an_invalid_document_with_its_problems(actor):
    with pytest.raises(EntityInvalid) as invalid:
        entity_create(actor=actor, document=component("bad name"))
    assert [(p.source, p.field, p.rule) for p in invalid.value.problems] == [("api", "metadata.name", "name.format")]
    assert not Entity.objects.exists() and not Location.objects.filter(type="api").exists()


def test_entity_update_honours_if_match(actor, location):
    apply(actor, location, component("orders"))
    entity = Entity.objects.get()
    changed = component("orders")
    changed["metadata"]["description"] = "New"

    with pytest.raises(PreconditionFailed):
        entity_update(actor=actor, entity=entity, document=changed, if_match="stale")
    assert Entity.objects.get().description == "The orders service"

    updated = entity_update(actor=actor, entity=entity, document=changed, if_match=f'"{entity.etag}"')
    assert updated.description == "New" and updated.etag != entity.etag
    assert updated.location == location  # stays where it came from
    event = AuditEvent.objects.get(action="entity.update")
    assert (event.before, event.after) == (component("orders"), changed)

    again = entity_update(actor=actor, entity=updated, document=changed)  # no if_match: last write wins
    assert again.etag == updated.etag and AuditEvent.objects.filter(action="entity.update").count() == 1


def test_entity_update_cannot_change_identity_or_break_rules(actor, location):
    apply(actor, location, component("orders"))
    entity = Entity.objects.get()
    with pytest.raises(EntityInvalid) as renamed:
        entity_update(actor=actor, entity=entity, document=component("billing"))
    assert renamed.value.problems[0].rule == "identity.changed"
    with pytest.raises(EntityInvalid) as invalid:
        entity_update(actor=actor, entity=entity, document=component("orders", lifecycle=""))
    assert [(p.field, p.rule) for p in invalid.value.problems] == [("spec.lifecycle", "empty")]


def test_entity_delete_is_audited_with_the_document(actor, location):
    apply(actor, location, component("orders"))
    entity = Entity.objects.get()
    entity_delete(actor=actor, entity=entity)
    assert not Entity.objects.exists() and not EntityTag.objects.exists()
    event = AuditEvent.objects.get(action="entity.delete")
    assert (event.target_id, event.before, event.after) == (str(entity.pk), component("orders"), None)


def test_location_for_gets_or_creates(actor):
    first = location_for(type="upload", target="catalog.yaml")
    assert location_for(type="upload", target="catalog.yaml") == first
    with pytest.raises(ValueError, match="unknown location type"):
        location_for(type="ftp", target="x")


# --- set-based writes ----------------------------------------------------------------------------


def _non_audit_queries(actor, location, count: int) -> int:
    p = f"n{count}"
    documents = [api(f"{p}-api-{i}") for i in range(count)]
    documents += [component(f"{p}-svc-{i}", providesApis=[f"{p}-api-{i}"], consumesApis=[f"{p}-api-{(i + 1) % count}"],
                            dependsOn=[f"resource:{p}-db-{i}"]) for i in range(count)]  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        result = apply(actor, location, *documents)
    assert len(result.created) == 2 * count
    return len([q for q in queries.captured_queries if "audit_auditevent" not in q["sql"]])


def test_the_number_of_queries_does_not_grow_with_entities_or_relations(actor):
    small = _non_audit_queries(actor, location_for(type="file", target="small.yaml"), 5)
    # 40 entities still fit one bulk INSERT on SQLite (999 parameters a statement); beyond that the
    # statements are split into batches, which is the database's limit, not a query per row.
    large = _non_audit_queries(actor, location_for(type="file", target="large.yaml"), 20)
    # Lock the location, find existing entities, list the location's entities, team ids, insert entities,
    # insert tags, find relation targets, insert relations, resolve earlier relations to the new entities.
    assert small == large
