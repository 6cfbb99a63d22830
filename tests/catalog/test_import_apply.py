"""Applying imports: unchanged files write nothing, files gone from a folder orphan their entities, the commands."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from catalog.importing import import_paths
from catalog.models import Entity
from tests.catalog.descriptors import ACTOR, COMPONENT

pytestmark = pytest.mark.django_db


GROUP = (
    "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n"
)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "org.yaml").write_text(GROUP)
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "orders.yaml").write_text(COMPONENT.format(name="orders"))
    (tmp_path / "services" / "payments.yaml").write_text(
        COMPONENT.format(name="payments") + "---\n" + COMPONENT.format(name="refunds")
    )
    (tmp_path / "all.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: all\n"
        "spec:\n  targets:\n    - ./services/*.yaml\n"
    )
    return tmp_path


def test_reimporting_unchanged_files_writes_nothing(folder):
    first = import_paths(actor=ACTOR, paths=[folder])
    assert first.ok and first.created == 5
    audit_events = AuditEvent.objects.count()

    with CaptureQueriesContext(connection) as queries:
        again = import_paths(actor=ACTOR, paths=[folder])

    assert again.ok
    assert (again.created, again.updated, again.unchanged, again.orphaned) == (0, 0, 5, 0)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert AuditEvent.objects.count() == audit_events


def test_a_changed_file_updates_only_its_entities(folder):
    import_paths(actor=ACTOR, paths=[folder])
    (folder / "services" / "orders.yaml").write_text(
        COMPONENT.format(name="orders").replace("spec:", "  description: Takes orders\nspec:")
    )
    report = import_paths(actor=ACTOR, paths=[folder])
    assert (report.created, report.updated, report.unchanged) == (0, 1, 4)
    assert Entity.objects.get(name="orders").description == "Takes orders"


def test_a_file_removed_from_a_folder_orphans_its_entities_past_the_guard_only_with_force(folder):
    import_paths(actor=ACTOR, paths=[folder])
    (folder / "services" / "payments.yaml").unlink()

    guarded = import_paths(actor=ACTOR, paths=[folder])
    [location] = guarded.refused
    assert location.target == str((folder / "services" / "payments.yaml").resolve())
    assert "CATALOG_ORPHAN_GUARD" in location.refused
    assert not guarded.ok
    assert Entity.objects.filter(orphaned=True).count() == 0

    forced = import_paths(actor=ACTOR, paths=[folder], force=True)
    assert sorted(forced.locations[-1].orphaned) == ["component:default/payments", "component:default/refunds"]
    orphans = Entity.objects.filter(orphaned=True)
    assert sorted(orphans.values_list("name", flat=True)) == ["payments", "refunds"]
    assert all(e.annotations["backstage.io/orphan"] == "true" for e in orphans)

    # Once orphaned, the gone file is not a location to apply again.
    assert import_paths(actor=ACTOR, paths=[folder]).ok


def test_an_entity_removed_from_a_file_is_orphaned_within_the_guard(folder):
    (folder / "services" / "payments.yaml").write_text(
        "\n---\n".join(COMPONENT.format(name=name) for name in ("payments", "refunds", "ledger"))
    )
    import_paths(actor=ACTOR, paths=[folder])
    (folder / "services" / "payments.yaml").write_text(
        COMPONENT.format(name="payments") + "---\n" + COMPONENT.format(name="refunds")
    )
    report = import_paths(actor=ACTOR, paths=[folder])
    assert report.ok
    assert report.orphaned == 1
    assert Entity.objects.get(name="ledger").orphaned


# --- the commands ------------------------------------------------------------------------------


def run(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("catalog_import", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def test_catalog_import_prints_a_report_and_exits_1_on_problems(folder):
    status, output = run(str(folder))
    assert status == 0
    assert "5 created" in output and "0 problem(s)" in output

    (folder / "bad.yaml").write_text(COMPONENT.format(name="bad name"))
    status, output = run(str(folder))
    assert status == 1
    assert 'metadata.name "bad name"' in output and "[name.format]" in output


def test_catalog_import_force_passes_the_orphan_guard(folder):
    run(str(folder))
    (folder / "services" / "payments.yaml").unlink()
    status, output = run(str(folder))
    assert status == 1
    assert "REFUSED" in output and "force" in output
    status, output = run(str(folder), "--force")
    assert status == 0
    assert "2 orphaned" in output


def test_catalog_import_refuses_a_private_url_by_default(settings):
    settings.CATALOG_IMPORT_ALLOWED_HOSTS = ["127.0.0.1"]
    status, output = run("http://127.0.0.1:9/catalog.yaml")
    assert status == 2  # nothing applied
    assert "[url.private-address]" in output


def test_catalog_export_writes_what_was_imported_by_location_or_ref(folder, tmp_path_factory):
    import_paths(actor=ACTOR, paths=[folder])
    out = tmp_path_factory.mktemp("export") / "catalog.yaml"
    call_command(
        "catalog_export", "--location", f"file:{(folder / 'services' / 'payments.yaml').resolve()}", "-o", str(out)
    )
    assert out.read_text() == "---\n" + COMPONENT.format(name="payments") + "---\n" + COMPONENT.format(name="refunds")

    buffer = io.StringIO()
    call_command("catalog_export", "--ref", "component:default/orders", "--ref", "group:team-a", stdout=buffer)
    assert buffer.getvalue() == "---\n" + COMPONENT.format(name="orders") + "---\n" + GROUP

    with pytest.raises(CommandError, match="No such entity"):
        call_command("catalog_export", "--ref", "component:nope")
