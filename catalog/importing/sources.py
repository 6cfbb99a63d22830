"""The reading stage of an import: which sources there are, and the documents each one holds.

Sources are read breadth-first from the roots: a folder's YAML files (sorted,
hidden ones skipped), then whatever their Location entities point at. Each
source is read once however many times it is named, so loops end by themselves.
A source that cannot be read as a whole (bad YAML, too large, not UTF-8, a refused
URL) is kept with its problems and no documents: it will not be applied, and what
the catalog already holds from it stays as it was. A document that cannot be
completed (a placeholder that cannot be read, a value that is not a mapping) is
refused on its own, as Backstage processes each entity on its own: the source's
other documents are applied, and the refused one keeps its last good version.

Files found only by walking a folder and used by another file as a `$text`,
`$json` or `$yaml` substitution are data, not descriptors (petstore.oas.yaml next
to petstore-api.yaml), so they are not imported on their own.
"""

import os
import urllib.parse
from collections import deque
from dataclasses import dataclass, field

from catalog.importing.fetching import UrlRefused, fetch, host_allowed, host_refusal
from catalog.importing.locations import (
    FILE,
    UPLOAD,
    URL,
    OutsideRoot,
    Ref,
    Root,
    Target,
    TargetError,
    is_glob,
    is_remote,
    location_targets,
    resolve,
    resolve_glob,
)
from catalog.importing.reading import ReadRefused, decode, parse_documents, read_file
from catalog.importing.substitutions import Substituter, SubstitutionRefused
from catalog.validation import Problem

YAML_SUFFIXES = (".yaml", ".yml")
# Far above any real catalog; stops a chain of URL Locations from running forever.
MAX_SOURCES = 20_000


