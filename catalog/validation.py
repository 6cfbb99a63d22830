"""Backstage's rules for an entity document, each refusal a Problem that names where and which rule.

The rules are Backstage's own (packages/catalog-model: KubernetesValidatorFunctions,
CommonValidatorFunctions, makeValidator's tag rule, FieldFormatEntityPolicy,
NoForeignRootFieldsEntityPolicy and the kind JSON schemas):

- the envelope: `apiVersion`, `kind` and `metadata` are required, no other root field than `spec`;
- `apiVersion` is `[dns-subdomain/]segment`, `kind` is a letter then letters and digits (at most 63);
- `metadata.name`: 1-63 characters, [a-zA-Z0-9] separated by [-_.]; `metadata.namespace`: a DNS label;
- label and annotation keys: `[dns-subdomain/]name`; label values: empty or a name; annotation values strings;
- tags: [a-z0-9:+#] separated by single dashes, at most 63; links need a URL;
- the built-in kinds (Component, API, Resource, System, Domain, Group, User, Location) exist in
  backstage.io/v1alpha1 and v1beta1 and have their required spec fields; any other kind (Template,
  Environment, a company's own) is kept, with only the envelope and metadata rules;
- entity references in the spec fields that make relations (catalog.relations) must parse.
"""

import datetime
import json
import re
import urllib.parse
from dataclasses import dataclass

from django.conf import settings

from catalog.refs import DEFAULT_NAMESPACE, EntityRef, RefError, parse_ref
from catalog.relations import fields_for_kind


@dataclass(frozen=True)
class Problem:
    """One refusal, naming where and which rule."""

    source: str  # file path / URL / "upload:<name>" / "api"
    index: int | None  # document index within the source (0-based), None for the whole source
    field: str  # e.g. "metadata.name", "spec.owner", "" for the whole document
    rule: str  # short machine code, e.g. "name.format", "required", "yaml.syntax"
    message: str  # what a person reads

    @property
    def document(self) -> str:
        """The document as people count it, from 1 ("document 1" is the first); `index` stays 0-based for programs."""
        return "" if self.index is None else f"document {self.index + 1}"

    def __str__(self) -> str:
        where = self.source if self.index is None else f"{self.source} ({self.document})"
        return f"{where}: {self.message} [{self.rule}]"


BUILTIN_API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
ROOT_FIELDS = ("apiVersion", "kind", "metadata", "spec")
# Set by the catalog, never taken from a document (Backstage refuses them from users at creation).
CATALOG_METADATA_FIELDS = ("uid", "etag", "generation")
MAX_REF_KEY = 200  # Relation.target_key and Entity.owner_key/system_key

