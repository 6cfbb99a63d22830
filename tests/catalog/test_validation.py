"""Backstage's rules, one at a time, with the exact Problem each refusal gives; and Backstage's own examples."""

import copy

import pytest
import yaml

from catalog.validation import Problem, relation_refs, validate_document
from tests.compat import EXAMPLES, needs_backstage_examples


def component(**changes) -> dict:
    document = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": "orders-api", "description": "Takes orders"},
        "spec": {"type": "service", "lifecycle": "production", "owner": "team-orders", "system": "shop"},
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = document
        for part in parents:
            target = target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return document


_DELETE = object()


def problems(document) -> list[Problem]:
    return validate_document(document, source="catalog-info.yaml", index=2)


def only(document) -> Problem:
    found = problems(document)
    assert len(found) == 1, found
    return found[0]


def test_a_valid_component_has_no_problems():
    assert problems(component()) == []


def test_problem_names_source_index_field_rule_and_message():
    assert only(component(metadata__name="invalid component")) == Problem(
        source="catalog-info.yaml",
        index=2,
        field="metadata.name",
        rule="name.format",
        message='metadata.name "invalid component" must be 1-63 chars of [a-zA-Z0-9] separated by [-_.]',
    )


@pytest.mark.parametrize("name", ["a", "A1", "orders_api.v2", "a-b-c", "x" * 63, "a--b"])
def test_names_backstage_accepts(name):
    assert problems(component(metadata__name=name)) == []


@pytest.mark.parametrize("name", ["", "-orders", "orders-", "orders api", "x" * 64, "ördres", "a/b", 42])
def test_names_backstage_refuses(name):
    problem = only(component(metadata__name=name))
    assert (problem.field, problem.rule) == ("metadata.name", "name.format")


def test_a_name_that_is_only_too_long_says_its_length_and_the_limit():
    problem = only(component(metadata__name="x" * 70))
    assert problem.message == (
        f'metadata.name "{"x" * 70}" is 70 characters long, over the limit of 63 '
        "(1-63 chars of [a-zA-Z0-9] separated by [-_.])"
    )


def test_name_is_required():
    document = component()
    del document["metadata"]["name"]
    assert only(document) == Problem("catalog-info.yaml", 2, "metadata.name", "required", "metadata.name is required")


@pytest.mark.parametrize(("namespace", "valid"), [("payments", True), ("team-a2", True), ("Payments", False),
                                                  ("pay_ments", False), ("-a", False), ("a" * 64, False)])  # fmt: skip
def test_namespace_is_a_dns_label(namespace, valid):
    found = problems(component(metadata__namespace=namespace))
    if valid:
        assert found == []
    else:
        assert [(p.field, p.rule) for p in found] == [("metadata.namespace", "namespace.format")]
        assert "1-63 chars of [a-z0-9] separated by [-]" in found[0].message


@pytest.mark.parametrize(
    ("api_version", "valid"),
    [("backstage.io/v1alpha1", True), ("backstage.io/v1beta1", True), ("my-company.net/v1", True), ("v1", True),
     ("backstage.io/v1/alpha", False), ("Backstage.io/v1", False), ("backstage.io/v1-alpha", False), ("", False)],
)  # fmt: skip
def test_api_version_format(api_version, valid):
    document = {"apiVersion": api_version, "kind": "Widget", "metadata": {"name": "w"}}
    found = problems(document)
    assert found == [] if valid else [(p.field, p.rule) for p in found] == [("apiVersion", "apiVersion.format")]


@pytest.mark.parametrize(("kind", "valid"), [("Widget", True), ("MYKIND", True), ("x1", True), ("1x", False),
                                             ("My-Kind", False), ("K" * 64, False)])  # fmt: skip
def test_kind_format(kind, valid):
    found = problems({"apiVersion": "example.com/v1", "kind": kind, "metadata": {"name": "w"}})
    assert found == [] if valid else [(p.field, p.rule) for p in found] == [("kind", "kind.format")]


def test_envelope_fields_are_required_and_no_others_allowed():
    found = problems({"kind": "Component", "relations": [], "metadata": {"name": "a"}, "spec": {}})
    rules = {(p.field, p.rule) for p in found}
    assert ("apiVersion", "required") in rules
    assert ("relations", "root.unknown-field") in rules
    assert only({"apiVersion": "a/v1", "kind": "Widget"}) == Problem(
        "catalog-info.yaml", 2, "metadata", "required", "metadata is required (at least metadata.name)"
    )


@pytest.mark.parametrize("document", [None, [], "text"])
def test_a_document_that_is_not_an_object(document):
    assert only(document).rule == "document.type"


