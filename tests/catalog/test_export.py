"""Exporting entities as YAML, and importing an export giving the same entities back."""

import types

import pytest
import yaml

from catalog.annotations import ORPHAN_ANNOTATION
from catalog.exporting import entities_for_export, export_yaml, exported_document, iter_export_yaml
from catalog.models import Entity, Relation
from catalog.services import Incoming, entities_apply, location_for
from portal.actors import Actor

pytestmark = pytest.mark.django_db

ACTOR = Actor.for_system("test")

DOCUMENTS = [
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "metadata": {"name": "orders-api", "title": "Orders API", "tags": ["rest"], "links": [
            {"url": "https://docs.example.com/orders", "title": "Docs"}]},
        "spec": {"type": "openapi", "lifecycle": "production", "owner": "team-orders",
                 "definition": "openapi: 3.0.0\ninfo:\n  title: Orders\n  version: '1.0'\npaths: {}\n"},
    },
    {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "orders", "namespace": "shop", "description": "Takes orders — fast",
                     "labels": {"example.com/tier": "1"}, "annotations": {"example.com/since": "2020-01-02"}},
        "spec": {"type": "service", "lifecycle": "production", "owner": "default/team-orders",
                 "providesApis": ["default/orders-api"], "dependsOn": ["resource:orders-db"], "replicas": 3,
                 "flags": {"beta": True, "ratio": 0.5, "none": None}},
    },
    {"apiVersion": "backstage.io/v1alpha1", "kind": "Group", "metadata": {"name": "team-orders"},
     "spec": {"type": "team", "children": []}},
    {"apiVersion": "example.com/v1", "kind": "Runbook", "metadata": {"name": "restart-orders"},
     "spec": {"steps": ["drain", "restart"]}},
]  # fmt: skip


def apply(location, documents, **kwargs):
    items = [Incoming(document=d, source=str(location), index=i) for i, d in enumerate(documents)]
    return entities_apply(actor=ACTOR, location=location, incoming=items, **kwargs)


def snapshot() -> dict:
    """What an entity is, apart from the ids the catalog gives it."""
    entities = {
        e.ref_key: (e.document, e.etag, e.title, e.owner_key, e.owner_team_id, e.search_text)
        for e in Entity.objects.all()
    }
    relations = set(Relation.objects.values_list("source__ref_key", "type", "target_key", "target__ref_key"))
    return {"entities": entities, "relations": relations}


def test_export_then_import_gives_the_same_entities():
    original = location_for(type="file", target="/srv/catalog/all.yaml")
    apply(original, DOCUMENTS)
    before = snapshot()
    text = export_yaml(entities_for_export())

    Entity.objects.all().delete()
    result = apply(location_for(type="upload", target="export.yaml"), list(yaml.safe_load_all(text)))

    assert result.problems == [] and len(result.created) == len(DOCUMENTS)
    assert snapshot() == before


def test_export_is_the_documents_as_written():
    apply(location_for(type="file", target="a.yaml"), DOCUMENTS)
    documents = list(yaml.safe_load_all(export_yaml(entities_for_export())))
    by_name = {d["metadata"]["name"]: d for d in documents}
    assert by_name == {d["metadata"]["name"]: d for d in DOCUMENTS}
    assert all("uid" not in d["metadata"] and "etag" not in d["metadata"] for d in documents)
    # Multi-line text stays readable, as a literal block.
    text = export_yaml(Entity.objects.filter(name="orders-api"))
    assert "definition: |\n    openapi: 3.0.0\n    info:\n" in text
    # The envelope in Backstage's order, whatever order the database keeps JSON keys in.
    assert text.startswith("---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: orders-api\n")


def test_orphan_annotation_is_left_out_of_the_export():
    location = location_for(type="file", target="a.yaml")
    apply(location, DOCUMENTS)
    apply(location, DOCUMENTS[:3])  # the Runbook is gone: orphaned
    runbook = Entity.objects.get(name="restart-orders")
    assert runbook.orphaned and runbook.annotations == {ORPHAN_ANNOTATION: "true"}
    assert exported_document(runbook) == DOCUMENTS[3]
    assert runbook.document["metadata"]["annotations"] == {ORPHAN_ANNOTATION: "true"}  # stored one untouched


def test_a_location_export_holds_only_that_location():
    apply(location_for(type="file", target="a.yaml"), DOCUMENTS[:2])
    other = location_for(type="file", target="b.yaml")
    apply(other, DOCUMENTS[2:])
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(export_yaml(entities_for_export(location=other)))]
    assert names == ["team-orders", "restart-orders"]


def test_whole_catalog_export_streams_one_document_at_a_time(django_assert_max_num_queries):
    apply(location_for(type="file", target="a.yaml"), DOCUMENTS)
    with django_assert_max_num_queries(1):  # one server-side cursor (SQLite: one query) for the whole catalog
        chunks = iter_export_yaml(entities_for_export())
        assert isinstance(chunks, types.GeneratorType)
        chunks = list(chunks)
    assert len(chunks) == len(DOCUMENTS) and all(chunk.startswith("---\n") for chunk in chunks)


def test_strings_that_yaml_1_2_reads_as_numbers_survive_the_round_trip():
    # PyYAML writes "1e3" and "0o17" unquoted (YAML 1.1 has no such numbers), but descriptors are read as
    # YAML 1.2, as Backstage reads them, where both are numbers: the export must quote them.
    from catalog.importing.reading import parse_documents

    tricky = ["1e3", "0o17", "0x1F", "true", "null", "12", "~", "yes", "orders"]
    document = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "tricky"},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-a", "note": tricky},
    }
    assert apply(location_for(type="file", target="/tricky.yaml"), [document]).created == ["component:default/tricky"]
    text = export_yaml(Entity.objects.filter(name="tricky"))
    [(_, read_back)] = parse_documents(text, source="export")
    assert read_back["spec"]["note"] == tricky


def test_an_export_leaves_location_entities_out_unless_asked_so_it_reimports_quietly(tmp_path):
    import io

    from django.core.management import call_command

    from catalog.importing import import_paths
    from tests.catalog.descriptors import COMPONENT

    (tmp_path / "all.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: all\nspec:\n  targets: [./a.yaml]\n"
    )
    (tmp_path / "a.yaml").write_text(COMPONENT.format(name="a"))
    assert import_paths(actor=ACTOR, paths=[tmp_path]).ok
    out = io.StringIO()
    call_command("catalog_export", stdout=out)
    assert "kind: Location" not in out.getvalue()
    assert [e.name for e in entities_for_export(with_locations=True)] == ["a", "all"]

    # The export imported elsewhere: no target to miss, nothing refused.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "export.yaml").write_text(out.getvalue())
    Entity.objects.all().delete()
    report = import_paths(actor=ACTOR, paths=[elsewhere])
    assert report.ok and report.warnings == [] and report.created == 1
