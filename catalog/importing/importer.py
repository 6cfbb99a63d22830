"""Importing Backstage descriptors: read every source first, then apply each location in its own transaction.

A source that could not be read completely (bad YAML, too large, a substitution or
a Location target outside the root, a refused URL) is not applied at all: what
the catalog holds from it stays as it was, and the report says why. Every other
source is one catalog Location, applied with `entities_apply`, which validates
its documents and writes the valid ones in one transaction.

An entity that disappears from its location is orphaned, not deleted: a file gone
from an imported folder, and a file or URL that no imported Location entity leads
to any more, have their entities orphaned (with the orphan guard, like any apply).
"""

import os

from catalog.importing.locations import FILE, Ref, Root
from catalog.importing.report import ImportReport, LocationReport
from catalog.importing.sources import Reader, Reading, Source
from catalog.models import Location
from catalog.services import Incoming, entities_apply, location_for, location_link, location_unlink

Link = Location.children.through  # read here; written through catalog.services (location_link, location_unlink)


def import_paths(*, actor, paths, force: bool = False) -> ImportReport:
    """Files and folders; a folder's YAML files are one location each, and a file gone from it orphans its entities."""
    reader = Reader()
    for path in paths:
        reader.add_path(os.fspath(path))
    return _apply(actor=actor, reading=reader.read(), force=force)


def import_url(*, actor, url: str, force: bool = False) -> ImportReport:
    reader = Reader()
    reader.add_url(url)
    return _apply(actor=actor, reading=reader.read(), force=force)


def import_upload(*, actor, name: str, content: bytes, force: bool = False) -> ImportReport:
    reader = Reader()
    reader.add_upload(name, content)
    return _apply(actor=actor, reading=reader.read(), force=force)


def _apply(*, actor, reading: Reading, force: bool) -> ImportReport:
    report = ImportReport()
    applied: list[tuple[Source, Location, LocationReport]] = []
    for source in reading.sources:
        ref = source.ref
        report.problems.extend(source.unfollowed)
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
        incoming = [Incoming(document=document, source=ref.source, index=index) for index, document in source.documents]
        location, location_report = _apply_location(actor, ref, incoming, force=force)
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


def _apply_location(actor, ref: Ref, incoming: list, *, force: bool) -> tuple[Location, LocationReport]:
    location = location_for(type=ref.type, target=ref.target)
    result = entities_apply(actor=actor, location=location, incoming=incoming, complete=True, force=force)
    return location, LocationReport(
        type=ref.type,
        target=ref.target,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        orphaned=result.orphaned,
        problems=result.problems,
        refused=result.refused,
    )


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
