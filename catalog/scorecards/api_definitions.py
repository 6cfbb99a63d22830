"""Does an API entity's `spec.definition` parse as what its `spec.type` says it is?

Checked without fetching anything: OpenAPI/Swagger and AsyncAPI must be a YAML or JSON
mapping with their version field and `info.title`/`info.version` (and, for OpenAPI, something
it describes: paths, components or webhooks); GraphQL must parse as a schema document
(graphql-core); gRPC/protobuf must declare a `service` or `message` with balanced braces.
Other types (trpc, wsdl, raml, a company's own) only need a non-empty definition, since the
catalog cannot judge them.
"""

import re

import yaml
from graphql import GraphQLError
from graphql import parse as graphql_parse

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# graphql-core stops after this many tokens, so a huge definition cannot keep a worker busy.
GRAPHQL_MAX_TOKENS = 200_000
_PROTO_DECLARATION = re.compile(r"^\s*(service|message)\s+\w+\s*\{", re.MULTILINE)


def definition_problem(api_type: str, definition) -> str:
    """Why the definition is not valid, or "" when it is."""
    if not isinstance(definition, str) or not definition.strip():
        return "spec.definition is missing or empty"
    api_type = (api_type or "").lower()
    if api_type in ("openapi", "swagger"):
        return _openapi_problem(definition)
    if api_type == "asyncapi":
        return _asyncapi_problem(definition)
    if api_type == "graphql":
        return _graphql_problem(definition)
    if api_type in ("grpc", "protobuf"):
        return _proto_problem(definition)
    return ""


def _mapping(definition: str) -> tuple[dict | None, str]:
    try:
        document = yaml.load(definition, Loader=_Loader)  # noqa: S506  (a safe loader, C or Python)
    except yaml.YAMLError as exc:
        return None, f"not valid YAML/JSON: {str(exc).splitlines()[0]}"
    if not isinstance(document, dict):
        return None, "not a YAML/JSON mapping"
    return document, ""


def _info_problem(document: dict) -> str:
    info = document.get("info")
    if not isinstance(info, dict) or not info.get("title") or not info.get("version"):
        return "info.title and info.version are required"
    return ""


def _openapi_problem(definition: str) -> str:
    document, problem = _mapping(definition)
    if problem:
        return problem
    version = str(document.get("openapi") or document.get("swagger") or "")
    if not re.match(r"^(2\.0|3\.\d+(\.\d+)?)$", version):
        return "no openapi (3.x) or swagger (2.0) version field"
    if problem := _info_problem(document):
        return problem
    if not any(isinstance(document.get(k), dict) for k in ("paths", "components", "webhooks")):
        return "describes nothing: no paths, components or webhooks"
    return ""


def _asyncapi_problem(definition: str) -> str:
    document, problem = _mapping(definition)
    if problem:
        return problem
    if not re.match(r"^[23]\.\d+\.\d+$", str(document.get("asyncapi") or "")):
        return "no asyncapi version field (2.x.y or 3.x.y)"
    return _info_problem(document)


def _graphql_problem(definition: str) -> str:
    try:
        graphql_parse(definition, no_location=True, max_tokens=GRAPHQL_MAX_TOKENS)
    except GraphQLError as exc:
        return f"not a valid GraphQL document: {exc.message}"
    return ""


def _proto_problem(definition: str) -> str:
    if not _PROTO_DECLARATION.search(definition):
        return "declares no protobuf service or message"
    if definition.count("{") != definition.count("}"):
        return "unbalanced braces"
    return ""
