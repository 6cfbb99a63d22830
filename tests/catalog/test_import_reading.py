"""Reading descriptors: YAML as Backstage reads it, and every kind of bad input refused whole, with where and why."""

import tracemalloc

import pytest
import yaml

from catalog.importing import import_paths, import_upload
from catalog.importing.reading import (
    ReadRefused,
    _read_by_loader,
    _read_common,
    _syntax_problem,
    _Unusual,
    parse_documents,
)
from catalog.models import Entity
from tests.catalog.descriptors import ACTOR, COMPONENT
from tests.compat import needs_backstage_examples

pytestmark = pytest.mark.django_db


def write(folder, files: dict[str, str]):
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def refused(text: str) -> "ReadRefused":
    with pytest.raises(ReadRefused) as caught:
        parse_documents(text, source="x.yaml")
    return caught.value.problem


# --- the YAML reader ---------------------------------------------------------------------------


def test_scalars_are_read_as_yaml_1_2_like_backstage_does():
    [(index, value)] = parse_documents(
        "a: yes\nb: on\nc: 2024-01-01\nd: 0o17\ne: 012\nf: 1.5\ng: ~\nh: true\ni: 0x1F\n", source="x.yaml"
    )
    assert index == 0
    # YAML 1.1 (PyYAML's default) would turn a, b into booleans, c into a date and e into octal 10.
    assert value == {
        "a": "yes",
        "b": "on",
        "c": "2024-01-01",
        "d": 15,
        "e": 12,
        "f": 1.5,
        "g": None,
        "h": True,
        "i": 31,
    }


def test_documents_keep_their_index_and_empty_ones_are_skipped():
    documents = parse_documents("---\na: 1\n---\n---\nb: 2\n", source="x.yaml")
    assert documents == [(0, {"a": 1}), (2, {"b": 2})]


def test_malformed_yaml_names_the_file_line_and_column():
    problem = refused("a: 1\n---\nb: [1, 2\nc: 3\n")
    assert problem.rule == "yaml.syntax"
    assert problem.source == "x.yaml"
    assert problem.index == 1
    # Where the bracket opens, not where the parser gave up on it (line 4, column 2).
    assert problem.message.startswith("line 3, column 4: a flow sequence ('[') starts here and is not closed")


def test_an_unclosed_quote_is_reported_where_it_starts_not_past_the_end_of_the_file():
    text = COMPONENT.format(name='"orders')  # 8 lines; the parser only notices at the end, "line 9, column 1"
    problem = refused(text)
    assert problem.message == (
        "line 4, column 9: a quoted string starts here and is not closed (the text ends before it is closed)"
    )
    assert (problem.index, problem.rule) == (0, "yaml.syntax")


def test_an_unclosed_flow_mapping_in_a_later_document_names_its_line_and_document():
    text = COMPONENT.format(name="a") + "---\n" + COMPONENT.format(name="b").replace("  name: b", "  labels: {x: y")
    problem = refused(text)
    assert problem.index == 1
    assert problem.message.startswith("line 13, column 11: a flow mapping ('{') starts here and is not closed")
    assert str(problem).startswith("x.yaml (document 2): line 13")


def test_documents_are_counted_from_1_in_what_people_read(tmp_path):
    write(tmp_path, {"c.yaml": COMPONENT.format(name="good") + "---\n" + COMPONENT.format(name="Bad Name")})
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    [problem] = report.all_problems
    assert problem.index == 1  # the API's JSON index stays 0-based, as documented
    text = report.as_text()
    assert "refused component:default/Bad Name (document 2):" in text
    assert text.count("metadata.name") == 1  # the field once: the message names it


def test_duplicate_keys_are_refused_as_backstage_refuses_them():
    problem = refused("metadata:\n  name: a\n  name: b\n")
    assert problem.rule == "yaml.duplicate-key"
    assert "'name'" in problem.message and "line 3" in problem.message