@pytest.mark.parametrize(
    ("key", "value", "field", "rule"),
    [
        ("goVersion", "go1.15.3", None, None),
        ("example.com/team", "orders", None, None),
        ("example.com/empty", "", None, None),
        ("bad key", "x", "metadata.labels.bad key", "label.key"),
        ("Example.com/x", "x", "metadata.labels.Example.com/x", "label.key"),
        ("a/b/c", "x", "metadata.labels.a/b/c", "label.key"),
        ("team", "two words", "metadata.labels.team", "label.value"),
        ("version", 1.2, "metadata.labels.version", "label.value"),
    ],
)
def test_labels(key, value, field, rule):
    found = problems(component(metadata__labels={key: value}))
    assert [(p.field, p.rule) for p in found] == ([] if rule is None else [(field, rule)])


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("backstage.io/techdocs-ref", "dir:.", None),
        ("github.com/project-slug", "", None),
        ("not a key", "x", "annotation.key"),
        ("backstage.io/", "x", "annotation.key"),
        ("example.com/replicas", 3, "annotation.value"),
    ],
)
def test_annotations(key, value, rule):
    found = problems(component(metadata__annotations={key: value}))
    assert [p.rule for p in found] == ([] if rule is None else [rule])
    if rule:
        assert found[0].field == f"metadata.annotations.{key}"


@pytest.mark.parametrize("tag", ["java", "c++", "c#", "k8s:prod", "go-1-15", "a" * 63])
def test_tags_backstage_accepts(tag):
    assert problems(component(metadata__tags=["go", tag])) == []


@pytest.mark.parametrize("tag", ["Java", "go 1.15.3", "go1.15.3", "-go", "go-", "a--b", "a" * 64, "", 7])
def test_tags_backstage_refuses(tag):
    problem = only(component(metadata__tags=["go", tag]))
    assert (problem.field, problem.rule) == ("metadata.tags[1]", "tag.format")


def test_tags_must_be_a_list():
    assert only(component(metadata__tags="go")).field == "metadata.tags"


@pytest.mark.parametrize(
    ("link", "field", "rule"),
    [
        ({"url": "https://grafana.example.com/d/orders", "title": "Dashboard", "icon": "dashboard"}, None, None),
        ({"url": "mailto:team@example.com"}, None, None),
        ({"title": "No url"}, "metadata.links[0].url", "required"),
        ({"url": "grafana.example.com"}, "metadata.links[0].url", "link.url"),
        ({"url": "https://"}, "metadata.links[0].url", "link.url"),
        ({"url": "https://x.example.com", "title": "  "}, "metadata.links[0].title", "link.title"),
        ({"url": "https://x.example.com", "icon": "bad icon"}, "metadata.links[0].icon", "link.icon"),
        ("https://x.example.com", "metadata.links[0]", "type"),
    ],
)
def test_links(link, field, rule):
    found = problems(component(metadata__links=[link]))
    assert [(p.field, p.rule) for p in found] == ([] if rule is None else [(field, rule)])


@pytest.mark.parametrize(
    ("kind", "spec", "missing"),
    [
        ("Component", {"lifecycle": "production", "owner": "a"}, "spec.type"),
        ("Component", {"type": "service", "owner": "a"}, "spec.lifecycle"),
        ("Component", {"type": "service", "lifecycle": "production"}, "spec.owner"),
        ("API", {"type": "openapi", "lifecycle": "production", "owner": "a"}, "spec.definition"),
        ("Resource", {"owner": "a"}, "spec.type"),
        ("System", {"domain": "shop"}, "spec.owner"),
        ("Domain", {}, "spec.owner"),
        ("Group", {"type": "team"}, "spec.children"),
        ("User", {"profile": {}}, "spec.memberOf"),
    ],
)
def test_required_spec_fields_of_the_builtin_kinds(kind, spec, missing):
    document = {"apiVersion": "backstage.io/v1beta1", "kind": kind, "metadata": {"name": "x"}, "spec": spec}
    problem = only(document)
    assert (problem.field, problem.rule) == (missing, "required")
    assert problem.message.startswith(f"{missing} is required for a")


def test_builtin_kinds_need_a_spec_object():
    assert only(component(spec=_DELETE)) == Problem(
        "catalog-info.yaml", 2, "spec", "required", "spec is required for a Component"
    )
    assert only(component(spec=["x"])).rule == "type"


def test_spec_field_types():
    found = problems(component(spec__owner=["a"], spec__providesApis="orders", spec__lifecycle=""))
    assert {(p.field, p.rule) for p in found} == {
        ("spec.owner", "type"),
        ("spec.providesApis", "type"),
        ("spec.lifecycle", "empty"),
    }


