"""Location entities followed as Backstage follows them, substitutions, and the import root nothing may leave."""

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from catalog.importing import import_paths, import_upload
from catalog.models import Entity, Location
from catalog.services import entities_apply
from tests.catalog.descriptors import ACTOR, COMPONENT

pytestmark = pytest.mark.django_db


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


# --- following targets -------------------------------------------------------------------------


def test_targets_relative_to_the_file_and_globs_are_followed_one_location_per_file(tmp_path):
    write(
        tmp_path,
        {
            "all.yaml": location("all", "./teams/org.yaml", "./components/*.yaml"),
            "teams/org.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\n"
            "spec:\n  type: team\n  children: []\n",
            "components/a.yaml": COMPONENT.format(name="a"),
            "components/b.yaml": COMPONENT.format(name="b"),
            "unrelated.yaml": COMPONENT.format(name="not-named-by-all"),
        },
    )
    report = import_paths(actor=ACTOR, paths=[tmp_path / "all.yaml"])
    assert report.ok, report.as_text()
    assert names() == ["a", "all", "b", "team-a"]
    root = tmp_path.resolve()
    assert sorted(Location.objects.values_list("type", "target")) == [
        ("file", str(root / path)) for path in ("all.yaml", "components/a.yaml", "components/b.yaml", "teams/org.yaml")
    ]
    assert Entity.objects.get(name="a").location.target == str(root / "components/a.yaml")


def test_a_loop_of_locations_reads_each_file_once(tmp_path):
    write(
        tmp_path,
        {
            "a.yaml": location("a", "./b.yaml") + "---\n" + COMPONENT.format(name="in-a"),
            "b.yaml": location("b", "./a.yaml", "./b.yaml"),
        },
    )
    report = import_paths(actor=ACTOR, paths=[tmp_path / "a.yaml"])
    assert report.ok
    assert [loc.target.rsplit("/", 1)[1] for loc in report.locations] == ["a.yaml", "b.yaml"]
    assert names() == ["a", "b", "in-a"]


def test_a_missing_target_is_reported_and_the_location_entity_kept_as_backstage_keeps_it(tmp_path):
    write(tmp_path, {"all.yaml": location("all", "./gone.yaml")})
    report = import_paths(actor=ACTOR, paths=[tmp_path / "all.yaml"])
    [problem] = report.problems
    assert (problem.index, problem.field, problem.rule) == (0, "spec.targets[0]", "location.target-missing")
    assert names() == ["all"]


def test_an_optional_missing_target_is_not_a_problem(tmp_path):
    write(tmp_path, {"all.yaml": location("all", "./gone.yaml", extra="  presence: optional\n")})
    assert import_paths(actor=ACTOR, paths=[tmp_path / "all.yaml"]).ok


def test_a_target_of_a_type_that_cannot_be_read_is_reported(tmp_path):
    write(tmp_path, {"all.yaml": location("all", "https://github.com/x/y/blob/main/a.yaml", extra="  type: github\n")})
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    assert [p.rule for p in report.problems] == ["location.type-unsupported"]
    assert names() == ["all"]


# --- targets no longer named ------------------------------------------------------------------


@pytest.fixture
def named(tmp_path):
    """all.yaml names a.yaml and more.yaml, a Location naming b.yaml; c.yaml is named by nothing yet."""
    return write(
        tmp_path,
        {
            "all.yaml": location("all", "./a.yaml", "./more.yaml"),
            "a.yaml": COMPONENT.format(name="a"),
            "more.yaml": location("more", "./b.yaml"),
            "b.yaml": COMPONENT.format(name="b") + "---\n" + COMPONENT.format(name="b2"),
            "c.yaml": location("c", "./b.yaml"),
        },
    )


def orphans() -> list[str]:
    return sorted(Entity.objects.filter(orphaned=True).values_list("name", flat=True))


def test_a_target_no_longer_named_orphans_its_entities_and_those_of_its_location_children(named):
    assert import_paths(actor=ACTOR, paths=[named / "all.yaml"]).ok
    (named / "all.yaml").write_text(location("all", "./a.yaml"))

    report = import_paths(actor=ACTOR, paths=[named / "all.yaml"], force=True)

    assert report.ok, report.as_text()
    root = named.resolve()
    assert [(loc.target, loc.orphaned) for loc in report.locations if loc.orphaned] == [
        (str(root / "more.yaml"), ["location:default/more"]),
        (str(root / "b.yaml"), ["component:default/b", "component:default/b2"]),
    ]
    assert names() == ["a", "all", "b", "b2", "more"]  # orphaned, not deleted
    assert orphans() == ["b", "b2", "more"]
    assert Entity.objects.get(name="b").annotations["backstage.io/orphan"] == "true"
    events = AuditEvent.objects.filter(action="entity.orphan")
    assert sorted(events.values_list("target_repr", flat=True)) == [
        "component:default/b",
        "component:default/b2",
        "location:default/more",
    ]
    # Orphaned once: the next import has nothing more to do.
    again = import_paths(actor=ACTOR, paths=[named / "all.yaml"])
    assert again.ok and again.orphaned == 0 and again.updated == 0


