"""Importing Backstage descriptors: read every source first, then apply each location in its own transaction.

A source that could not be read as a whole (bad YAML, too large, not UTF-8, a refused
URL) is not applied at all: what the catalog holds from it stays as it was, and the
report says why. Every other source is one catalog Location, applied with
`entities_apply`, which validates its documents and writes the valid ones in one
transaction; a document refused (while reading, or by validation) is left out of
it with its problems and keeps its entity's last good version, as Backstage
processes each entity on its own. `atomic=True` is all or nothing instead: the
whole import is rolled back when anything in it is refused (for CI pipelines).

A Location row this import created and wrote nothing to is removed again, so a
refused file leaves no trace.

An entity that disappears from its location is orphaned, not deleted: a file gone
from an imported folder, and a file or URL that no imported Location entity leads
to any more, have their entities orphaned (with the orphan guard, like any apply).
"""

import os

from django.db import transaction

from catalog.importing.locations import FILE, Ref, Root
from catalog.importing.report import ImportReport, LocationReport, RefusedEntity
from catalog.importing.sources import Reader, Reading, Source
from catalog.models import Location
from catalog.refs import DEFAULT_NAMESPACE
from catalog.services import (
    Incoming,
    entities_apply,
    location_discard_if_empty,
    location_for,
    location_link,
    location_unlink,
)

Link = Location.children.through  # read here; written through catalog.services (location_link, location_unlink)


def import_paths(*, actor, paths, force: bool = False, atomic: bool = False) -> ImportReport:
    """Files and folders; a folder's YAML files are one location each, and a file gone from it orphans its entities."""
    reader = Reader()
    for path in paths:
        reader.add_path(os.fspath(path))
    return _apply(actor=actor, reading=reader.read(), force=force, atomic=atomic)


def import_url(*, actor, url: str, force: bool = False, atomic: bool = False) -> ImportReport:
    reader = Reader()
    reader.add_url(url)
    return _apply(actor=actor, reading=reader.read(), force=force, atomic=atomic)


def import_upload(*, actor, name: str, content: bytes, force: bool = False, atomic: bool = False) -> ImportReport:
    reader = Reader()
    reader.add_upload(name, content)
    return _apply(actor=actor, reading=reader.read(), force=force, atomic=atomic)


def _apply(*, actor, reading: Reading, force: bool, atomic: bool) -> ImportReport:
    if not atomic:
        return _apply_each(actor=actor, reading=reading, force=force)
    with transaction.atomic():
        report = _apply_each(actor=actor, reading=reading, force=force)
        if not report.ok:
            # Nothing stands, audit events and the work queued on commit included.
            transaction.set_rollback(True)
            report.roll_back()
    return report


def _apply_each(*, actor, reading: Reading, force: bool) -> ImportReport:
    report = ImportReport()
    applied: list[tuple[Source, Location, LocationReport]] = []
    for source in reading.sources:
        ref = source.ref
        report.problems.extend(source.unfollowed)
        report.warnings.extend(source.warnings)
        if source.problems:
            report.problems.extend(source.problems)
            report.locations.append(
                LocationReport(
                    type=ref.type,
                    target=ref.target,
                    refused=f"not applied: {len(source.problems)} problem(s) reading it; "
                    "what the catalog holds from it is unchanged",
                )
            )
            continue
        incoming = [
            *(Incoming(document=document, source=ref.source, index=index) for index, document in source.documents),
            *(
                Incoming(document=value, source=ref.source, index=index, refused=tuple(problems))
                for index, value, problems in source.refused
            ),
        ]
        incoming.sort(key=lambda item: item.index)  # the first of two documents with one name is the one kept
        location, location_report = _apply_location(actor, ref, incoming, force=force, discard_if_empty=True)
        if location is not None:
            applied.append((source, location, location_report))
        report.locations.append(location_report)
    report.problems.extend(reading.problems)
    seen = {source.ref.target for source in reading.sources if source.ref.type == FILE}
    emptied: dict[int, bool] = {}  # location id: its entities are orphaned now (False: the guard refused)
    for root in reading.folders:
        for target in _gone_from_folder(root, seen):
            location, location_report = _apply_location(actor, Ref(FILE, target), [], force=force)
            emptied[location.pk] = not location_report.refused
            report.locations.append(location_report)
    report.locations.extend(_unlink(actor, reading, applied, emptied, force=force))
    return report


def _apply_location(
    actor, ref: Ref, incoming: list, *, force: bool, discard_if_empty: bool = False
) -> tuple[Location | None, LocationReport]:
    """Apply one location; with `discard_if_empty`, a Location row it creates and writes nothing to goes again."""
    new = discard_if_empty and not Location.objects.filter(type=ref.type, target=ref.target).exists()
    location = location_for(type=ref.type, target=ref.target)
    result = entities_apply(actor=actor, location=location, incoming=incoming, complete=True, force=force)
    location_report = LocationReport(
        type=ref.type,
        target=ref.target,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        orphaned=result.orphaned,
        problems=result.problems,
        refused=result.refused,
        refused_entities=_refused_entities(incoming, result.problems),
    )
    if new and not result.created and location_discard_if_empty(location=location):
        return None, location_report
    return location, location_report


