"""Two imports committing at the same time (a CI pipeline and AWS discovery, say): a relation from one to an
entity the other creates must end up resolved, whichever commits last. Neither transaction sees the other's
rows while both are open, so this needs real concurrent transactions: PostgreSQL, two connections."""

import threading

import pytest
from django.db import connection, connections, transaction

from catalog.models import Relation
from catalog.services import Incoming, entities_apply, location_for
from portal.actors import Actor

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writing transaction at a time"),
]
ACTOR = Actor.for_system("test")


def component(name: str, **spec) -> dict:
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a", **spec},
    }


def apply(target: str, document: dict):
    return entities_apply(
        actor=ACTOR, location=location_for(type="file", target=target), incoming=[Incoming(document, target, 0)]
    )


def in_another_connection(target: str, document: dict):
    def run():
        try:
            apply(target, document)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_relation_to_an_entity_created_by_an_import_that_commits_first_resolves():
    with transaction.atomic():
        apply("/a.yaml", component("a", dependsOn=["component:b"]))  # b does not exist yet
        in_another_connection("/b.yaml", component("b"))  # b commits; it cannot see a's relation
    relation = Relation.objects.get(source__name="a", type="dependsOn")
    assert relation.target is not None and relation.target.name == "b"


def test_a_relation_from_an_import_that_commits_first_resolves_when_its_target_commits():
    with transaction.atomic():
        apply("/b.yaml", component("b"))  # b exists, uncommitted
        in_another_connection("/a.yaml", component("a", dependsOn=["component:b"]))  # a cannot see b yet
    relation = Relation.objects.get(source__name="a", type="dependsOn")
    assert relation.target is not None and relation.target.name == "b"


def test_two_imports_with_relations_to_each_others_entities_at_once_both_succeed_and_all_resolve():
    # The shape that deadlocked in the benchmark when each resolution UPDATE locked rows in its own order
    # (docs/benchmarks.md). The timing of that race is not reproducible here; what this asserts is that
    # both imports succeed and, once both have committed, every relation has reached its entity.
    names = [f"c{n}" for n in range(30)]
    first = [component(n, dependsOn=[f"component:d{m}" for m in range(30)]) for n in names]
    second = [component(f"d{m}", dependsOn=[f"component:{n}" for n in names]) for m in range(30)]

    def apply_all(target, documents):
        entities_apply(
            actor=ACTOR,
            location=location_for(type="file", target=target),
            incoming=[Incoming(d, target, i) for i, d in enumerate(documents)],
        )

    errors = []

    def run(target, documents):
        try:
            apply_all(target, documents)
        except Exception as exc:  # the test reports any failure of either side
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=args) for args in (("/c.yaml", first), ("/d.yaml", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert Relation.objects.filter(type="dependsOn").count() == 2 * 30 * 30
    assert not Relation.objects.filter(type="dependsOn", target__isnull=True).exists()


def test_the_sweep_resolves_what_is_left():
    from catalog.services import relations_resolve_all

    apply("/a.yaml", component("a", dependsOn=["component:b"]))
    apply("/b.yaml", component("b"))
    Relation.objects.filter(source__name="a").update(target=None)  # as if a resolution after commit had failed
    assert relations_resolve_all() == 1
    assert Relation.objects.get(source__name="a", type="dependsOn").target.name == "b"


# --- an import and a delete of the same entity at once --------------------------------------------------
# The database does not check a relation's or tag's reference to its own entity (catalog/models.py, Relation);
# the locks of entities_apply and entity_delete keep it from dangling, whichever of the two goes first.


class Held(threading.Thread):
    """`work` in a transaction of another connection, kept open (its locks held) until `commit` is set."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work, self.errors = work, []
        self.ready, self.commit = threading.Event(), threading.Event()

    def run(self):
        try:
            with transaction.atomic():
                self.work()
                self.ready.set()
                self.commit.wait(timeout=30)
        except Exception as error:  # the test asserts there is none
            self.errors.append(error)
        finally:
            self.ready.set()
            connections.close_all()


def waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def until(condition) -> None:
    for _ in range(600):
        if condition():
            return
        threading.Event().wait(0.05)
    raise AssertionError("the other transaction never waited for the lock")


def no_dangling_rows() -> bool:
    from catalog.models import Entity, EntityTag

    ids = set(Entity.objects.values_list("pk", flat=True))
    tagged = set(EntityTag.objects.values_list("entity_id", flat=True))
    return tagged <= ids and set(Relation.objects.values_list("source_id", flat=True)) <= ids


def changed(name: str) -> dict:
    """A new version of the component, with a new tag and a new relation to write."""
    document = component(name, dependsOn=["component:elsewhere"])
    document["metadata"]["tags"] = ["new-tag"]
    return document


def test_an_import_waits_for_a_delete_that_locked_first_and_writes_nothing_for_the_deleted_entity():
    from catalog.models import Entity
    from catalog.services import entity_delete

    apply("/a.yaml", component("a"))
    deleting = Held(lambda: entity_delete(actor=ACTOR, entity=Entity.objects.get(name="a")))
    deleting.start()
    deleting.ready.wait(timeout=30)
    importing = Held(lambda: apply("/a.yaml", changed("a")))
    importing.commit.set()  # commits as soon as it can: once the delete has
    importing.start()
    until(waiting_for_a_lock)
    deleting.commit.set()
    deleting.join(timeout=30)
    importing.join(timeout=30)
    assert not deleting.errors and not importing.errors
    assert not Entity.objects.filter(name="a").exists()
    assert no_dangling_rows()


def test_a_delete_waits_for_an_import_that_locked_first_and_deletes_what_it_wrote():
    from catalog.models import Entity
    from catalog.services import entity_delete

    apply("/a.yaml", component("a"))
    entity = Entity.objects.get(name="a")
    importing = Held(lambda: apply("/a.yaml", changed("a")))
    importing.start()
    importing.ready.wait(timeout=30)  # the entity is updated, its new tag and relation written, not committed
    deleting = Held(lambda: entity_delete(actor=ACTOR, entity=entity))
    deleting.commit.set()
    deleting.start()
    until(waiting_for_a_lock)
    importing.commit.set()
    importing.join(timeout=30)
    deleting.join(timeout=30)
    assert not deleting.errors and not importing.errors
    assert not Entity.objects.filter(name="a").exists()
    assert no_dangling_rows()
