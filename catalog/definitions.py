"""How an API entity's `spec.definition` is shown: OpenAPI in Swagger UI, everything else as highlighted source.

Swagger UI runs in the browser from drf-spectacular-sidecar's static files and
takes the definition as a parsed object, so nothing is fetched from elsewhere.
Source is highlighted here, server-side, by Pygments (no JavaScript needed).
"""

import json
from dataclasses import dataclass

import yaml
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

# spec.type -> Pygments lexer for definitions shown as source.
LEXER_FOR_TYPE = {
    "asyncapi": "yaml",
    "graphql": "graphql",
    "grpc": "protobuf",
    "protobuf": "protobuf",
    "trpc": "typescript",
    "wsdl": "xml",
    "soap": "xml",
    "raml": "yaml",
}
SWAGGER_TYPES = {"openapi", "swagger"}
# Highlighting a definition is linear in its size, but a multi-megabyte one would still make a slow page.
MAX_HIGHLIGHT_CHARS = 500_000
# YAML aliases let a small text stand for a huge tree (a "billion laughs"); past this many nodes, once
# the aliases are expanded, the definition is shown as source instead of being handed to Swagger UI.
MAX_SPEC_NODES = 200_000

_FORMATTER = HtmlFormatter(cssclass="highlight", linenos=False)


@dataclass(frozen=True)
class RenderedDefinition:
    api_type: str
    viewer: str  # "swagger", "source" or "none"
    spec: dict | None = None  # for Swagger UI
    html: str = ""  # highlighted source (safe: produced by Pygments, which escapes the text)
    notice: str = ""  # why a definition is shown differently from what its type suggests


def _as_text(definition) -> str:
    if isinstance(definition, str):
        return definition
    # A definition written as a YAML mapping rather than a string: show it as YAML.
    return yaml.safe_dump(definition, sort_keys=False, allow_unicode=True)


def _source(api_type: str, text: str, lexer_name: str, notice: str = "") -> RenderedDefinition:
    if len(text) > MAX_HIGHLIGHT_CHARS:
        lexer_name = "text"
        notice = notice or f"The definition is {len(text):,} characters long; it is shown without highlighting."
    try:
        lexer = get_lexer_by_name(lexer_name)
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    return RenderedDefinition(
        api_type=api_type, viewer="source", html=highlight(text, lexer, _FORMATTER), notice=notice
    )


def _within_budget(value, budget: int) -> bool:
    """Whether `value`, with shared (aliased) parts counted each time they appear, has at most `budget` nodes."""
    stack = [value]
    seen = 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > budget:
            return False
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _guess_lexer(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return "json"
    if stripped.startswith("<"):
        return "xml"
    return "yaml"


def render_definition(spec: dict) -> RenderedDefinition:
    """Turn an API entity's spec into what the APIs tab shows."""
    api_type = str(spec.get("type") or "").strip()
    definition = spec.get("definition")
    if definition in (None, ""):
        return RenderedDefinition(api_type=api_type, viewer="none")
    text = _as_text(definition)
    if api_type.lower() in SWAGGER_TYPES:
        parsed = definition if isinstance(definition, dict) else None
        if parsed is None and len(text) <= MAX_HIGHLIGHT_CHARS:
            try:
                parsed = yaml.safe_load(text)  # YAML is a superset of JSON: both forms load here
            except yaml.YAMLError as error:
                return _source(api_type, text, "yaml", f"The OpenAPI definition is not valid YAML or JSON: {error}")
        if isinstance(parsed, dict) and not _within_budget(parsed, MAX_SPEC_NODES):
            return _source(api_type, text, "yaml", "The OpenAPI definition expands to too large a document to display.")
        if isinstance(parsed, dict):
            # Round-trip through JSON so dates and other YAML-only values become what Swagger UI understands.
            return RenderedDefinition(
                api_type=api_type, viewer="swagger", spec=json.loads(json.dumps(parsed, default=str))
            )
        return _source(api_type, text, _guess_lexer(text), "The OpenAPI definition is not an object.")
    lexer_name = LEXER_FOR_TYPE.get(api_type.lower()) or _guess_lexer(text)
    return _source(api_type, text, lexer_name)


def pygments_css() -> str:
    """The stylesheet for highlighted source; written to static/catalog/pygments.css (a test keeps it in step)."""
    return _FORMATTER.get_style_defs(".highlight")
