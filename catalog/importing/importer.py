"""Importing Backstage descriptors: read every source first, then apply each location in its own transaction.

A source that could not be read completely (bad YAML, too large, a substitution or
a Location target outside the root, a refused URL) is not applied at all: what
the catalog holds from it stays as it was, and the report says why. Every other
source is one catalog Location, applied with `entities_apply`, which validates
its documents and writes the valid ones in one transaction.
"""

import os

from catalog.importing.locations import FILE, Ref, Root
from catalog.importing.report import ImportReport, LocationReport
from catalog.importing.sources import Reader, Reading
from catalog.models import Location
from catalog.services import Incoming, entities_apply, location_for


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
        report.locations.append(_apply_location(actor, ref, incoming, force=force))
    report.problems.extend(reading.problems)
    seen = {source.ref.target for source in reading.sources if source.ref.type == FILE}
    for root in reading.folders:
        for target in _gone_from_folder(root, seen):
            report.locations.append(_apply_location(actor, Ref(FILE, target), [], force=force))
    return report


def _apply_location(actor, ref: Ref, incoming: list, *, force: bool) -> LocationReport:
    location = location_for(type=ref.type, target=ref.target)
    result = entities_apply(actor=actor, location=location, incoming=incoming, complete=True, force=force)
    return LocationReport(
        type=ref.type,
        target=ref.target,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        orphaned=result.orphaned,
        problems=result.problems,
        refused=result.refused,
    )


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