@dataclass
class Source:
    ref: Ref
    root: Root
    explicit: bool  # named by the caller or by a Location target, not only found by walking a folder
    documents: list[tuple[int, dict]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # the source could not be read: it is not applied
    # Documents refused while reading, with why: (index, the value as read, problems). Applied as refused.
    refused: list[tuple[int, object, list[Problem]]] = field(default_factory=list)
    # What a person should know but need not fix: an optional target that is missing.
    warnings: list[Problem] = field(default_factory=list)
    # Targets of its Location entities that were not followed (missing, of a type that cannot be read):
    # reported, while the Location entity itself is applied, as Backstage keeps it.
    unfollowed: list[Problem] = field(default_factory=list)
    substituted: set[Ref] = field(default_factory=set)
    # The sources its Location entities name: those followed, and required ones that are missing (what the
    # catalog holds from those stays, as from any source that cannot be read). A source named before and
    # not now is one whose entities are orphaned.
    named: set[Ref] = field(default_factory=set)


@dataclass
class Reading:
    sources: list[Source]  # in the order they were read
    problems: list[Problem]  # not tied to one source: a path that does not exist, a refused URL...
    folders: list[Root]  # roots given as folders: their files that are gone orphan their entities


def _problem(source: str, index: int | None, field_: str, rule: str, message: str) -> Problem:
    return Problem(source=source, index=index, field=field_, rule=rule, message=message)


class Reader:
    def __init__(self):
        self.sources: dict[Ref, Source] = {}
        self.queue: deque[Source] = deque()
        self.problems: list[Problem] = []
        self.folders: list[Root] = []
        self.uploads: dict[Ref, bytes] = {}
        self.cache: dict[Ref, bytes] = {}

    # --- what to read -------------------------------------------------------------------------

    def add_path(self, path: str) -> None:
        if not os.path.exists(path):
            self.problems.append(_problem(path, None, "", "source.not-found", f"{path} does not exist"))
            return
        root = Root.for_path(path)
        if os.path.isdir(path):
            self.folders.append(root)
            for real in self._walk(root):
                self._enqueue(Ref(FILE, real), root, explicit=False)
        else:
            self._enqueue(Ref(FILE, os.path.realpath(path)), root, explicit=True)

    def add_url(self, url: str) -> None:
        self._enqueue(Ref(URL, url), Root.for_url(url), explicit=True)

    def add_upload(self, name: str, content: bytes) -> None:
        ref = Ref(UPLOAD, name)
        self.uploads[ref] = content
        self._enqueue(ref, Root(UPLOAD, ""), explicit=True)

    def _walk(self, root: Root):
        for folder, subfolders, files in os.walk(root.base):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            for name in sorted(files):
                if name.startswith(".") or not name.lower().endswith(YAML_SUFFIXES):
                    continue
                path = os.path.join(folder, name)
                real = os.path.realpath(path)
                if not root.contains_path(real):
                    self.problems.append(
                        _problem(
                            path,
                            None,
                            "",
                            "location.outside-root",
                            f"{path} leads (through a symbolic link) to {real}, outside the import root {root.base}",
                        )
                    )
                    continue
                yield real

    def _enqueue(self, ref: Ref, root: Root, *, explicit: bool) -> None:
        known = self.sources.get(ref)
        if known is not None:
            known.explicit = known.explicit or explicit
            return
        if len(self.sources) >= MAX_SOURCES:
            self.problems.append(
                _problem(
                    ref.source, None, "", "import.too-many-sources", f"more than {MAX_SOURCES} sources in one import"
                )
            )
            return
        source = Source(ref=ref, root=root, explicit=explicit)
        self.sources[ref] = source
        self.queue.append(source)

    # --- reading ------------------------------------------------------------------------------

    def read(self) -> Reading:
        while self.queue:
            self._read_source(self.queue.popleft())
        used = set().union(*(source.substituted for source in self.sources.values()))
        kept = [source for source in self.sources.values() if source.explicit or source.ref not in used]
        return Reading(sources=kept, problems=self.problems, folders=self.folders)

    def _bytes(self, ref: Ref) -> bytes:
        if ref.type == UPLOAD:
            return self.uploads[ref]
        if ref.type == URL:
            return fetch(ref.target)
        return read_file(ref.target, source=ref.source)

    def _cached_bytes(self, ref: Ref) -> bytes:
        if ref not in self.cache:
            self.cache[ref] = self._bytes(ref)
        return self.cache[ref]

    def _read_source(self, source: Source) -> None:
        ref = source.ref
        try:
            data = self._bytes(ref)
            documents = parse_documents(decode(data, source=ref.source), source=ref.source)
        except ReadRefused as error:
            source.problems.append(error.problem)
            return
        except UrlRefused as error:
            source.problems.append(_problem(ref.source, None, "", error.rule, error.message))
            return
        substituter = Substituter(root=source.root, base=ref, read=self._cached_bytes, already_read=len(data))
        for index, value in documents:
            if not isinstance(value, dict):
                problem = _problem(
                    ref.source,
                    index,
                    "",
                    "document.not-mapping",
                    f"an entity must be a mapping (apiVersion, kind, metadata, spec), not a {_yaml_type(value)}",
                )
                source.refused.append((index, value, [problem]))
                continue
            try:
                document = substituter.apply(value, index=index)
            except SubstitutionRefused as error:
                source.refused.append((index, value, [error.problem]))
                continue
            if str(document.get("kind", "")).lower() == "location":
                try:
                    targets = location_targets(document, default_type=ref.type if ref.type != UPLOAD else URL)
                except TargetError as error:
                    source.refused.append(
                        (index, document, [_problem(ref.source, index, "spec", error.rule, error.message)])
                    )
                    continue
                self._follow(source, index, targets)
            source.documents.append((index, document))
        source.substituted = substituter.used

    def _follow(self, source: Source, index: int, targets: list[Target]) -> None:
        """Read what a Location entity names; a target not followed is reported, and the entity kept."""
        ref = source.ref
        for target in targets:
            where = target.field

            def unfollowed(rule: str, message: str, target=target) -> None:
                source.unfollowed.append(_problem(ref.source, index, target.field, rule, message))

            if target.type not in (FILE, URL):
                unfollowed(
                    "location.type-unsupported",
                    f"{where}: a Location of type {target.type!r} cannot be read (only 'file' and 'url' are)",
                )
                continue
            try:
                # A relative target is resolved against this location whatever its type says, as Backstage
                # resolves it: `type: url` with `./all.yaml` in a file is that file.
                if ref.type == FILE and not is_remote(target.value) and is_glob(target.value):
                    found = resolve_glob(source.root, ref, target.value)
                else:
                    found = [resolve(source.root, ref, target.value)]
            except OutsideRoot as error:
                unfollowed("location.outside-root", f"{where}: {error}")
                continue
            root = source.root
            if found[0].type == URL and ref.type != URL:
                host = urllib.parse.urlsplit(found[0].target).hostname or ""
                if not host_allowed(host):
                    unfollowed("url.host-not-allowed", f"{where}: {target.value}: {host_refusal(host)}")
                    continue
                root = Root.for_url(found[0].target)
            if found[0].type == FILE:
                named = found
                found = [each for each in found if os.path.isfile(each.target)]
                if not found:
                    missing = ", ".join(each.target for each in named) or os.path.normpath(
                        os.path.join(os.path.dirname(ref.target), target.value)
                    )
                    if target.optional:
                        source.warnings.append(
                            _problem(
                                ref.source,
                                index,
                                target.field,
                                "location.target-missing",
                                f"{where}: {target.value} ({missing}) does not exist; it is optional "
                                "(spec.presence: optional), so nothing is read from it",
                            )
                        )
                    else:
                        source.named.update(named)
                        unfollowed(
                            "location.target-missing",
                            f"{where}: {target.value} ({missing}) does not exist (spec.presence: optional allows that)",
                        )
            source.named.update(found)
            for each in found:
                self._enqueue(each, root, explicit=True)


def _yaml_type(value) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__
