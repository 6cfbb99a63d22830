"""Each entity on its own, as Backstage processes them: per-entity outcomes, all-or-nothing on request, exit statuses,
warnings, and what a refused file leaves behind."""

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from catalog.importing import import_paths, import_upload
from catalog.models import Entity, Location
from tests.catalog.descriptors import ACTOR, COMPONENT

pytestmark = pytest.mark.django_db

API = """\
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: {name}
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    $text: {definition}
"""


def location(name: str, *targets: str, extra: str = "") -> str:
    lines = "".join(f"    - {target}\n" for target in targets)
    return (
        f"apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: {name}\nspec:\n{extra}"
        f"  targets:\n{lines}"
    )


def write(folder, files: dict[str, str]):
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def names() -> list[str]:
    return sorted(Entity.objects.values_list("name", flat=True))


def run(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("catalog_import", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


@pytest.fixture
def folder(tmp_path):
    """services.yaml: a Component and an API whose definition cannot be read; all.yaml: a Location with one
    target outside the root and one inside; more.yaml: a Component."""
    return write(
        tmp_path / "catalog",
        {
            "services.yaml": COMPONENT.format(name="orders")
            + "---\n"
            + API.format(name="orders-api", definition="./gone.yaml"),
            "all.yaml": location("all", "../elsewhere.yaml", "./more.yaml"),
            "more.yaml": COMPONENT.format(name="payments"),
            "orders-api.txt": "openapi: 3.0.0\n",
        },
    )


def test_one_broken_document_costs_only_itself_and_is_reported_so_a_person_can_act(folder):
    report = import_paths(actor=ACTOR, paths=[folder])

    assert names() == ["all", "orders", "payments"]
    services = next(loc for loc in report.locations if loc.target.endswith("services.yaml"))
    assert services.created == ["component:default/orders"]
    [refused] = services.refused_entities
    assert (refused.index, refused.ref) == (1, "api:default/orders-api")
    [problem] = refused.problems
    assert (problem.source, problem.field, problem.rule) == (
        str((folder / "services.yaml").resolve()),
        "spec.definition",
        "substitution.not-found",
    )
    text = report.as_text()
    assert "refused api:default/orders-api (document 2):" in text
    assert "spec.definition: $text ./gone.yaml: does not exist [substitution.not-found]" in text
    # The Location entity is kept; the target it may not follow is reported on its own.
    [outside] = report.problems
    assert (outside.field, outside.rule) == ("spec.targets[0]", "location.outside-root")
    assert report.status == 1
    assert "partial." in text


def test_a_refused_document_keeps_the_last_good_version_of_its_entity(folder):
    (folder / "services.yaml").write_text(
        COMPONENT.format(name="orders") + "---\n" + API.format(name="orders-api", definition="./orders-api.txt")
    )
    import_paths(actor=ACTOR, paths=[folder])
    good = Entity.objects.get(name="orders-api")
    assert good.spec["definition"] == "openapi: 3.0.0\n"

    (folder / "services.yaml").write_text(
        COMPONENT.format(name="orders").replace("production", "experimental")
        + "---\n"
        + API.format(name="orders-api", definition="./gone.yaml")
    )
    report = import_paths(actor=ACTOR, paths=[folder])

    api = Entity.objects.get(name="orders-api")
    assert (api.etag, api.orphaned) == (good.etag, False)  # neither changed nor orphaned
    assert Entity.objects.get(name="orders").spec["lifecycle"] == "experimental"
    assert report.updated == 1 and report.entities_refused == 1 and report.orphaned == 0


def test_atomic_writes_nothing_at_all_when_anything_is_refused(folder):
    events = AuditEvent.objects.count()
    report = import_paths(actor=ACTOR, paths=[folder], atomic=True)

    assert Entity.objects.count() == 0
    assert not Location.objects.exists()
    assert AuditEvent.objects.count() == events
    assert report.status == 2
    assert report.created == 0  # what it would have written is not listed as written
    assert report.rolled_back.startswith("atomic import: 2 refusal(s), so nothing was written")

    status, output = run(str(folder), "--atomic")
    assert status == 2
    assert "ROLLED BACK: atomic import" in output and "nothing was applied" in output
    assert Entity.objects.count() == 0


def test_atomic_applies_everything_when_nothing_is_refused(tmp_path):
    write(tmp_path, {"a.yaml": COMPONENT.format(name="a"), "b.yaml": COMPONENT.format(name="b")})
    status, output = run(str(tmp_path), "--atomic")
    assert status == 0, output
    assert names() == ["a", "b"]


def test_exit_status_0_all_applied_1_something_refused_2_nothing_applied(tmp_path):
    write(tmp_path, {"a.yaml": COMPONENT.format(name="a")})
    assert run(str(tmp_path))[0] == 0

    (tmp_path / "b.yaml").write_text(COMPONENT.format(name="b b"))
    status, output = run(str(tmp_path))
    assert status == 1
    assert "the rest was applied" in output

    (tmp_path / "a.yaml").unlink()
    (tmp_path / "b.yaml").unlink()
    (tmp_path / "c.yaml").write_text("kind: [unclosed\n")
    status, output = run(str(tmp_path))
    assert status == 2
    assert "nothing was applied" in output


def test_a_missing_optional_target_is_a_warning_with_its_resolved_path_and_exit_status_0(tmp_path):
    write(tmp_path, {"all.yaml": location("all", "./later.yaml", extra="  presence: optional\n")})
    status, output = run(str(tmp_path))
    assert status == 0, output
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    assert report.ok and report.all_problems == []
    [warning] = report.warnings
    assert (warning.field, warning.rule) == ("spec.targets[0]", "location.target-missing")
    assert str((tmp_path / "later.yaml").resolve()) in warning.message
    assert "it is optional" in warning.message
    assert "Warnings:" in output and "1 warning(s): applied." in output


def test_a_missing_required_target_names_its_resolved_path(tmp_path):
    write(tmp_path, {"all.yaml": location("all", "./gone.yaml")})
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    [problem] = report.problems
    assert f"./gone.yaml ({(tmp_path / 'gone.yaml').resolve()}) does not exist" in problem.message


def test_a_refused_file_leaves_no_location_row(tmp_path):
    write(tmp_path, {"bad.yaml": COMPONENT.format(name="bad name"), "good.yaml": COMPONENT.format(name="good")})
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    assert report.status == 1
    assert [target.rsplit("/", 1)[1] for target in Location.objects.values_list("target", flat=True)] == ["good.yaml"]

    upload = import_upload(actor=ACTOR, name="broken.yaml", content=b"kind: [unclosed\n")
    assert upload.status == 2
    assert not Location.objects.filter(type="upload").exists()


def test_a_relative_url_target_in_a_file_import_is_the_file_next_to_it(tmp_path):
    write(
        tmp_path,
        {
            "root.yaml": location("root", "./catalog/all.yaml", extra="  type: url\n"),
            "catalog/all.yaml": COMPONENT.format(name="listed"),
        },
    )
    report = import_paths(actor=ACTOR, paths=[tmp_path / "root.yaml"])
    assert report.ok, report.as_text()
    assert names() == ["listed", "root"]
    assert Entity.objects.get(name="listed").location.target == str((tmp_path / "catalog" / "all.yaml").resolve())
