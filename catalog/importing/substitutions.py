"""`$text`, `$json` and `$yaml` placeholders, as Backstage's PlaceholderProcessor resolves them.

A mapping with exactly one key, `$text`, `$json` or `$yaml`, whose value is a string,
is replaced by the named file's text or parsed content, read relative to the
descriptor and never from outside the import root. Any other `$key` (JSON
Schema's `$ref`, for one) is left alone, as Backstage leaves it. The content
that replaces a placeholder is not searched for further placeholders.

A descriptor together with what it pulls in must fit within the import size
limit, so a small file cannot expand into gigabytes by naming a large one many
times.
"""

import json
import urllib.parse
from collections.abc import Callable

from django.conf import settings

from catalog.importing.fetching import UrlRefused, host_allowed, host_refusal
from catalog.importing.locations import URL, OutsideRoot, Ref, Root, resolve
from catalog.importing.reading import ReadRefused, decode, parse_single
from catalog.validation import Problem

RESOLVERS = ("text", "json", "yaml")
# Placeholders that Backstage plugins add (catalog-backend-module-openapi): Meridian does not resolve them, and
# says so, rather than leave them for the definition's type check to refuse with a puzzling message.
UNSUPPORTED = ("openapi", "asyncapi")


class SubstitutionRefused(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


class Substituter:
    """Resolves the placeholders of the documents of one source."""

    def __init__(self, *, root: Root, base: Ref, read: Callable[[Ref], bytes], already_read: int = 0):
        self.root = root
        self.base = base
        self.read = read
        self.budget = settings.CATALOG_IMPORT_MAX_BYTES - already_read
        self.used: set[Ref] = set()

    def apply(self, document, *, index: int):
        # Nearly every document has no placeholder: looking costs less than rebuilding it with each field's path.
        if not _has_placeholder(document):
            return document
        return self._walk(document, index=index, path="")

    def _walk(self, value, *, index: int, path: str):
        if isinstance(value, dict):
            if _is_placeholder(value):
                ((key, argument),) = value.items()
                if key[1:] in UNSUPPORTED:
                    self._refuse(
                        index,
                        path,
                        "substitution.unsupported",
                        f"{path or 'the document'}: {key} is a placeholder of a Backstage plugin that Meridian does "
                        f"not resolve; it resolves {', '.join('$' + name for name in RESOLVERS)} "
                        f"(write $text: {argument} to keep the file as it is)",
                    )
                return self._resolve(key[1:], argument, index=index, path=path)
            return {k: self._walk(v, index=index, path=f"{path}.{k}" if path else k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(v, index=index, path=f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    def _refuse(self, index: int, path: str, rule: str, message: str):
        raise SubstitutionRefused(Problem(source=self.base.source, index=index, field=path, rule=rule, message=message))

    def _resolve(self, resolver: str, argument: str, *, index: int, path: str):
        where = f"{path or 'the document'}: ${resolver}"
        try:
            ref = resolve(self.root, self.base, argument)
        except OutsideRoot as error:
            self._refuse(index, path, "substitution.outside-root", f"{where} {error}")
        if ref.type == URL and self.base.type != URL:
            host = urllib.parse.urlsplit(ref.target).hostname or ""
            if not host_allowed(host):
                self._refuse(index, path, "url.host-not-allowed", f"{where} {argument}: {host_refusal(host)}")
        try:
            data = self.read(ref)
        except ReadRefused as error:
            rule = error.problem.rule.replace("source.", "substitution.")
            self._refuse(index, path, rule, f"{where} {argument}: {error.problem.message}")
        except UrlRefused as error:
            self._refuse(index, path, error.rule, f"{where} {argument}: {error.message.removeprefix(argument + ': ')}")
        self.budget -= len(data)
        if self.budget < 0:
            self._refuse(
                index,
                path,
                "substitution.too-large",
                f"{where} {argument}: the descriptor and the files it substitutes exceed the import limit of "
                f"{settings.CATALOG_IMPORT_MAX_BYTES:,} bytes (CATALOG_IMPORT_MAX_BYTES)",
            )
        self.used.add(ref)
        try:
            text = decode(data, source=ref.source)
            if resolver == "text":
                return text
            if resolver == "json":
                try:
                    return json.loads(text, parse_constant=_no_constant)
                except ValueError as error:
                    self._refuse(index, path, "substitution.invalid", f"{where} {argument} is not valid JSON: {error}")
            return parse_single(text, source=ref.source)
        except ReadRefused as error:
            self._refuse(index, path, "substitution.invalid", f"{where} {argument}: {error.problem.message}")


def _is_placeholder(value: dict) -> bool:
    if len(value) != 1:
        return False
    ((key, argument),) = value.items()
    return key.startswith("$") and key[1:] in (*RESOLVERS, *UNSUPPORTED) and isinstance(argument, str)


def _has_placeholder(value) -> bool:
    if isinstance(value, dict):
        return _is_placeholder(value) or any(_has_placeholder(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_placeholder(item) for item in value)
    return False


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")
