"""Where an import may read from, and Location entities' targets resolved as Backstage resolves them.

An import has a root: the folder given on the command line (a file's own folder
when a file is given), the folder of an imported URL, or nothing at all for an
upload. A Location target or a substitution is resolved relative to the file
that names it, and refused when it lands outside the root: a descriptor must not
be a way to read `/etc/passwd`, another team's folder, or another host.

Targets follow Backstage's LocationEntityProcessor: `spec.target` and
`spec.targets`, `spec.type` defaulting to the type of the location that holds
the entity, globs for files, and `spec.presence: optional` for targets that may
be missing.
"""

import glob
import os
import posixpath
import urllib.parse
from dataclasses import dataclass

FILE = "file"
URL = "url"
UPLOAD = "upload"

GLOB_CHARS = ("*", "?", "[")


class OutsideRoot(Exception):
    pass


class TargetError(Exception):
    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class Ref:
    """One source of documents: a file, a URL or an upload; each is one catalog Location."""

    type: str
    target: str  # real absolute path, URL, or upload name

    @property
    def source(self) -> str:
        return f"upload:{self.target}" if self.type == UPLOAD else self.target


@dataclass(frozen=True)
class Root:
    type: str
    base: str  # real folder path, URL prefix ending in "/", or "" for an upload

    @classmethod
    def for_path(cls, path: str) -> "Root":
        real = os.path.realpath(path)
        return cls(FILE, real if os.path.isdir(real) else os.path.dirname(real))

    @classmethod
    def for_url(cls, url: str) -> "Root":
        parts = urllib.parse.urlsplit(url)
        folder = parts.path.rsplit("/", 1)[0] + "/"
        return cls(URL, urllib.parse.urlunsplit((parts.scheme.lower(), parts.netloc.lower(), folder, "", "")))

    def describe(self) -> str:
        if self.type == UPLOAD:
            return "an upload (which has no files next to it)"
        return self.base

    def contains_path(self, path: str) -> bool:
        return self.type == FILE and (path == self.base or path.startswith(self.base.rstrip(os.sep) + os.sep))

    def contains_url(self, url: str) -> bool:
        if self.type != URL:
            return False
        root = urllib.parse.urlsplit(self.base)
        parts = urllib.parse.urlsplit(url)
        if (parts.scheme.lower(), parts.netloc.lower()) != (root.scheme, root.netloc):
            return False
        # Servers decode %2e%2e; compare the decoded, normalised path.
        path = posixpath.normpath(urllib.parse.unquote(parts.path or "/"))
        return (path + "/").startswith(root.path) or path == root.path.rstrip("/")


def is_remote(value: str) -> bool:
    """An absolute http(s) URL: read through the fetcher, on CATALOG_IMPORT_ALLOWED_HOSTS only."""
    parts = urllib.parse.urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def resolve(root: Root, base: Ref, value: str) -> Ref:
    """The source that `value` names, relative to `base`; OutsideRoot when it leaves the root.

    As Backstage resolves a target or placeholder against the location that names it, whatever its type: a
    relative one is a file next to a file, a URL next to a URL. An absolute http(s) URL named by a file or an
    upload is a URL of its own, which the fetcher reads only from CATALOG_IMPORT_ALLOWED_HOSTS (the caller
    says so before anything is fetched); a URL import's own targets stay inside its folder.
    """
    if base.type in (FILE, UPLOAD) and is_remote(value):
        return Ref(URL, value)
    if base.type == FILE:
        if "://" in value:
            raise OutsideRoot(f"{value} is not a file in {root.describe()}, nor an http(s) URL")
        joined = os.path.normpath(os.path.join(os.path.dirname(base.target), value))
        # Lexically first, so nothing outside the root is even looked at; then after symbolic links.
        if not root.contains_path(joined):
            raise OutsideRoot(f"{value} resolves to {joined}, outside the import root {root.describe()}")
        real = os.path.realpath(joined)
        if not root.contains_path(real):
            raise OutsideRoot(f"{value} leads (through a symbolic link) to {real}, outside {root.describe()}")
        return Ref(FILE, real)
    if base.type == URL:
        joined = urllib.parse.urljoin(base.target, value)
        if not root.contains_url(joined):
            raise OutsideRoot(f"{value} resolves to {joined}, outside the import root {root.describe()}")
        return Ref(URL, joined)
    raise OutsideRoot(f"{value} cannot be read from {root.describe()}")


def resolve_glob(root: Root, base: Ref, pattern: str) -> list[Ref]:
    """Every file matching a glob relative to `base`, all inside the root."""
    joined = os.path.normpath(os.path.join(os.path.dirname(base.target), pattern))
    if not root.contains_path(joined):
        raise OutsideRoot(f"{pattern} resolves to {joined}, outside the import root {root.describe()}")
    refs = []
    for match in sorted(glob.glob(joined, recursive=True)):
        if os.path.isdir(match):
            continue
        real = os.path.realpath(match)
        if not root.contains_path(real):
            raise OutsideRoot(f"{pattern} matches {match}, which leads to {real}, outside {root.describe()}")
        refs.append(Ref(FILE, real))
    return refs


@dataclass(frozen=True)
class Target:
    field: str  # "spec.target" or "spec.targets[2]"
    type: str
    value: str
    optional: bool


def location_targets(document: dict, *, default_type: str) -> list[Target]:
    """The targets a Location entity names; TargetError when they are not written as Backstage expects."""
    spec = document.get("spec")
    if not isinstance(spec, dict):
        raise TargetError("required", "a Location needs a spec with target or targets")
    kind = spec.get("type", default_type)
    if not isinstance(kind, str) or not kind:
        raise TargetError("location.type", "spec.type must be a non-empty string")
    optional = spec.get("presence", "required") == "optional"
    found: list[tuple[str, object]] = []
    if "target" in spec:
        found.append(("spec.target", spec["target"]))
    targets = spec.get("targets", [])
    if not isinstance(targets, list):
        raise TargetError("location.targets", "spec.targets must be a list of strings")
    found.extend((f"spec.targets[{i}]", value) for i, value in enumerate(targets))
    result = []
    for field, value in found:
        if not isinstance(value, str) or not value.strip():
            raise TargetError("location.targets", f"{field} must be a non-empty string")
        result.append(Target(field=field, type=kind, value=value.strip(), optional=optional))
    return result


def is_glob(value: str) -> bool:
    return any(char in value for char in GLOB_CHARS)