def test_a_billion_laughs_is_refused_quickly_without_expanding_it():
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        bomb += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
    tracemalloc.start()
    try:
        problem = refused(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Expanded, it would be 9^9 (387 million) strings; refused after building 100,000 nodes at most.
    assert peak < 20 * 1024 * 1024
    assert problem.rule == "yaml.expansion"
    assert "YAML bomb" in problem.message


def test_an_alias_inside_its_own_anchor_is_refused():
    assert refused("a: &a [1, *a]\n").rule == "yaml.recursive-alias"


def test_deep_nesting_is_refused():
    assert refused("[" * 500 + "]" * 500).rule == "yaml.depth"


@pytest.mark.parametrize(
    "text",
    ["a: .inf\n", "a: !!binary aGVsbG8=\n"],
    ids=["infinity", "binary"],
)
def test_values_json_cannot_hold_are_refused(text):
    problem = refused(text)
    assert problem.rule == "yaml.value"
    assert "JSON" in problem.message


# --- the one-pass reader gives what PyYAML's loader gives, or leaves the text to it ----------------


def read_both(text: str):
    """(one-pass result or "unusual", loader result); each a value, or the problem it refused with."""

    def outcome(read):
        try:
            return read(text, source="x.yaml")
        except ReadRefused as refusal:
            return refusal.problem
        except yaml.YAMLError as error:  # the one-pass reader leaves the message to parse_documents
            return _syntax_problem(error, text, source="x.yaml")

    try:
        common = outcome(_read_common)
    except _Unusual:
        common = "unusual"
    return common, outcome(_read_by_loader)


COMMON_YAML = {
    "scalars": "a: yes\nb: 2024-01-01\nc: 0o17\nd: -0x1F\ne: 1.5e3\nf: ~\ng: TRUE\nh: ''\ni: '12'\nj: .5\nk: -0.0\n",
    "keys that are not strings": "1: a\nfalse: b\nnull: c\n1.5: d\n",
    "block and flow": "a: |\n  line 1\n  line 2\nb: >-\n  folded\n  text\nc: {x: [1, {y: z}], w: []}\n",
    "anchors and aliases": "base: &b {kind: API, tags: [a, b]}\none: *b\ntwo: *b\nlist: [&s x, *s]\n",
    "documents": "---\na: 1\n---\n---\n# only a comment\n---\nplain text\n---\n[1, 2]\n",
    "deep": "a: " + "[" * 99 + "]" * 99 + "\n",
}
UNUSUAL_YAML = {
    "explicit tag": "a: !!str 5\n",
    "custom tag": "a: !Ref x\n",
    "merge key": "base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n",
    "duplicate key": "a: 1\na: 2\n",
    "keys that meet once read": "1: a\n'1': b\n01: c\n",
    "keys equal in Python": "1: a\ntrue: b\n",
    "mapping as key": "? {a: 1}\n: b\n",
    "alias as key": "a: &k x\n*k : y\n",
    "infinity": "a: .inf\n",
    "timestamp": "a: !!timestamp 2024-01-01\n",
    "undefined alias": "a: *nothing\n",
    "huge integer": "a: " + "9" * 5000 + "\n",
}
BROKEN_YAML = {
    "syntax": "a: [1, 2\nb: 3\n",
    "bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcde", "bcdef", strict=True)),
    "recursive alias": "a: &a [1, *a]\n",
    "too deep": "[" * 101 + "]" * 101,
}


@pytest.mark.parametrize("text", COMMON_YAML.values(), ids=COMMON_YAML.keys())
def test_the_one_pass_reader_gives_what_the_loader_gives(text):
    common, loader = read_both(text)
    assert common == loader
    assert not isinstance(common, ReadRefused) and common  # read, not refused


@pytest.mark.parametrize("text", UNUSUAL_YAML.values(), ids=UNUSUAL_YAML.keys())
def test_yaml_beyond_the_one_pass_reader_is_left_to_the_loader(text):
    common, loader = read_both(text)
    assert common == "unusual"
    assert parse_documents_or_problem(text) == loader