def test_links_between_locations_are_made_and_removed_audited(named):
    root = named.resolve()
    all_yaml, more, b = (f"file:{root / name}" for name in ("all.yaml", "more.yaml", "b.yaml"))

    import_paths(actor=ACTOR, paths=[named / "all.yaml"])

    linked = AuditEvent.objects.filter(action="location.link")
    assert sorted((e.target_repr, e.after["child"], e.actor_label) for e in linked) == [
        (all_yaml, f"file:{root / 'a.yaml'}", ACTOR.label),
        (all_yaml, more, ACTOR.label),
        (more, b, ACTOR.label),
    ]
    assert {e.target_type for e in linked} == {"catalog.location"}
    (named / "all.yaml").write_text(location("all", "./a.yaml"))

    import_paths(actor=ACTOR, paths=[named / "all.yaml"], force=True)

    unlinked = AuditEvent.objects.filter(action="location.unlink")
    assert sorted((e.target_repr, e.before["child"], e.after) for e in unlinked) == [
        (all_yaml, more, None),
        (more, b, None),
    ]
    assert AuditEvent.objects.filter(action="location.link").count() == 3, "no link is made twice"


def test_the_orphan_guard_refuses_emptying_a_target_no_longer_named_until_forced(named):
    import_paths(actor=ACTOR, paths=[named / "all.yaml"])
    (named / "all.yaml").write_text(location("all", "./a.yaml"))

    guarded = import_paths(actor=ACTOR, paths=[named / "all.yaml"])

    assert not guarded.ok
    [refused] = guarded.refused
    assert refused.target == str((named / "more.yaml").resolve())
    assert "CATALOG_ORPHAN_GUARD" in refused.refused
    assert orphans() == []
    # Refused is not forgotten: the same import with force empties it.
    forced = import_paths(actor=ACTOR, paths=[named / "all.yaml"], force=True)
    assert forced.orphaned == 3
    assert orphans() == ["b", "b2", "more"]


def test_a_refusal_further_down_keeps_the_whole_chain_for_the_next_import(named):
    import_paths(actor=ACTOR, paths=[named / "all.yaml"])
    more = Location.objects.get(target=str((named / "more.yaml").resolve()))
    # more.yaml's own entities are orphaned already, so only b.yaml's are left for the guard to refuse.
    entities_apply(actor=ACTOR, location=more, incoming=[], complete=True, force=True)
    (named / "all.yaml").write_text(location("all", "./a.yaml"))

    guarded = import_paths(actor=ACTOR, paths=[named / "all.yaml"])

    assert [loc.target for loc in guarded.refused] == [str((named / "b.yaml").resolve())]
    assert more.parents.count() == 1 and more.children.count() == 1
    forced = import_paths(actor=ACTOR, paths=[named / "all.yaml"], force=True)
    assert forced.orphaned == 2
    assert orphans() == ["b", "b2", "more"]
    assert more.parents.count() == 0 and more.children.count() == 0


def test_a_target_named_again_brings_its_entities_back(named):
    import_paths(actor=ACTOR, paths=[named / "all.yaml"])
    (named / "all.yaml").write_text(location("all", "./a.yaml"))
    import_paths(actor=ACTOR, paths=[named / "all.yaml"], force=True)
    (named / "all.yaml").write_text(location("all", "./a.yaml", "./more.yaml"))

    report = import_paths(actor=ACTOR, paths=[named / "all.yaml"])

    assert report.ok
    assert sorted(report.locations[-1].updated + report.locations[-2].updated) == [
        "component:default/b",
        "component:default/b2",
        "location:default/more",
    ]
    assert orphans() == []
    assert "backstage.io/orphan" not in Entity.objects.get(name="b").annotations


def test_a_target_another_imported_location_still_leads_to_keeps_its_entities(named):
    import_paths(actor=ACTOR, paths=[named / "all.yaml", named / "c.yaml"])
    (named / "all.yaml").write_text(location("all", "./a.yaml"))

    report = import_paths(actor=ACTOR, paths=[named / "all.yaml"], force=True)

    assert report.ok
    assert orphans() == ["more"]  # c.yaml still names b.yaml
    # Once c.yaml no longer names it either, nothing leads to b.yaml.
    (named / "c.yaml").write_text(location("c", "./a.yaml"))
    import_paths(actor=ACTOR, paths=[named / "c.yaml"], force=True)
    assert orphans() == ["b", "b2", "more"]