def _refused_entities(incoming: list[Incoming], problems: list) -> list[RefusedEntity]:
    """Each document with problems, once, named by its reference when it has one readable."""
    by_index: dict[int | None, list] = {}
    for problem in problems:
        by_index.setdefault(problem.index, []).append(problem)
    documents = {item.index: item.document for item in incoming}
    return [
        RefusedEntity(index=index, ref=_readable_ref(documents.get(index)), problems=found)
        for index, found in by_index.items()
    ]


def _readable_ref(document) -> str | None:
    if not isinstance(document, dict) or not isinstance(document.get("metadata"), dict):
        return None
    kind, metadata = document.get("kind"), document["metadata"]
    name, namespace = metadata.get("name"), metadata.get("namespace") or DEFAULT_NAMESPACE
    if not all(isinstance(each, str) and each for each in (kind, name, namespace)):
        return None
    return f"{kind.lower()}:{namespace}/{name}"


def _unlink(actor, reading: Reading, applied: list, emptied: dict[int, bool], *, force: bool) -> list[LocationReport]:
    """Record the locations each applied one leads to, and orphan the entities of those no location leads to now.

    A location no longer named is emptied unless this import read it anyway or another location still leads
    to it; emptying it orphans its own Location entities, so what they led to is no longer named either. Its
    link stays while the orphan guard refuses, so the next import (with force) tries again, as for a folder.
    """
    ids = _location_ids({ref for source in reading.sources for ref in (source.ref, *source.named)})
    seen = {ids[source.ref] for source in reading.sources if source.ref in ids}
    now = {(location.pk, ids[ref]) for source, location, _ in applied for ref in source.named if ref in ids}
    before = set(
        Link.objects.filter(from_location__in=[location.pk for _, location, _ in applied]).values_list(
            "from_location_id", "to_location_id"
        )
    )
    if now - before:
        location_link(actor=actor, links=now - before)
    # A parent refused by the guard still holds its old Location entities, which still name their targets.
    refused = {location.pk for _, location, location_report in applied if location_report.refused}
    gone = {(parent, child) for parent, child in before - now if parent not in refused}

    reports: list[LocationReport] = []
    visited: set[int] = set()

    def drop(parent: int, child: int) -> None:
        if child in seen or _reached_otherwise(child, gone) or empty(child):
            location_unlink(actor=actor, parent_id=parent, child_id=child)
            gone.discard((parent, child))

    def empty(child: int) -> bool:
        """Orphan the location's entities, then drop its own links; False while the guard refuses any of it."""
        if child in visited:
            return emptied[child]
        visited.add(child)
        if child not in emptied:
            location = Location.objects.get(pk=child)
            emptied[child] = True
            if location.entities.filter(orphaned=False).exists():
                _, location_report = _apply_location(actor, Ref(location.type, location.target), [], force=force)
                emptied[child] = not location_report.refused
                reports.append(location_report)
        if emptied[child]:
            grandchildren = sorted(
                Link.objects.filter(from_location_id=child).values_list("from_location_id", "to_location_id")
            )
            gone.update(grandchildren)
            for link in grandchildren:
                drop(*link)
            # A link kept below (the guard refused) keeps this one too, so the next import comes back to it.
            emptied[child] = not Link.objects.filter(from_location_id=child).exists()
        return emptied[child]

    for link in sorted(gone):
        drop(*link)
    return reports


def _reached_otherwise(child: int, gone: set[tuple[int, int]]) -> bool:
    lost = [parent for parent, each in gone if each == child]
    return Link.objects.filter(to_location_id=child).exclude(from_location_id__in=lost).exists()


def _location_ids(refs: set[Ref]) -> dict[Ref, int]:
    """The catalog Location of each source that has one; a source never applied has none."""
    ids = {}
    for kind in {ref.type for ref in refs}:
        targets = sorted(ref.target for ref in refs if ref.type == kind)
        for start in range(0, len(targets), 500):
            rows = Location.objects.filter(type=kind, target__in=targets[start : start + 500])
            ids.update({Ref(kind, target): pk for pk, target in rows.values_list("pk", "target")})
    return ids


def _gone_from_folder(root: Root, seen: set[str]) -> list[str]:
    """File locations below the folder, with entities not yet orphaned, whose file this import did not read."""
    prefix = root.base.rstrip(os.sep) + os.sep
    targets = (
        Location.objects.filter(type=FILE, target__startswith=prefix, entities__orphaned=False)
        .values_list("target", flat=True)
        .distinct()
        .order_by("target")
    )
    return [target for target in targets if target not in seen]