def test_builtin_kind_in_a_version_backstage_does_not_define():
    problem = only(component(apiVersion="backstage.io/v2"))
    assert (problem.field, problem.rule) == ("apiVersion", "apiVersion.unsupported")
    assert "backstage.io/v1alpha1 and backstage.io/v1beta1" in problem.message


def test_other_kinds_are_kept_with_envelope_and_metadata_rules_only():
    environment = {"apiVersion": "backstage.io/v1alpha1", "kind": "Environment", "metadata": {"name": "dev"},
                   "spec": {"lifecycle": 3, "anything": {"goes": True}}}  # fmt: skip
    assert problems(environment) == []
    template = {"apiVersion": "scaffolder.backstage.io/v1beta3", "kind": "Template", "metadata": {"name": "svc"}}
    assert problems(template) == []
    broken = copy.deepcopy(environment)
    broken["metadata"]["tags"] = ["Not A Tag"]
    assert only(broken).rule == "tag.format"


def test_mcp_server_apis_need_remotes_not_a_definition():
    document = {"apiVersion": "backstage.io/v1alpha1", "kind": "API", "metadata": {"name": "mcp"},
                "spec": {"type": "mcp-server", "lifecycle": "experimental", "owner": "team-a"}}  # fmt: skip
    assert only(document).field == "spec.remotes"
    document["spec"]["remotes"] = [{"type": "streamable-http", "url": "http://localhost:7007/api/mcp/v1"}]
    assert problems(document) == []


def test_references_in_relation_fields_must_parse():
    problem = only(component(spec__dependsOn=["resource:orders-db", "orders-cache"]))
    assert (problem.field, problem.rule) == ("spec.dependsOn[1]", "ref.format")
    assert "has no default kind, so write kind:name" in problem.message
    assert only(component(spec__owner="group:")).field == "spec.owner"
    assert only(component(spec__system="system:x/" + "y" * 250)).rule == "ref.too-long"


def test_relation_refs_use_the_field_default_kind_and_the_entity_namespace():
    spec = {"owner": "team-a", "system": "other/shop", "providesApis": ["orders", "api:orders"],
            "dependsOn": ["resource:db"]}  # fmt: skip
    found = [(t, ref.key) for t, ref in relation_refs("Component", "payments", spec)]
    assert found == [
        ("ownedBy", "group:payments/team-a"),
        ("partOf", "system:other/shop"),
        ("providesApi", "api:payments/orders"),
        ("dependsOn", "resource:payments/db"),
    ]


def test_yaml_dates_are_plain_text_as_in_backstage():
    document = component(metadata__annotations={"example.com/since": "x"})
    document["spec"]["since"] = __import__("datetime").date(2020, 1, 2)
    assert problems(document) == []


def _substituted(value):
    # $text/$json/$yaml are resolved by the importer before validation; here any text stands in.
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in ("$text", "$json", "$yaml"):
            return "substituted text"
        return {k: _substituted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_substituted(v) for v in value]
    return value


# Files Backstage itself refuses today: an old layout of the examples folder, from before spec.lifecycle and
# spec.owner were required and before the backstage.io/definition-at-location annotation was dropped (the
# $text substitution replaced it), plus the file that is invalid on purpose.
REFUSED = {
    "components/invalid-component.yaml": {("metadata.name", "name.format"), ("metadata.tags[1]", "tag.format")},
    "hello-world-api.yaml": {("spec.lifecycle", "required"), ("spec.owner", "required")},
    "streetlights-api.yaml": {("spec.lifecycle", "required"), ("spec.owner", "required")},
    "swapi-graphql.yaml": {("spec.lifecycle", "required"), ("spec.owner", "required")},
    "spotify-api.yaml": {("spec.definition", "required")},
}
# Not catalog files: OpenAPI documents that API entities pull in with $text.
NOT_DESCRIPTORS = {"apis/petstore.oas.yaml", "apis/petstore-webhook.oas.yaml"}
EXAMPLE_FILES = sorted(  # empty where the folder is missing; test_the_examples_folder_is_all_here then says so
    str(p.relative_to(EXAMPLES))
    for p in EXAMPLES.rglob("*.yaml")
    if str(p.relative_to(EXAMPLES)) not in NOT_DESCRIPTORS
)


@needs_backstage_examples
@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_backstage_examples_validate_as_backstage_takes_them(name):
    found = set()
    with open(EXAMPLES / name, encoding="utf-8") as handle:
        for index, document in enumerate(yaml.safe_load_all(handle)):
            for problem in validate_document(_substituted(document), source=name, index=index):
                assert (problem.source, problem.index) == (name, index)
                found.add((problem.field, problem.rule))
    assert found == REFUSED.get(name, set())


@needs_backstage_examples
def test_the_examples_folder_is_all_here():
    assert len(EXAMPLE_FILES) == 88