def test_a_target_still_named_but_missing_keeps_its_entities_as_an_unreadable_file_does(named):
    import_paths(actor=ACTOR, paths=[named / "all.yaml"])
    (named / "a.yaml").unlink()

    report = import_paths(actor=ACTOR, paths=[named / "all.yaml"], force=True)

    assert [p.rule for p in report.problems] == ["location.target-missing"]
    assert orphans() == []


def test_reimporting_an_unchanged_location_file_writes_nothing(named):
    import_paths(actor=ACTOR, paths=[named / "all.yaml"])
    audit_events = AuditEvent.objects.count()

    with CaptureQueriesContext(connection) as queries:
        again = import_paths(actor=ACTOR, paths=[named / "all.yaml"])

    assert again.ok
    assert (again.created, again.updated, again.unchanged, again.orphaned) == (0, 0, 5, 0)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert AuditEvent.objects.count() == audit_events


# --- the import root ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["../outside.yaml", "../*.yaml", "./../root/../outside.yaml", "/etc/hostname"])
def test_a_location_target_outside_the_root_is_not_followed_and_the_location_entity_kept(tmp_path, target):
    root = tmp_path / "root"
    write(tmp_path, {"outside.yaml": COMPONENT.format(name="secret"), "root/all.yaml": location("all", target)})
    report = import_paths(actor=ACTOR, paths=[root])
    [problem] = report.problems
    assert (problem.field, problem.rule) == ("spec.targets[0]", "location.outside-root")
    assert str(root.resolve()) in problem.message
    # As Backstage keeps a Location entity whose target it cannot read; what lies outside is never read.
    assert names() == ["all"]
    assert report.status == 1


def test_a_url_target_from_a_file_is_read_only_from_an_allowed_host(tmp_path):
    write(tmp_path, {"all.yaml": location("all", "https://demo.example/catalog/x.yaml")})
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    [problem] = report.problems
    assert (problem.field, problem.rule) == ("spec.targets[0]", "url.host-not-allowed")
    assert problem.message == (
        "spec.targets[0]: https://demo.example/catalog/x.yaml: host demo.example is not in "
        "CATALOG_IMPORT_ALLOWED_HOSTS (add it there to import from it)"
    )
    assert names() == ["all"]


def test_a_symbolic_link_out_of_the_root_is_refused(tmp_path):
    root = tmp_path / "root"
    write(tmp_path, {"outside.yaml": COMPONENT.format(name="secret"), "root/all.yaml": location("all", "./link.yaml")})
    os.symlink(tmp_path / "outside.yaml", root / "link.yaml")
    report = import_paths(actor=ACTOR, paths=[root / "all.yaml"])
    assert {p.rule for p in report.problems} == {"location.outside-root"}
    assert names() == ["all"]


def test_an_upload_has_nothing_next_to_it_to_follow(tmp_path):
    report = import_upload(actor=ACTOR, name="all.yaml", content=location("all", "./a.yaml").encode())
    [problem] = report.problems
    assert (problem.source, problem.rule) == ("upload:all.yaml", "location.outside-root")
    assert names() == ["all"]


def test_an_upload_of_plain_entities_is_one_upload_location():
    content = (COMPONENT.format(name="a") + "---\n" + COMPONENT.format(name="b")).encode()
    report = import_upload(actor=ACTOR, name="team.yaml", content=content)
    assert report.ok
    assert [(loc.type, loc.target, loc.created) for loc in report.locations] == [
        ("upload", "team.yaml", ["component:default/a", "component:default/b"])
    ]


# --- substitutions -----------------------------------------------------------------------------

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
    {placeholder}
"""


# Backstage wants an API's definition as text, so parsed content goes into a kind with a free spec.
WIDGET = """\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: {name}
spec:
  definition:
    {placeholder}
