"""Reading YAML descriptors safely: size limits, alias expansion limits, YAML 1.2 scalars, JSON-safe values.

Backstage parses descriptors as YAML 1.2 (the `yaml` npm package), so `yes`, `on` and
`2024-01-01` stay strings and duplicate keys are an error; PyYAML's defaults are YAML 1.1,
hence the loader below. Documents are stored as JSON, so anything JSON cannot hold is refused
rather than silently changed.

Aliases are counted before anything is constructed: a "billion laughs" file is a few hundred
bytes whose expansion is astronomically large, and it is refused after a single pass over its
parse events, without building a single object. Both the nodes and the bytes an alias stands for
are counted: 5,000 aliases of one 100 kB scalar are few nodes but half a gigabyte once stored, so a
source may expand to no more than CATALOG_IMPORT_MAX_BYTES, the limit its own text has.
"""

import datetime
import math
import os
import re
import stat

import yaml
from django.conf import settings
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from catalog.validation import Problem

# Nodes a document may expand to once aliases are followed. Real descriptors have a few hundred;
# a 40 kB GraphQL schema in a block scalar is one node.
MAX_DOCUMENT_NODES = 100_000
MAX_DEPTH = 100
# Bytes a node costs beyond its text once stored as JSON (quotes, a separator, a key's colon).
_NODE_OVERHEAD = 4

MERGE_TAG = "tag:yaml.org,2002:merge"