_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_LABEL = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_KIND = re.compile(r"^[a-zA-Z][a-z0-9A-Z]*$")
_API_VERSION_SUFFIX = re.compile(r"^[a-z0-9A-Z]+$")
_TAG = re.compile(r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$")
_URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*$")
_HOSTED_SCHEMES = ("http", "https", "ws", "wss", "ftp")

NAME_RULE = "1-63 chars of [a-zA-Z0-9] separated by [-_.]"
DNS_LABEL_RULE = "1-63 chars of [a-z0-9] separated by [-]"
TAG_RULE = "1-63 chars of [a-z0-9:+#] separated by [-]"
PREFIXED_RULE = "an optional DNS-subdomain prefix and '/', then " + NAME_RULE


# --- Backstage's validator functions -------------------------------------------------------------


def is_valid_name(value) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and bool(_NAME.match(value))


def is_valid_dns_label(value) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and bool(_DNS_LABEL.match(value))


def is_valid_dns_subdomain(value) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 253 and all(map(is_valid_dns_label, value.split(".")))


def _prefix_and_or_suffix(value, is_prefix, is_suffix) -> bool:
    if not isinstance(value, str):
        return False
    parts = value.split("/")
    if len(parts) == 1:
        return is_suffix(parts[0])
    return len(parts) == 2 and is_prefix(parts[0]) and is_suffix(parts[1])


def is_valid_api_version(value) -> bool:
    return _prefix_and_or_suffix(
        value, is_valid_dns_subdomain, lambda s: 1 <= len(s) <= 63 and bool(_API_VERSION_SUFFIX.match(s))
    )


def is_valid_kind(value) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and bool(_KIND.match(value))


def is_valid_key(value) -> bool:
    """A label or annotation key: `[prefix/]name`, the prefix a DNS subdomain."""
    return _prefix_and_or_suffix(value, is_valid_dns_subdomain, is_valid_name)


def is_valid_label_value(value) -> bool:
    return value == "" or is_valid_name(value)


def is_valid_tag(value) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and bool(_TAG.match(value))


def is_valid_url(value) -> bool:
    """What a WHATWG URL parser (Backstage's `new URL(value)`) accepts, closely enough: a scheme, and a host
    for the schemes that need one."""
    if not isinstance(value, str) or not value or value != value.strip():
        return False
    scheme, sep, _rest = value.partition(":")
    if not sep or not _URL_SCHEME.match(scheme):
        return False
    if scheme.lower() in _HOSTED_SCHEMES:
        try:
            parts = urllib.parse.urlsplit(value)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            return False
        return bool(host) and " " not in host
    return True


def is_valid_string(value) -> bool:
    return isinstance(value, str) and len(value.strip()) >= 1


# --- JSON safety ----------------------------------------------------------------------------------


def _yaml_scalar(value):
    # PyYAML reads unquoted dates as date objects; Backstage's YAML 1.2 reader keeps them as the text.
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    raise TypeError(f"a {type(value).__name__} value cannot be stored as JSON")


def to_json_safe(document):
    """The document as plain JSON values (dates as ISO text, keys as strings); ValueError if impossible."""
    try:
        return json.loads(json.dumps(document, default=_yaml_scalar, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(str(exc)) from exc


# --- the kinds -----------------------------------------------------------------------------------

STRING, STRING_LIST, OBJECT = "string", "list of strings", "object"


@dataclass(frozen=True)
class SpecField:
    name: str
    type: str
    required: bool = False


def _f(name, type_=STRING, required=False) -> SpecField:
    return SpecField(name, type_, required)


# From the kind schemas in packages/catalog-model/src/schema/kinds/*.v1alpha1.schema.json.
KIND_SPECS: dict[str, tuple[SpecField, ...]] = {
    "component": (
        _f("type", required=True),
        _f("lifecycle", required=True),
        _f("owner", required=True),
        _f("system"),
        _f("subcomponentOf"),
        _f("providesApis", STRING_LIST),
        _f("consumesApis", STRING_LIST),
        _f("dependsOn", STRING_LIST),
        _f("dependencyOf", STRING_LIST),
    ),
    "api": (
        _f("type", required=True),
        _f("lifecycle", required=True),
        _f("owner", required=True),
        _f("definition", required=True),
        _f("system"),
    ),
    "resource": (
        _f("type", required=True),
        _f("owner", required=True),
        _f("dependsOn", STRING_LIST),
        _f("dependencyOf", STRING_LIST),
        _f("partOf", STRING_LIST),
        _f("hasPart", STRING_LIST),
        _f("system"),
    ),
    "system": (_f("owner", required=True), _f("domain")),
    "domain": (_f("owner", required=True), _f("subdomainOf")),
    "group": (
        _f("type", required=True),
        _f("children", STRING_LIST, required=True),
        _f("profile", OBJECT),
        _f("parent"),
        _f("members", STRING_LIST),
    ),
    "user": (_f("memberOf", STRING_LIST, required=True), _f("profile", OBJECT), _f("leaderOf", STRING_LIST)),
    "location": (_f("type"), _f("target"), _f("targets", STRING_LIST), _f("presence")),
}
BUILTIN_KINDS = {"component": "Component", "api": "API", "resource": "Resource", "system": "System",
                 "domain": "Domain", "group": "Group", "user": "User", "location": "Location"}  # fmt: skip

# API spec types whose interface is described by `remotes` rather than `definition` (Backstage's
# mcp-server and ai-model-server model layers). The first ai-model-server layer described the server
# with serverType + serverUrl instead; both forms are accepted.
_API_REMOTE_TYPES = ("mcp-server", "ai-model-server")


_LIMITED_TO_63 = ("metadata.name", "metadata.namespace", "kind")


class _Checker:
    def __init__(self, source: str, index: int | None):
        self.source, self.index = source, index
        self.problems: list[Problem] = []

    def add(self, field: str, rule: str, message: str) -> None:
        self.problems.append(Problem(self.source, self.index, field, rule, message))

    def require(self, field: str, value, valid, rule: str, expectation: str) -> None:
        if value is None:
            self.add(field, "required", f"{field} is required")
        elif not valid(value):
            message = f"{field} {_show(value)} must be {expectation}"
            # A name of the right characters that is only too long says by how much: that is what to fix.
            if field in _LIMITED_TO_63 and isinstance(value, str) and len(value) > 63 and valid(value[:63]):
                message = (
                    f"{field} {_show(value)} is {len(value)} characters long, over the limit of 63 ({expectation})"
                )
            self.add(field, rule, message)


def _show(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 80 else text[:77] + "..."


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "AEIOU" else f"a {kind}"


def _type_name(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false"}.get(type(value), "a number")


def validate_document(document: dict, *, source: str, index: int | None) -> list[Problem]:
    """Every rule the document breaks; an empty list means Backstage would take it."""
    return checked_document(document, source=source, index=index)[0]


def checked_document(document: dict, *, source: str, index: int | None) -> tuple[list[Problem], dict | None]:
    """validate_document's problems, and the document as plain JSON values: a copy of its own (None if there is
    none), which the caller may change, so that an import copies each document once rather than twice."""
    check = _Checker(source, index)
    if not isinstance(document, dict):
        what = "empty" if document is None else _type_name(document)
        check.add("", "document.type", f"the document must be an object (apiVersion, kind, metadata, spec), not {what}")
        return check.problems, None
    try:
        document = to_json_safe(document)
    except ValueError as exc:
        check.add("", "value.type", f"the document holds a value that is not plain JSON data: {exc}")
        return check.problems, None

    for field in document:
        if field not in ROOT_FIELDS:
            check.add(field, "root.unknown-field",
                      f"unknown root field {field!r}; an entity has only {', '.join(ROOT_FIELDS)}")  # fmt: skip

    api_version, kind = document.get("apiVersion"), document.get("kind")
    check.require("apiVersion", api_version, is_valid_api_version, "apiVersion.format",
                  "a version such as backstage.io/v1alpha1 ([dns-subdomain/]letters-and-digits)")  # fmt: skip
    check.require("kind", kind, is_valid_kind, "kind.format",
                  "a letter followed by letters and digits, at most 63 chars")  # fmt: skip

    metadata = document.get("metadata")
    namespace = DEFAULT_NAMESPACE
    if metadata is None:
        check.add("metadata", "required", "metadata is required (at least metadata.name)")
    elif not isinstance(metadata, dict):
        check.add("metadata", "type", f"metadata must be an object, not {_type_name(metadata)}")
    else:
        _check_metadata(check, metadata)
        if is_valid_dns_label(metadata.get("namespace")):
            namespace = metadata["namespace"]

    spec = document.get("spec")
    if spec is not None and not isinstance(spec, dict):
        check.add("spec", "type", f"spec must be an object, not {_type_name(spec)}")
        spec = None
    if isinstance(kind, str) and is_valid_kind(kind):
        kind_key = kind.lower()
        if kind_key in KIND_SPECS:
            _check_builtin_kind(check, kind_key, api_version, document.get("spec"), spec)
        _check_references(check, kind_key, namespace, spec or {})
    _check_stored_size(check, document, namespace)
    return check.problems, document


def _check_stored_size(check: _Checker, document: dict, namespace: str) -> None:
    """An entity is stored, exported and written into its audit events whole: one bound on what each costs.

    The bound is on the document as stored (JSON), so aliases that a small YAML file expands cannot get past it.
    """
    limit = settings.CATALOG_MAX_ENTITY_BYTES
    size = len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode())
    if size > limit:
        metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
        ref = f"{str(document.get('kind', '?')).lower()}:{namespace}/{metadata.get('name', '?')}"
        check.add(
            "",
            "document.too-large",
            f"{ref} is {size:,} bytes as stored, over the limit of {limit:,} bytes for one entity "
            "(CATALOG_MAX_ENTITY_BYTES)",
        )


def _check_metadata(check: _Checker, metadata: dict) -> None:
    check.require("metadata.name", metadata.get("name"), is_valid_name, "name.format", NAME_RULE)
    if "namespace" in metadata:
        check.require("metadata.namespace", metadata["namespace"], is_valid_dns_label, "namespace.format",
                      DNS_LABEL_RULE)  # fmt: skip
    for field in ("title", "description"):
        if field in metadata and not isinstance(metadata[field], str):
            check.add(f"metadata.{field}", "type",
                      f"metadata.{field} must be a string, not {_type_name(metadata[field])}")  # fmt: skip

    for field, value_rule, value_valid, value_expectation in (
        ("labels", "label.value", is_valid_label_value, f"empty or {NAME_RULE}"),
        ("annotations", "annotation.value", lambda v: isinstance(v, str), "a string (quote it in YAML)"),
    ):
        pairs = metadata.get(field)
        if pairs is None:
            continue
        if not isinstance(pairs, dict):
            check.add(f"metadata.{field}", "type", f"metadata.{field} must be an object of key: value")
            continue
        key_rule = "label.key" if field == "labels" else "annotation.key"
        for key, value in pairs.items():
            path = f"metadata.{field}.{key}"
            if not is_valid_key(key):
                check.add(path, key_rule, f'{field[:-1]} key "{key}" must be {PREFIXED_RULE}')
            if not value_valid(value):
                check.add(path, value_rule, f"{path} value {_show(value)} must be {value_expectation}")

    tags = metadata.get("tags")
    if tags is not None:
        if not isinstance(tags, list):
            check.add("metadata.tags", "type", f"metadata.tags must be a list, not {_type_name(tags)}")
        else:
            for i, tag in enumerate(tags):
                check.require(f"metadata.tags[{i}]", tag, is_valid_tag, "tag.format", TAG_RULE)

    links = metadata.get("links")
    if links is not None:
        if not isinstance(links, list):
            check.add("metadata.links", "type", f"metadata.links must be a list, not {_type_name(links)}")
        else:
            for i, link in enumerate(links):
                _check_link(check, i, link)


def _check_link(check: _Checker, i: int, link) -> None:
    path = f"metadata.links[{i}]"
    if not isinstance(link, dict):
        check.add(path, "type", f"{path} must be an object with a url, not {_type_name(link)}")
        return
    check.require(f"{path}.url", link.get("url"), is_valid_url, "link.url", "a URL with a scheme, e.g. https://...")
    if "title" in link:
        check.require(f"{path}.title", link["title"], is_valid_string, "link.title", "a non-empty string")
    if "icon" in link:
        check.require(f"{path}.icon", link["icon"], is_valid_name, "link.icon", NAME_RULE)


def _check_builtin_kind(check: _Checker, kind_key: str, api_version, raw_spec, spec: dict | None) -> None:
    kind = BUILTIN_KINDS[kind_key]
    if isinstance(api_version, str) and api_version not in BUILTIN_API_VERSIONS:
        check.add("apiVersion", "apiVersion.unsupported",
                  f"kind {kind} exists in {' and '.join(BUILTIN_API_VERSIONS)}, not in {api_version}")  # fmt: skip
    if raw_spec is None:
        check.add("spec", "required", f"spec is required for {_a(kind)}")
        return
    if spec is None:
        return  # already reported as not an object
    fields = KIND_SPECS[kind_key]
    if kind_key == "api" and spec.get("type") in _API_REMOTE_TYPES:
        fields = tuple(f for f in fields if f.name != "definition")
        _check_api_remotes(check, spec)
    for field in fields:
        path = f"spec.{field.name}"
        value = spec.get(field.name)
        if value is None:
            if field.required:
                check.add(path, "required", f"{path} is required for {_a(kind)}")
            continue
        if field.type == STRING:
            if not isinstance(value, str):
                check.add(path, "type", f"{path} must be a string, not {_type_name(value)}")
            elif not value:
                check.add(path, "empty", f"{path} must not be empty")
        elif field.type == OBJECT:
            if not isinstance(value, dict):
                check.add(path, "type", f"{path} must be an object, not {_type_name(value)}")
        elif not isinstance(value, list):
            check.add(path, "type", f"{path} must be a list of strings, not {_type_name(value)}")
        else:
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    check.add(f"{path}[{i}]", "type", f"{path}[{i}] must be a string, not {_type_name(item)}")
                elif not item:
                    check.add(f"{path}[{i}]", "empty", f"{path}[{i}] must not be empty")


def _check_api_remotes(check: _Checker, spec: dict) -> None:
    if spec.get("type") == "ai-model-server" and "remotes" not in spec:
        for field in ("serverType", "serverUrl"):
            if not is_valid_string(spec.get(field)):
                check.add(f"spec.{field}", "required",
                          f"spec.{field} (or spec.remotes) is required for an ai-model-server API")  # fmt: skip
        return
    remotes = spec.get("remotes")
    if remotes is None:
        check.add("spec.remotes", "required", f"spec.remotes is required for a {spec['type']} API")
    elif not isinstance(remotes, list) or not remotes:
        check.add("spec.remotes", "type", "spec.remotes must be a non-empty list of {type, url}")
    else:
        for i, remote in enumerate(remotes):
            if not isinstance(remote, dict) or not all(is_valid_string(remote.get(k)) for k in ("type", "url")):
                check.add(f"spec.remotes[{i}]", "required", f"spec.remotes[{i}] needs a type and a url")


def _check_references(check: _Checker, kind_key: str, namespace: str, spec: dict) -> None:
    for path, _type, found in _iter_references(kind_key, namespace, spec):
        if isinstance(found, tuple):
            rule, message = found
            check.add(path, rule, message)


def _iter_references(kind_key: str, namespace: str, spec: dict):
    """(field path, relation type, EntityRef or (rule, message)) for every reference a relation field holds."""
    for field in fields_for_kind(kind_key):
        value = spec.get(field.field)
        if value is None:
            continue
        path = f"spec.{field.field}"
        items = [(path, value)] if not isinstance(value, list) else [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        for item_path, item in items:
            if not isinstance(item, str):
                yield item_path, field.type, ("type", f"{item_path} must be an entity reference (a string)")
                continue
            try:
                ref = parse_ref(item, default_kind=field.default_kind, default_namespace=namespace)
            except RefError as exc:
                hint = "" if field.default_kind else f"; {path} has no default kind, so write kind:name"
                yield item_path, field.type, ("ref.format", f"{item_path} {_show(item)}: {exc}{hint}")
                continue
            if len(ref.key) > MAX_REF_KEY:
                yield item_path, field.type, ("ref.too-long", f"{item_path} is longer than {MAX_REF_KEY} chars")
                continue
            yield item_path, field.type, ref


def relation_refs(kind: str, namespace: str, spec: dict) -> list[tuple[str, EntityRef]]:
    """(relation type, target) for each reference in a valid document's relation fields, duplicates removed."""
    seen, out = set(), []
    for _path, rel_type, ref in _iter_references(kind.lower(), namespace, spec if isinstance(spec, dict) else {}):
        if isinstance(ref, EntityRef) and (rel_type, ref.key) not in seen:
            seen.add((rel_type, ref.key))
            out.append((rel_type, ref))
    return out
