"""Export entities as Backstage catalog YAML: the documents as written, one YAML document each.

What the catalog added is left out: `metadata.uid` and `etag` are never in a stored document (they
live in their own columns), and the `backstage.io/orphan` annotation is taken off, so importing an
export into a location gives the same entities (same documents, same etags) back.

PostgreSQL stores JSON without its key order (jsonb), so the export puts the keys people look for
first, in the order Backstage's docs write them (apiVersion, kind, metadata, spec; name, namespace,
title...; type, lifecycle, owner...), then the rest as stored. The values are exactly as written.

For a whole catalog use `iter_export_yaml(entities_for_export())`: it reads the database in chunks
and yields one document at a time, so 100,000 entities never sit in memory at once.
"""

import copy
from collections.abc import Iterable, Iterator

import yaml
from django.db.models import QuerySet

from catalog.annotations import ORPHAN_ANNOTATION
from catalog.importing.reading import reads_back_as_string
from catalog.models import Entity, Location

_CHUNK = 2000


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    # Multi-line text (API definitions) as a literal block, the way people write it, not one escaped line.
    # PyYAML decides quoting by YAML 1.1, but descriptors are read as YAML 1.2 (as Backstage does), where
    # e.g. "1e3" and "0o17" are numbers: quote whatever the importer would not read back as this string.
    if "\n" in value:
        style = "|"
    elif not reads_back_as_string(value):
        style = "'"
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


_ROOT_ORDER = ("apiVersion", "kind", "metadata", "spec")
_METADATA_ORDER = ("name", "namespace", "title", "description", "labels", "annotations", "tags", "links")
_SPEC_ORDER = ("type", "lifecycle", "owner", "system", "domain", "subcomponentOf", "providesApis", "consumesApis",
               "dependsOn", "dependencyOf", "parent", "children", "members", "memberOf", "profile", "target", "targets",
               "definition")  # fmt: skip


def _ordered(mapping: dict, first: tuple[str, ...]) -> dict:
    return {**{k: mapping[k] for k in first if k in mapping}, **{k: v for k, v in mapping.items() if k not in first}}


def exported_document(entity: Entity) -> dict:
    """The entity's document as written, without what the catalog added."""
    document = copy.deepcopy(entity.document)
    metadata = document.get("metadata")
    if isinstance(metadata, dict):
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict) and ORPHAN_ANNOTATION in annotations:
            del annotations[ORPHAN_ANNOTATION]
            if not annotations:
                del metadata["annotations"]
        document["metadata"] = _ordered(metadata, _METADATA_ORDER)
    if isinstance(document.get("spec"), dict):
        document["spec"] = _ordered(document["spec"], _SPEC_ORDER)
    return _ordered(document, _ROOT_ORDER)


def document_yaml(document: dict) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False)


def entities_for_export(*, location: Location | None = None, with_locations: bool = False) -> QuerySet:
    """All entities, or one location's, in a stable order (kind, namespace, name).

    Location entities are left out unless asked for: their targets are relative to files the export is not
    beside, so importing an export that kept them would report missing targets (or conflicts next to the
    originals); without them, `catalog_export | catalog_import` is quiet.
    """
    queryset = Entity.objects.all() if location is None else Entity.objects.filter(location=location)
    if not with_locations:
        queryset = queryset.exclude(kind_key="location")
    return queryset.only("pk", "document").order_by("kind_key", "namespace", "name")


def iter_export_yaml(entities: Iterable[Entity]) -> Iterator[str]:
    """Multi-document YAML, streamed: yields "---\\n" plus one document at a time."""
    if isinstance(entities, QuerySet):
        entities = entities.iterator(chunk_size=_CHUNK)
    for entity in entities:
        yield "---\n" + document_yaml(exported_document(entity))


def export_yaml(entities: Iterable[Entity]) -> str:
    """Multi-document YAML of these entities, as one string (for one entity or a location)."""
    return "".join(iter_export_yaml(entities))