class ReadRefused(Exception):
    """Reading a source stopped; `problem` says where and why."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def max_bytes() -> int:
    return settings.CATALOG_IMPORT_MAX_BYTES


def _problem(source: str, index: int | None, rule: str, message: str, field: str = "") -> Problem:
    return Problem(source=source, index=index, field=field, rule=rule, message=message)


def too_large(source: str, size: int | None = None) -> Problem:
    limit = max_bytes()
    size_text = f" ({size:,} bytes)" if size is not None else ""
    return _problem(
        source,
        None,
        "source.too-large",
        f"larger than the import limit of {limit:,} bytes{size_text} (CATALOG_IMPORT_MAX_BYTES)",
    )


def read_file(path: str, *, source: str) -> bytes:
    """The bytes of a regular file, refused before reading when it is over the size limit."""
    limit = max_bytes()
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ReadRefused(_problem(source, None, "source.not-a-file", "not a regular file"))
            if info.st_size > limit:
                raise ReadRefused(too_large(source, info.st_size))
            # A file may grow between fstat and read; never hold more than the limit.
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise ReadRefused(_problem(source, None, "source.not-found", "does not exist")) from None
    except IsADirectoryError:
        raise ReadRefused(_problem(source, None, "source.not-a-file", "a folder, not a file")) from None
    except PermissionError:
        raise ReadRefused(_problem(source, None, "source.unreadable", "cannot be read (permission denied)")) from None
    if len(data) > limit:
        raise ReadRefused(too_large(source))
    return data


def decode(data: bytes, *, source: str) -> str:
    if len(data) > max_bytes():
        raise ReadRefused(too_large(source, len(data)))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReadRefused(_problem(source, None, "source.encoding", f"not UTF-8 text (byte {error.start})")) from None


# --- the loader: YAML 1.2 core schema scalars, duplicate keys refused -------------------------


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):
    yaml_implicit_resolvers = {}

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key_node.value!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _int(loader, node):
    return _int_of(loader.construct_scalar(node))


def _int_of(text: str) -> int:
    text = text.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    return sign * int(digits, 10)


_Loader.add_constructor("tag:yaml.org,2002:int", _int)
# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution), as Backstage reads it.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Loader.add_implicit_resolver(MERGE_TAG, re.compile(r"^(?:<<)$"), ["<"])


def reads_back_as_string(text: str) -> bool:
    """Whether `text`, written as a plain (unquoted) scalar, is read back by this loader as the same string."""
    return _Loader.resolve(_Loader, yaml.ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"


# --- structure check: expansion, recursion and depth, on parse events only ---------------------


class _StructureCheck:
    """Refuse documents whose aliases expand too far, refer to themselves, or nest too deeply; fed parse events."""

    def __init__(self, source: str):
        self.source = source
        self.index = -1
        self.expanded = 0
        # Bytes over the whole source, not per document: what reaching the database would cost.
        self.expanded_bytes = 0
        self.max_bytes = max_bytes()
        self.anchors: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, bytes) it stands for
        self.open_collections: list[tuple[str | None, int, int]] = []
        self.open_anchors: set[str] = set()

    def see(self, event) -> None:
        if isinstance(event, DocumentStartEvent):
            self.index += 1
            self.expanded = 0
            self.anchors.clear()
            return
        if isinstance(event, ScalarEvent):
            self.expanded += 1
            # A scalar costs its text and a little for the quotes and separator it gets as JSON.
            size = len(event.value) + _NODE_OVERHEAD
            self.expanded_bytes += size
            if event.anchor:
                self.anchors[event.anchor] = (1, size)
        elif isinstance(event, CollectionStartEvent):
            self.open_collections.append((event.anchor, self.expanded, self.expanded_bytes))
            self.expanded += 1
            self.expanded_bytes += _NODE_OVERHEAD
            if event.anchor:
                self.open_anchors.add(event.anchor)
            if len(self.open_collections) > MAX_DEPTH:
                self._refuse(
                    "yaml.depth", f"nested more than {MAX_DEPTH} levels deep (line {event.start_mark.line + 1})"
                )
        elif isinstance(event, CollectionEndEvent):
            anchor, start, start_bytes = self.open_collections.pop()
            if anchor:
                self.anchors[anchor] = (self.expanded - start, self.expanded_bytes - start_bytes)
                self.open_anchors.discard(anchor)
        elif isinstance(event, AliasEvent):
            if event.anchor in self.open_anchors:
                self._refuse(
                    "yaml.recursive-alias",
                    f"line {event.start_mark.line + 1}: alias *{event.anchor} refers to the node that contains it",
                )
            nodes, size = self.anchors.get(event.anchor, (1, _NODE_OVERHEAD))
            self.expanded += nodes
            self.expanded_bytes += size
        else:
            return
        if self.expanded > MAX_DOCUMENT_NODES:
            self._refuse(
                "yaml.expansion",
                f"expands to more than {MAX_DOCUMENT_NODES:,} nodes once its aliases are followed (a YAML bomb?); "
                f"refused near line {event.start_mark.line + 1}",
            )
        if self.expanded_bytes > self.max_bytes:
            self._refuse(
                "yaml.expansion",
                f"expands to more than the import limit of {self.max_bytes:,} bytes once its aliases are followed "
                f"(CATALOG_IMPORT_MAX_BYTES); refused near line {event.start_mark.line + 1}",
            )

    def _refuse(self, rule: str, message: str):
        raise ReadRefused(_problem(self.source, self.index, rule, message))


def _check_structure(text: str, *, source: str) -> None:
    check = _StructureCheck(source)
    for event in yaml.parse(text, Loader=_Loader):
        check.see(event)


# --- the common case in one pass ----------------------------------------------------------------


class _Unusual(Exception):
    """The text uses YAML the one-pass reader leaves to PyYAML's loader (tags, merge keys, complex keys...)."""


_STR, _NULL, _BOOL, _INT, _FLOAT = (f"tag:yaml.org,2002:{name}" for name in ("str", "null", "bool", "int", "float"))


def _scalar(event):
    if event.tag is not None:
        raise _Unusual
    tag = _Loader.resolve(_Loader, yaml.ScalarNode, event.value, event.implicit)
    if tag == _STR:
        return event.value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return event.value.lower() == "true"
    if tag == _INT:
        return _int_of(event.value)
    if tag == _FLOAT and math.isfinite(value := float(event.value)):  # float() refuses .inf and .nan: the loader's way
        return value
    raise _Unusual  # merge keys, and infinities and NaN (refused, with their path, by the loader's way)