@pytest.mark.parametrize("text", BROKEN_YAML.values(), ids=BROKEN_YAML.keys())
def test_both_readers_refuse_broken_yaml_with_the_same_problem(text):
    common, loader = read_both(text)
    assert common == loader
    assert loader.rule in ("yaml.syntax", "yaml.expansion", "yaml.recursive-alias", "yaml.depth")


def parse_documents_or_problem(text: str):
    try:
        return parse_documents(text, source="x.yaml")
    except ReadRefused as refusal:
        return refusal.problem


@needs_backstage_examples
def test_every_backstage_example_reads_in_one_pass_as_the_loader_reads_it(backstage_examples):
    files = sorted(backstage_examples.rglob("*.yaml"))
    assert files
    for path in files:
        common, loader = read_both(path.read_text())
        assert common == loader, path


# --- whole imports: a bad source is refused whole, and nothing of it is written ----------------


def test_malformed_yaml_file_is_refused_whole_and_keeps_what_was_imported(tmp_path):
    write(tmp_path, {"catalog.yaml": COMPONENT.format(name="a") + "---\n" + COMPONENT.format(name="b")})
    assert import_paths(actor=ACTOR, paths=[tmp_path]).ok

    (tmp_path / "catalog.yaml").write_text(COMPONENT.format(name="a") + "---\nmetadata: [unclosed\n")
    report = import_paths(actor=ACTOR, paths=[tmp_path])

    [problem] = report.problems
    assert problem.source == str((tmp_path / "catalog.yaml").resolve())
    assert problem.rule == "yaml.syntax"
    assert "line" in problem.message and "column" in problem.message
    assert report.refused[0].target == problem.source
    # Neither rewritten nor orphaned: the file is refused, not read as empty.
    assert sorted(Entity.objects.filter(orphaned=False).values_list("name", flat=True)) == ["a", "b"]


def test_a_yaml_bomb_file_is_refused_and_nothing_is_written(tmp_path):
    bomb = COMPONENT.format(name="bomb") + "  x: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for level in range(1, 8):
        bomb += f"  x{level}: &a{level} [" + ", ".join([f"*a{level - 1 if level > 1 else ''}"] * 10) + "]\n"
    write(tmp_path, {"bomb.yaml": bomb})
    report = import_paths(actor=ACTOR, paths=[tmp_path / "bomb.yaml"])
    assert [p.rule for p in report.problems] == ["yaml.expansion"]
    assert Entity.objects.count() == 0


def test_a_50_mb_file_is_refused_without_reading_it(tmp_path, settings):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as handle:
        handle.write(COMPONENT.format(name="big").encode())
        handle.truncate(50 * 1024 * 1024)
    tracemalloc.start()
    try:
        report = import_paths(actor=ACTOR, paths=[tmp_path])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [problem] = report.problems
    assert problem.rule == "source.too-large"
    assert "10,485,760 bytes" in problem.message and "52,428,800 bytes" in problem.message
    assert peak < 5 * 1024 * 1024  # the file was never read into memory
    assert Entity.objects.count() == 0


def test_an_upload_over_the_limit_is_refused(settings):
    settings.CATALOG_IMPORT_MAX_BYTES = 100
    report = import_upload(actor=ACTOR, name="big.yaml", content=COMPONENT.format(name="x").encode() * 2)
    assert [(p.source, p.rule) for p in report.problems] == [("upload:big.yaml", "source.too-large")]
    assert Entity.objects.count() == 0


def test_a_document_that_is_not_a_mapping_is_refused_and_the_others_applied(tmp_path):
    write(tmp_path, {"mixed.yaml": COMPONENT.format(name="ok") + "---\n- just\n- a list\n"})
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    [problem] = report.all_problems
    assert (problem.index, problem.rule) == (1, "document.not-mapping")
    assert "not a list" in problem.message
    assert list(Entity.objects.values_list("name", flat=True)) == ["ok"]
    [refused] = report.locations[0].refused_entities
    assert (refused.index, refused.ref) == (1, None)  # a list names no entity


