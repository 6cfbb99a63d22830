"""Export entities as Backstage catalog YAML: the documents as written, one YAML document each.

What the catalog added is left out: `metadata.uid` and `etag` are never in a stored document (they
live in their own columns), and the `backstage.io/orphan` annotation is taken off, so importing an
export into a location gives the same entities (same documents, same etags) back.

For a whole catalog use `iter_export_yaml(entities_for_export())`: it reads the database in chunks
and yields one document at a time, so 100,000 entities never sit in memory at once.
"""

import copy
from collections.abc import Iterable, Iterator

import yaml
from django.db.models import QuerySet

from catalog.models import Entity, Location
from catalog.services import ORPHAN_ANNOTATION

_CHUNK = 2000


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str):
    # Multi-line text (API definitions) as a literal block, the way people write it, not one escaped line.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def exported_document(entity: Entity) -> dict:
    """The entity's document as written, without what the catalog added."""
    document = entity.document
    annotations = (document.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict) and ORPHAN_ANNOTATION in annotations:
        document = copy.deepcopy(document)
        annotations = document["metadata"]["annotations"]
        del annotations[ORPHAN_ANNOTATION]
        if not annotations:
            del document["metadata"]["annotations"]
    return document


def document_yaml(document: dict) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False)


def entities_for_export(*, location: Location | None = None) -> QuerySet:
    """All entities, or one location's, in a stable order (kind, namespace, name)."""
    queryset = Entity.objects.all() if location is None else Entity.objects.filter(location=location)
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