def _copy(value):
    """An aliased value, copied so that no two places of a document share one object (as after _json_safe)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _read_common(text: str, *, source: str) -> list[tuple[int, object]]:
    """parse_documents' result in one pass over the parse events, for descriptors as people write them.

    PyYAML's loader makes three passes (parse, compose, construct) and _json_safe a fourth; this builds the
    JSON values straight from the events, checking the structure as it goes. Anything beyond plain mappings,
    sequences, scalars, anchors and aliases (an explicit tag, a merge key, a mapping as a key, a duplicate key
    or anchor, an undefined alias, a value JSON cannot hold) raises _Unusual, and the loader reads the text
    instead, with its own values and messages. tests/catalog/test_import_reading.py compares both readers.
    """
    try:
        return _read_events(yaml.parse(text, Loader=_Loader), _StructureCheck(source))
    except (ValueError, TypeError, OverflowError):
        raise _Unusual from None  # e.g. an integer too long to convert: the loader says so its way


class _Mapping:
    """A mapping being read: its dict, the key waiting for its value, and its keys that are not strings as read."""

    __slots__ = ("key", "others", "value")

    def __init__(self):
        self.value, self.key, self.others = {}, _NO_KEY, set()


def _read_events(events, check: _StructureCheck) -> list[tuple[int, object]]:
    documents: list[tuple[int, object]] = []
    stack: list[list | _Mapping] = []  # the open collections
    opened: list[str | None] = []  # the anchor of each
    anchors: dict[str, object] = {}
    index = -1

    def add(value, anchor: str | None) -> None:
        if anchor is not None:
            if anchor in anchors:
                raise _Unusual  # PyYAML refuses a duplicate anchor
            anchors[anchor] = value
        if not stack:
            if value is not None:
                documents.append((index, value))
            return
        top = stack[-1]
        if type(top) is list:
            top.append(value)
        elif top.key is _NO_KEY:
            raise _Unusual  # a collection as a mapping key
        else:
            top.value[top.key] = value
            top.key = _NO_KEY

    for event in events:
        check.see(event)
        kind = type(event)
        if kind is ScalarEvent:
            value = _scalar(event)
            top = stack[-1] if stack else None
            if type(top) is _Mapping and top.key is _NO_KEY:
                key = _key(value)
                # A duplicate key (the loader names it), two keys that read the same (1 and "1", or 1 and true,
                # equal in Python: the loader keeps one of them in its own way), or an anchored key.
                if key in top.value or event.anchor or (type(value) is not str and value in top.others):
                    raise _Unusual
                if type(value) is not str:
                    top.others.add(value)
                top.key = key
                continue
            add(value, event.anchor)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.tag is not None:
                raise _Unusual
            stack.append([] if kind is SequenceStartEvent else _Mapping())
            opened.append(event.anchor)
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            done = stack.pop()
            add(done if type(done) is list else done.value, opened.pop())
        elif kind is AliasEvent:
            if event.anchor not in anchors:
                raise _Unusual
            top = stack[-1] if stack else None
            if type(top) is _Mapping and top.key is _NO_KEY:
                raise _Unusual  # an alias as a key
            add(_copy(anchors[event.anchor]), None)
        elif kind is DocumentStartEvent:
            index += 1
            anchors.clear()
    return documents


_NO_KEY = object()


# --- JSON-safe values ----------------------------------------------------------------------------


def _key(value) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(f"a mapping key of type {type(value).__name__}")


def _json_safe(value, path: str):
    if isinstance(value, dict):
        try:
            return {_key(k): _json_safe(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        except TypeError as error:
            raise ValueError(f"{path or 'the document'} has {error}, which JSON cannot hold") from None
    if isinstance(value, list):
        return [_json_safe(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path or 'the document'} is {value}, which JSON cannot hold")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime.date):  # an explicit !!timestamp
        return value.isoformat()
    raise ValueError(f"{path or 'the document'} is a {type(value).__name__}, which JSON cannot hold")


# Constructs that, left open, make the parser fail only where the file (or the next block) ends: the error's
# context mark is where they start, which is the line a person must fix.
_UNCLOSED = {
    "quoted scalar": "a quoted string",
    "flow sequence": "a flow sequence ('[')",
    "flow mapping": "a flow mapping ('{')",
}


def _unclosed(error: yaml.YAMLError) -> tuple[yaml.Mark, str] | None:
    context, start, end = (getattr(error, name, None) for name in ("context", "context_mark", "problem_mark"))
    if not context or start is None or end is None or (start.line, start.column) >= (end.line, end.column):
        return None
    what = next((name for key, name in _UNCLOSED.items() if key in context), None)
    if what is None:
        return None
    problem = getattr(error, "problem", None) or ""
    if "end of stream" in problem:
        found = "the text ends before it is closed"
    else:
        found = f"{problem} at line {end.line + 1}, column {end.column + 1}"
    return start, f"{what} starts here and is not closed ({found})"


def _syntax_problem(error: yaml.YAMLError, text: str, *, source: str) -> Problem:
    if unclosed := _unclosed(error):
        mark, detail = unclosed
        return _problem(
            source,
            _document_index_at(text, mark.line),
            "yaml.syntax",
            f"line {mark.line + 1}, column {mark.column + 1}: {detail}",
        )
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is not None:
        line, column = mark.line + 1, mark.column + 1
        # The document index is the number of document separators before the error.
        index = _document_index_at(text, mark.line)
        what = getattr(error, "problem", None) or str(error)
        context = getattr(error, "context", None)
        detail = f"{context}: {what}" if context and mark is error.problem_mark else what
        rule = "yaml.duplicate-key" if "duplicate key" in str(what) else "yaml.syntax"
        return _problem(source, index, rule, f"line {line}, column {column}: {detail}")
    position = getattr(error, "position", None)
    if position is not None:
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        return _problem(
            source,
            _document_index_at(text, line - 1),
            "yaml.syntax",
            f"line {line}, column {column}: {getattr(error, 'reason', error)}",
        )
    return _problem(source, None, "yaml.syntax", str(error))


_DOCUMENT_START = re.compile(r"^---(?:\s|$)", re.MULTILINE)


def _document_index_at(text: str, line: int) -> int:
    before = text.split("\n", line)[:line]
    starts = sum(1 for row in before if _DOCUMENT_START.match(row))
    # A leading "---" opens the first document rather than separating two.
    first_content = next((row for row in before if row.strip() and not row.lstrip().startswith("#")), "")
    if first_content and _DOCUMENT_START.match(first_content):
        starts -= 1
    return max(starts, 0)


def parse_documents(text: str, *, source: str) -> list[tuple[int, object]]:
    """Every document of a multi-document YAML text as (index, value); empty documents are skipped.

    Raises ReadRefused with the first problem: the whole source is refused, as Backstage refuses a
    file it cannot parse.
    """
    try:
        return _read_common(text, source=source)
    except _Unusual:
        return _read_by_loader(text, source=source)
    except yaml.YAMLError as error:
        raise ReadRefused(_syntax_problem(error, text, source=source)) from None


def _read_by_loader(text: str, *, source: str) -> list[tuple[int, object]]:
    """parse_documents with PyYAML's loader: any YAML, at a third of the speed of _read_common."""
    try:
        _check_structure(text, source=source)
        values = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as error:
        raise ReadRefused(_syntax_problem(error, text, source=source)) from None
    except (ValueError, TypeError, OverflowError) as error:
        raise ReadRefused(_problem(source, None, "yaml.value", str(error))) from None
    documents = []
    for index, value in enumerate(values):
        if value is None:
            continue
        try:
            documents.append((index, _json_safe(value, "")))
        except ValueError as error:
            raise ReadRefused(_problem(source, index, "yaml.value", str(error))) from None
    return documents


def parse_single(text: str, *, source: str) -> object:
    """One YAML document (for `$yaml`), with the same limits as a descriptor."""
    try:
        _check_structure(text, source=source)
        value = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except ReadRefused:
        raise
    except yaml.YAMLError as error:
        raise ReadRefused(_syntax_problem(error, text, source=source)) from None
    except (ValueError, TypeError, OverflowError) as error:
        raise ReadRefused(_problem(source, None, "yaml.value", str(error))) from None
    try:
        return _json_safe(value, "")
    except ValueError as error:
        raise ReadRefused(_problem(source, None, "yaml.value", str(error))) from None