"""


def test_text_json_and_yaml_substitutions_are_read_relative_to_the_file(tmp_path):
    write(
        tmp_path,
        {
            "apis/text.yaml": API.format(name="text", placeholder="$text: ./defs/openapi.yaml"),
            "apis/json.yaml": WIDGET.format(name="json", placeholder="$json: ./defs/schema.json"),
            "apis/yaml.yaml": WIDGET.format(name="yaml", placeholder="$yaml: ./defs/openapi.yaml"),
            "apis/defs/openapi.yaml": "openapi: 3.0.0\ninfo:\n  title: T\n",
            "apis/defs/schema.json": '{"type": "object", "$ref": "#/x"}',
        },
    )
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    assert report.ok, report.as_text()
    definitions = {e.name: e.spec["definition"] for e in Entity.objects.all()}
    assert definitions == {
        "text": "openapi: 3.0.0\ninfo:\n  title: T\n",
        "json": {"type": "object", "$ref": "#/x"},
        "yaml": {"openapi": "3.0.0", "info": {"title": "T"}},
    }
    assert report.created == 3
    # The definition files were walked as part of the folder, but they are data, not descriptors.
    assert sorted(loc.target.rsplit("/", 1)[1] for loc in report.locations) == ["json.yaml", "text.yaml", "yaml.yaml"]


def test_other_dollar_keys_are_left_alone(tmp_path):
    write(tmp_path, {"a.yaml": WIDGET.format(name="a", placeholder="$ref: ./not-a-placeholder.yaml")})
    assert import_paths(actor=ACTOR, paths=[tmp_path]).ok
    assert Entity.objects.get().spec["definition"] == {"$ref": "./not-a-placeholder.yaml"}


@pytest.mark.parametrize("argument", ["../secret.txt", "/etc/hostname"])
def test_a_substitution_outside_the_root_is_refused(tmp_path, argument):
    root = tmp_path / "root"
    write(tmp_path, {"secret.txt": "s3cr3t", "root/api.yaml": API.format(name="a", placeholder=f"$text: {argument}")})
    report = import_paths(actor=ACTOR, paths=[root])
    [problem] = report.all_problems
    assert (problem.index, problem.field, problem.rule) == (0, "spec.definition", "substitution.outside-root")
    assert argument in problem.message
    assert Entity.objects.count() == 0


def test_a_remote_substitution_from_a_host_not_allowed_says_so(tmp_path):
    write(tmp_path, {"api.yaml": API.format(name="a", placeholder="$text: https://demo.example/openapi.yaml")})
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    [problem] = report.all_problems
    assert (problem.index, problem.field, problem.rule) == (0, "spec.definition", "url.host-not-allowed")
    assert problem.message == (
        "spec.definition: $text https://demo.example/openapi.yaml: host demo.example is not in "
        "CATALOG_IMPORT_ALLOWED_HOSTS (add it there to import from it)"
    )
    assert Entity.objects.count() == 0
    assert not Location.objects.exists()  # a file that wrote nothing leaves no Location row behind


@pytest.mark.parametrize("placeholder", ["$openapi", "$asyncapi"])
def test_a_placeholder_of_a_backstage_plugin_is_named_as_unsupported(tmp_path, placeholder):
    write(tmp_path, {"api.yaml": API.format(name="a", placeholder=f"{placeholder}: ./openapi.yaml")})
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    [problem] = report.all_problems
    assert (problem.field, problem.rule) == ("spec.definition", "substitution.unsupported")
    assert f"{placeholder} is a placeholder of a Backstage plugin that Meridian does not resolve" in problem.message
    assert "it resolves $text, $json, $yaml" in problem.message


def test_a_missing_substitution_file_and_bad_json_are_refused(tmp_path):
    write(
        tmp_path,
        {
            "missing.yaml": API.format(name="a", placeholder="$text: ./nope.txt"),
            "bad.yaml": API.format(name="b", placeholder="$json: ./bad.json"),
            "bad.json": "{not json",
        },
    )
    report = import_paths(actor=ACTOR, paths=[tmp_path / "missing.yaml", tmp_path / "bad.yaml"])
    assert sorted(p.rule for p in report.all_problems) == ["substitution.invalid", "substitution.not-found"]
    assert Entity.objects.count() == 0


def test_substitutions_count_towards_the_size_limit(tmp_path, settings):
    settings.CATALOG_IMPORT_MAX_BYTES = 2000
    placeholders = "\n".join(f"  d{i}:\n    $text: ./big.txt" for i in range(3))
    write(tmp_path, {"a.yaml": COMPONENT.format(name="a") + placeholders + "\n", "big.txt": "x" * 800})
    report = import_paths(actor=ACTOR, paths=[tmp_path / "a.yaml"])
    [problem] = report.all_problems
    # The descriptor and two copies fit in 2,000 bytes; the third does not.
    assert (problem.field, problem.rule) == ("spec.d2", "substitution.too-large")
    assert Entity.objects.count() == 0


def test_a_substitution_in_an_upload_is_refused():
    content = API.format(name="a", placeholder="$text: ./openapi.yaml").encode()
    report = import_upload(actor=ACTOR, name="api.yaml", content=content)
    assert [p.rule for p in report.all_problems] == ["substitution.outside-root"]
    assert Entity.objects.count() == 0