def test_text_that_is_not_utf8_is_refused(tmp_path):
    (tmp_path / "latin1.yaml").write_bytes(COMPONENT.format(name="caf\xe9").encode("latin-1"))
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    assert [p.rule for p in report.problems] == ["source.encoding"]
    assert Entity.objects.count() == 0


# --- validation, as entities_apply reports it through the import -------------------------------


def test_an_unknown_kind_is_kept(tmp_path):
    write(
        tmp_path,
        {"widget.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: gizmo\nspec:\n  size: 3\n"},
    )
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    assert report.ok
    entity = Entity.objects.get()
    assert (entity.kind, entity.name, entity.spec) == ("Widget", "gizmo", {"size": 3})


def test_missing_required_fields_are_refused_naming_each_field(tmp_path):
    write(
        tmp_path,
        {
            "c.yaml": COMPONENT.format(name="c").replace("  lifecycle: production\n  owner: team-a\n", ""),
        },
    )
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    problems = report.locations[0].problems
    assert {(p.field, p.rule) for p in problems} == {("spec.lifecycle", "required"), ("spec.owner", "required")}
    assert all(p.index == 0 and p.source.endswith("c.yaml") for p in problems)
    assert not report.ok
    assert Entity.objects.count() == 0


def test_a_name_with_a_space_is_refused_naming_metadata_name(tmp_path):
    write(tmp_path, {"c.yaml": COMPONENT.format(name="my service")})
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    [problem] = report.locations[0].problems
    assert (problem.field, problem.rule) == ("metadata.name", "name.format")
    assert '"my service"' in problem.message
    assert Entity.objects.count() == 0


def test_duplicate_entities_in_one_batch_keep_the_first(tmp_path):
    first = COMPONENT.format(name="twice").replace("spec:", "  description: first\nspec:")
    second = COMPONENT.format(name="Twice").replace("spec:", "  description: second\nspec:")
    write(tmp_path, {"c.yaml": first + "---\n" + second})
    report = import_paths(actor=ACTOR, paths=[tmp_path])
    [problem] = report.locations[0].problems
    assert (problem.index, problem.rule) == (1, "duplicate")
    assert Entity.objects.get().description == "first"


# --- what aliases may cost in bytes (CATALOG_IMPORT_MAX_BYTES) ------------------------------------


def few_nodes_many_bytes(aliases: int = 5_000, scalar_bytes: int = 100_000) -> str:
    """A 100 kB scalar aliased 5,000 times: few nodes (under the node limit), 500 MB once expanded."""
    head = f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\n  x: &big {'y' * scalar_bytes}\n"
    return head + "spec:\n  l:\n" + "  - *big\n" * aliases


def test_aliases_of_a_large_scalar_are_refused_by_the_bytes_they_expand_to():
    text = few_nodes_many_bytes()
    assert len(text) < 200_000
    tracemalloc.start()
    try:
        problem = refused(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problem.rule == "yaml.expansion"
    assert "10,485,760 bytes" in problem.message and "CATALOG_IMPORT_MAX_BYTES" in problem.message
    # Refused while reading the events: nowhere near the 500 MB the expansion would take.
    assert peak < 30 * 1024 * 1024


def test_both_readers_count_the_bytes_of_aliases(settings):
    settings.CATALOG_IMPORT_MAX_BYTES = 50_000
    text = few_nodes_many_bytes(aliases=10, scalar_bytes=10_000)
    common, loader = read_both(text)
    assert common == loader
    assert loader.rule == "yaml.expansion"


def test_aliases_within_the_byte_limit_are_read(settings):
    text = few_nodes_many_bytes(aliases=10, scalar_bytes=1_000)
    [(_, document)] = parse_documents(text, source="x.yaml")
    assert document["spec"]["l"] == ["y" * 1_000] * 10
