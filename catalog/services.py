"""Writes to the catalog: applying documents from a location, linking locations, and creating, changing and
deleting entities.

Everything that changes an Entity goes through here, so its indexed copies (kind_key, owner_key, tags,
relations...) are always derived from its document, and every change has an audit event.

Decisions worth knowing:
- `Entity.document` is the document as written, minus what the catalog owns: `metadata.uid`, `etag` and
  `generation` (the catalog sets uid and etag, in their own columns) and the `backstage.io/orphan`
  annotation, which the catalog adds when an entity disappears from its location and removes when it
  comes back. An export gives back the document without those (catalog.exporting).
- `etag` is the SHA-256 of the document's canonical JSON, so it changes exactly when the document does.
- metadata.uid is assigned once, when the entity is first created, and kept across updates.
- A Group in namespace `default` is the portal Team with the same slug: applying one creates the Team
  when it is missing (no members; a Group whose name is not a valid slug, e.g. with a dot, gets no Team).
  `owner_team` is the Team whose slug is the owner's name when spec.owner is group:default/<slug>; for such a
  Group itself it is its own Team, whatever its spec.owner says (Entity.owning_team_id), set as it is written
  so that a permission check needs no query.
- An entity belongs to the location it came from. Another location defining the same entity is a
  conflict, reported as a problem; an entity whose location was deleted is taken over.
- Applying is set-based (bulk inserts and updates, relation targets resolved with one UPDATE per
  batch), so the number of queries does not grow with the number of relations.
"""

import hashlib
import json
import logging
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from audit.services import audit_record, audit_record_many
from catalog.annotations import ORPHAN_ANNOTATION
from catalog.models import Entity, EntityTag, Location, Relation
from catalog.refs import DEFAULT_NAMESPACE, RefError, parse_ref, ref_key
from catalog.signals import entities_applied
from catalog.validation import (
    CATALOG_METADATA_FIELDS,
    MAX_REF_KEY,
    Problem,
    checked_document,
    relation_refs,
    to_json_safe,
    validate_document,
)
from catalog.version import catalog_changed
from portal.actors import Actor
from portal.bulk import insert_many
from portal.models import Team
from portal.teams.services import team_create

logger = logging.getLogger(__name__)

API_LOCATION_TARGET = "api"  # the one Location of type "api": entities created through the REST API or UI
TEAM_NAMESPACE = DEFAULT_NAMESPACE
_CHUNK = 500  # keys per IN (...) and rows per bulk statement, well inside every database's limits


class PreconditionFailed(Exception):
    """The entity changed since the caller read it (If-Match differs from its etag)."""

    def __init__(self, entity: Entity, if_match: str):
        self.entity, self.if_match = entity, if_match
        super().__init__(f"{entity.ref} has changed (etag {entity.etag}, not {if_match}); read it again and retry.")


class EntityInvalid(ValidationError):
    """The document breaks Backstage's rules; `problems` says where and which."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__([p.message for p in self.problems], code="invalid")


class EntityConflict(ValidationError):
    """The entity already exists, or another location defines it."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__([p.message for p in self.problems], code="conflict")


@dataclass(frozen=True)
class Incoming:
    """One parsed document and where it came from."""

    document: dict
    source: str
    index: int | None
    # Refused before it got here (an unreadable substitution, a value that is not a mapping): not written, but
    # present, so the entity's last good version stays instead of being orphaned, as Backstage keeps it.
    refused: tuple[Problem, ...] = ()


@dataclass
class ApplyResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # invalid or conflicting documents, skipped
    refused: str = ""  # non-empty when nothing was written (e.g. the orphan guard)


# --- documents -----------------------------------------------------------------------------------


def canonical_json(document: dict) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def document_etag(document: dict) -> str:
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()


def _identity(document) -> tuple[str, str, str] | None:
    """(kind, namespace, name) when the document names them readably, valid or not."""
    if not isinstance(document, dict):
        return None
    metadata = document.get("metadata")
    kind = document.get("kind")
    if not isinstance(kind, str) or not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        return None
    namespace = metadata.get("namespace")
    return kind, namespace if isinstance(namespace, str) and namespace else DEFAULT_NAMESPACE, metadata["name"]


def _identity_key(document) -> str | None:
    found = _identity(document)
    return ref_key(*found) if found else None


def stored_document(document: dict) -> dict:
    """What is kept of a valid incoming document: plain JSON, without the fields the catalog owns."""
    return _without_catalog_fields(to_json_safe(document))


def _without_catalog_fields(document: dict) -> dict:
    """stored_document of a document that is already a plain JSON copy of its own (changed in place)."""
    metadata = document["metadata"]
    for name in CATALOG_METADATA_FIELDS:
        metadata.pop(name, None)
    annotations = metadata.get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(ORPHAN_ANNOTATION, None)
    return document


def _orphaned_document(document: dict) -> dict:
    document = json.loads(json.dumps(document))
    annotations = document["metadata"].get("annotations")
    if not isinstance(annotations, dict):
        annotations = document["metadata"]["annotations"] = {}
    annotations[ORPHAN_ANNOTATION] = "true"
    return document


def _optional_ref_key(value, default_kind: str, namespace: str) -> str:
    if not isinstance(value, str):
        return ""
    try:
        key = parse_ref(value, default_kind=default_kind, default_namespace=namespace).key
    except RefError:
        return ""
    return key if len(key) <= MAX_REF_KEY else ""


def _indexed_fields(document: dict) -> dict:
    """The Entity columns copied from a (stored, valid) document."""
    kind, namespace, name = _identity(document)
    metadata = document["metadata"]
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    title = metadata.get("title") or ""
    description = metadata.get("description") or ""
    tags = _tags(document)
    return {
        "api_version": document["apiVersion"],
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "ref_key": ref_key(kind, namespace, name),
        "kind_key": kind.lower(),
        "title": title[:300],
        "description": description,
        "spec_type": spec["type"][:63] if isinstance(spec.get("type"), str) else "",
        "lifecycle": spec["lifecycle"][:63] if isinstance(spec.get("lifecycle"), str) else "",
        "owner_key": _optional_ref_key(spec.get("owner"), "Group", namespace),
        "system_key": _optional_ref_key(spec.get("system"), "System", namespace),
        "search_text": " ".join(part for part in (name, title, description, *tags) if part),
    }


def _tags(document: dict) -> list[str]:
    return list(dict.fromkeys(document["metadata"].get("tags") or []))


def _relations(document: dict) -> list[tuple[str, str]]:
    kind, namespace, _name = _identity(document)
    return [(rel_type, ref.key) for rel_type, ref in relation_refs(kind, namespace, document.get("spec") or {})]


def _team_slug(owner_key: str) -> str | None:
    prefix = f"group:{TEAM_NAMESPACE}/"
    return owner_key[len(prefix) :] if owner_key.startswith(prefix) else None


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- locations -----------------------------------------------------------------------------------


def location_for(*, type: str, target: str) -> Location:
    """The Location of this type and target, created when it does not exist yet."""
    if type not in Location.Type.values:
        raise ValueError(f"unknown location type {type!r}; one of {', '.join(Location.Type.values)}")
    location, _created = Location.objects.get_or_create(type=type, target=target)
    return location


def location_discard_if_empty(*, location: Location) -> bool:
    """Delete a Location that holds no entity and no link: what an import that wrote nothing there leaves.

    A Location row is bookkeeping (where entities come from), created unaudited by location_for; one that
    never held anything says nothing, so a refused file leaves no trace of itself. Locked, so an import
    writing to it at the same time keeps it.
    """
    with transaction.atomic():
        location = Location.objects.select_for_update().filter(pk=location.pk).first()
        if location is None or location.entities.exists():
            return False
        if _LocationLink.objects.filter(Q(from_location=location) | Q(to_location=location)).exists():
            return False
        location.delete()
        return True


_LocationLink = Location.children.through


@transaction.atomic
def location_link(*, actor: Actor, links: Collection[tuple[int, int]]) -> int:
    """Record that each (parent, child) pair of location ids is linked: the parent's Location entities lead to
    the child. Pairs already linked are left as they are; each new link is one audit event on its parent.

    The locations are locked first, in id order, as applying one locks it, so two imports linking the same
    location do not both record the link. Set-based: a few queries for any number of links.
    """
    wanted = set(links)
    if not wanted:
        return 0
    locations: dict[int, Location] = {}
    for chunk in _chunks(sorted({pk for link in wanted for pk in link})):
        locations.update(
            (loc.pk, loc) for loc in Location.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
        )
    existing: set[tuple[int, int]] = set()
    for chunk in _chunks(sorted({parent for parent, _ in wanted})):
        existing.update(
            _LocationLink.objects.filter(from_location_id__in=chunk).values_list("from_location_id", "to_location_id")
        )
    new = sorted(wanted - existing)
    _LocationLink.objects.bulk_create(
        [_LocationLink(from_location_id=parent, to_location_id=child) for parent, child in new], batch_size=_CHUNK
    )
    audit_record_many(
        actor=actor,
        events=[("location.link", locations[parent], None, {"child": str(locations[child])}) for parent, child in new],
    )
    return len(new)


@transaction.atomic
def location_unlink(*, actor: Actor, parent_id: int, child_id: int) -> bool:
    """Remove the link from one location to another (its Location entities no longer lead there), audited.

    False, and no event, when there was no such link (e.g. another import removed it first).
    """
    deleted, _ = _LocationLink.objects.filter(from_location_id=parent_id, to_location_id=child_id).delete()
    if not deleted:
        return False
    locations = Location.objects.in_bulk([parent_id, child_id])
    audit_record(
        actor=actor,
        action="location.unlink",
        target=locations[parent_id],
        before={"child": str(locations[child_id])},
        after=None,
    )
    return True


# --- applying a location's documents -------------------------------------------------------------


@dataclass
class _Doc:
    incoming: Incoming
    document: dict
    etag: str
    fields: dict

    @property
    def key(self) -> str:
        return self.fields["ref_key"]


def entities_apply(
    *, actor: Actor, location: Location, incoming: list[Incoming], complete: bool = True, force: bool = False
) -> ApplyResult:
    """Apply a location's documents: validate all, then write the valid ones in one transaction.

    Unchanged documents (same etag) cause no write and no audit event. With `complete=True` the
    documents are everything the location holds now, so its entities missing from them are marked
    orphaned; if that would orphan more than settings.CATALOG_ORPHAN_GUARD of the location's entities,
    nothing is written and `refused` says why, unless `force`. A document that is present but invalid
    keeps its entity (the last valid version) and does not count as missing.
    """
    with transaction.atomic():
        result = _apply(actor=actor, location=location, incoming=incoming, complete=complete, force=force)
        _announce_applied(location, result)
    return result


def _announce_applied(location: Location, result: ApplyResult) -> None:
    """catalog.signals.entities_applied, once the apply commits, when it changed anything."""
    refs = [*result.created, *result.updated, *result.orphaned]
    if refs:
        transaction.on_commit(lambda: entities_applied.send(sender=Location, location=location, refs=refs))


def _apply(*, actor, location, incoming, complete, force) -> ApplyResult:
    result = ApplyResult()
    # One import of a location at a time: a second one waits here instead of racing on the same rows.
    location = Location.objects.select_for_update().get(pk=location.pk)

    docs: dict[str, _Doc] = {}
    present: set[str] = set()
    for item in incoming:
        key = _identity_key(item.document)
        if key:
            present.add(key)
        if item.refused:
            result.problems.extend(item.refused)
            continue
        problems, plain = checked_document(item.document, source=item.source, index=item.index)
        if problems:
            result.problems.extend(problems)
            continue
        document = _without_catalog_fields(plain)
        doc = _Doc(item, document, document_etag(document), _indexed_fields(document))
        if doc.key in docs:
            first = docs[doc.key].incoming
            where = first.source if first.index is None else f"{first.source} document {first.index + 1}"
            result.problems.append(
                Problem(
                    item.source,
                    item.index,
                    "metadata.name",
                    "duplicate",
                    f"{doc.key} is defined twice; the first, in {where}, is kept",
                )
            )
            continue
        docs[doc.key] = doc

    existing = _existing_by_key(list(docs))
    foreign = {
        key: row["location_id"] for key, row in existing.items() if row["location_id"] not in (location.pk, None)
    }
    others = Location.objects.in_bulk(set(foreign.values())) if foreign else {}
    for key, other_id in foreign.items():
        doc = docs.pop(key)
        del existing[key]
        result.problems.append(
            Problem(
                doc.incoming.source,
                doc.incoming.index,
                "metadata.name",
                "location.conflict",
                f"{doc.key} already comes from {others[other_id]}; remove it there first, or delete the entity",
            )
        )

    to_orphan: list[int] = []
    if complete:
        active = list(Entity.objects.filter(location=location, orphaned=False).values_list("pk", "ref_key"))
        to_orphan = [pk for pk, key in active if key not in present]
        guard = settings.CATALOG_ORPHAN_GUARD
        if to_orphan and not force and len(to_orphan) / len(active) > guard:
            result.refused = (
                f"Refused: this would orphan {len(to_orphan)} of the {len(active)} entities from {location} "
                f"({len(to_orphan) / len(active):.0%}), more than the {guard:.0%} allowed (CATALOG_ORPHAN_GUARD). "
                "Nothing was written. If the entities really are gone, apply again with force."
            )
            return result

    new = [doc for key, doc in docs.items() if key not in existing]
    changed = [
        doc
        for key, doc in docs.items()
        if key in existing and (existing[key]["etag"] != doc.etag or existing[key]["location_id"] is None)
    ]
    changed_keys = {doc.key for doc in changed}
    result.unchanged = [_ref(doc.fields) for key, doc in docs.items() if key in existing and key not in changed_keys]

    _ensure_teams(actor, [doc for doc in (*new, *changed) if _is_team_group(doc)])
    team_ids = _team_ids([_team_key(doc) for doc in (*new, *changed)])
    now = timezone.now()

    created = _create(location, new, team_ids)
    before, updated = _update(location, changed, team_ids, now)
    _write_tags(created, updated, before)
    dangling = _write_relations(created, updated, before)
    arrived = [entity.ref_key for entity in created]
    _resolve_relations_to(arrived)
    # Another import committing at the same time cannot see this transaction's rows, nor this one its: a
    # relation written here to an entity it creates (or the reverse) would stay unresolved. Once both have
    # committed, the later of the two resolves it.
    if arrived or dangling:
        transaction.on_commit(lambda: _resolve_after_commit([*arrived, *dangling]))
    orphaned = _orphan(to_orphan, now)

    audit_record_many(
        actor=actor,
        events=[("entity.create", e, None, e.document) for e in created]
        + [("entity.update", e, before[e.pk], e.document) for e in updated]
        + [("entity.orphan", e, old, e.document) for e, old in orphaned],
    )

    result.created = [e.ref for e in created]
    result.updated = [e.ref for e in updated]
    result.orphaned = [e.ref for e, _ in orphaned]
    if created or updated or orphaned:
        catalog_changed()
    return result


def _ref(fields: dict) -> str:
    return f"{fields['kind_key']}:{fields['namespace']}/{fields['name']}"  # as Entity.ref


def _existing_by_key(keys: list[str]) -> dict[str, dict]:
    found = {}
    for chunk in _chunks(keys):
        for row in Entity.objects.filter(ref_key__any_of=chunk).values("pk", "ref_key", "etag", "location_id"):
            found[row["ref_key"]] = row
    return found


def _is_team_group(doc: _Doc) -> bool:
    return doc.fields["kind_key"] == "group" and doc.fields["namespace"] == TEAM_NAMESPACE


def _team_key(doc: _Doc) -> str:
    """The Group ref whose Team owns the entity: a team's own Group belongs to that team, anything else to the
    team its spec.owner names."""
    return doc.key if _is_team_group(doc) else doc.fields["owner_key"]


def _ensure_teams(actor: Actor, groups: list[_Doc]) -> None:
    """Create the portal Team of each Group in namespace default that has none yet."""
    if not groups:
        return
    wanted = {doc.fields["name"].lower(): doc for doc in groups}
    have = set(
        Team.objects.annotate(slug_key=Lower("slug"))
        .filter(slug_key__in=list(wanted))
        .values_list("slug_key", flat=True)
    )
    # The catalog acts for the importer, with the authority of the import itself: importing a Group is how a
    # Team is declared, so the portal-admin check of team_create does not apply; the event names both.
    system = Actor.for_system(f"catalog:{actor.label}")
    for slug_key, doc in wanted.items():
        if slug_key in have:
            continue
        slug = doc.fields["name"]
        try:
            validate_slug(slug)
        except ValidationError:
            continue  # e.g. "team.a": a valid Group name, but not a Team slug
        profile = (doc.document.get("spec") or {}).get("profile") or {}
        name = profile.get("displayName") if isinstance(profile.get("displayName"), str) else ""
        # Entities already owned by this Group, imported before it, now belong to the Team too: team_create
        # sends team_created, whose receiver (team_entities_link_on_create) links them in this transaction.
        team_create(
            actor=system,
            slug=slug,
            name=(name or doc.fields["title"] or slug)[:200],
            description=doc.fields["description"],
        )


def _team_ids(owner_keys: Iterable[str]) -> dict[str, int]:
    slugs = {slug for slug in (_team_slug(key) for key in owner_keys) if slug}
    if not slugs:
        return {}
    rows = Team.objects.annotate(slug_key=Lower("slug")).filter(slug_key__in=list(slugs)).values_list("slug_key", "pk")
    return {f"group:{TEAM_NAMESPACE}/{slug_key}": pk for slug_key, pk in rows}


def _create(location: Location, docs: list[_Doc], team_ids: dict[str, int]) -> list[Entity]:
    now = timezone.now()
    rows = [
        {
            "uid": uuid.uuid4(),
            "document": doc.document,
            "etag": doc.etag,
            "location_id": location.pk,
            "owner_team_id": team_ids.get(_team_key(doc)),
            "orphaned": False,
            "created_at": now,
            "updated_at": now,
            **doc.fields,
        }
        for doc in docs
    ]
    ids = insert_many(Entity, rows, returning_ids=True)
    entities = [Entity(id=pk, **row) for pk, row in zip(ids, rows, strict=True)]
    for entity in entities:  # as loaded from the database, like bulk_create leaves them
        entity._state.adding, entity._state.db = False, connection.alias
    return entities


_UPDATE_FIELDS = [
    "api_version",
    "kind",
    "namespace",
    "name",
    "kind_key",
    "title",
    "description",
    "spec_type",
    "lifecycle",
    "owner_key",
    "system_key",
    "owner_team",
    "search_text",
    "document",
    "etag",
    "location",
    "orphaned",
    "updated_at",
]


def _update(location, docs: list[_Doc], team_ids, now) -> tuple[dict[int, dict], list[Entity]]:
    """Rewrite changed entities; returns their documents before (by pk) and the updated rows."""
    by_key = {doc.key: doc for doc in docs}
    entities = []
    for chunk in _chunks(list(by_key)):
        # Locked, in id order, so a concurrent entity_delete either waits for this import (and then deletes the
        # tags and relations it writes) or has deleted the entity already (and it is not found here): the
        # tags' and relations' references to their entity, which the database does not check, never dangle.
        entities.extend(Entity.objects.filter(ref_key__any_of=chunk).order_by("pk").select_for_update())
    before = {}
    for entity in entities:
        doc = by_key[entity.ref_key]
        before[entity.pk] = entity.document
        for name, value in doc.fields.items():
            setattr(entity, name, value)
        entity.document, entity.etag, entity.location = doc.document, doc.etag, location
        entity.owner_team_id = team_ids.get(_team_key(doc))
        entity.orphaned, entity.updated_at = False, now
    _update_rows(entities, _UPDATE_FIELDS)
    return before, entities


def _write_tags(created: list[Entity], updated: list[Entity], before: dict[int, dict]) -> None:
    retag = [e for e in updated if _tags(e.document) != _tags(before[e.pk])]
    for chunk in _chunks([e.pk for e in retag]):
        EntityTag.objects.filter(entity_id__in=chunk).delete()
    insert_many(EntityTag, [{"entity_id": e.pk, "tag": tag} for e in (*created, *retag) for tag in _tags(e.document)])


def _write_relations(created: list[Entity], updated: list[Entity], before: dict[int, dict]) -> list[str]:
    """Write the relations of new and changed entities; returns the target keys left unresolved."""
    relink = [e for e in updated if _relations(e.document) != _relations(before[e.pk])]
    for chunk in _chunks([e.pk for e in relink]):
        Relation.objects.filter(source_id__in=chunk).delete()
    wanted = [(e.pk, rel_type, key) for e in (*created, *relink) for rel_type, key in _relations(e.document)]
    targets = {}
    for chunk in _chunks(list({key for _, _, key in wanted})):
        targets.update(Entity.objects.filter(ref_key__any_of=chunk).values_list("ref_key", "pk"))
    insert_many(
        Relation,
        [
            {"source_id": pk, "type": rel_type, "target_key": key, "target_id": targets.get(key)}
            for pk, rel_type, key in wanted
        ],
    )
    return sorted({key for _, _, key in wanted if key not in targets})


def _resolve_relations_to(keys: list[str]) -> int:
    """Unresolved relations pointing at these keys now reach their entity, where it exists; returns how many.

    Imports run side by side, so two of these may meet on the same rows. Each locks only rows it can resolve,
    in id order, skipping rows another transaction holds (that one is resolving them): no deadlock, no wait.
    """
    resolved = 0
    target = Entity.objects.filter(ref_key=OuterRef("target_key"))
    for chunk in _chunks(keys):
        with transaction.atomic():
            ids = list(
                Relation.objects.filter(target__isnull=True, target_key__any_of=chunk)
                .filter(Exists(target))
                .order_by("id")
                .select_for_update(skip_locked=True)
                .values_list("id", flat=True)
            )
            if ids:
                resolved += Relation.objects.filter(id__in=ids).update(target_id=Subquery(target.values("pk")[:1]))
                catalog_changed()  # what is derived from relations (graphs, row badges) is cached by the version
    return resolved


def _resolve_after_commit(keys: list[str]) -> None:
    # The change has committed and the caller's answer must not fail now: what this misses, the periodic
    # sweep (relations_resolve_all) resolves.
    try:
        _resolve_relations_to(keys)
    except DatabaseError:
        logger.warning(
            "Resolving %d relation keys after commit failed; the periodic sweep will", len(keys), exc_info=True
        )


def relations_resolve_all() -> int:
    """The periodic sweep: every unresolved relation whose target exists now reaches it."""
    keys = (
        Relation.objects.filter(target__isnull=True)
        .filter(Exists(Entity.objects.filter(ref_key=OuterRef("target_key"))))
        .values_list("target_key", flat=True)
        .distinct()
    )
    return _resolve_relations_to(sorted(keys))


def _orphan(pks: list[int], now) -> list[tuple[Entity, dict]]:
    entities = []
    for chunk in _chunks(pks):
        entities.extend(Entity.objects.filter(pk__in=chunk))
    out = []
    for entity in entities:
        old = entity.document
        entity.document = _orphaned_document(old)
        entity.etag, entity.orphaned, entity.updated_at = document_etag(entity.document), True, now
        out.append((entity, old))
    _update_rows(entities, ["document", "etag", "orphaned", "updated_at"])
    return out


def _update_rows(entities: list[Entity], fields: list[str]) -> None:
    """UPDATE ... WHERE id = ? for each row, sent as one executemany.

    bulk_update() builds a CASE WHEN per column and row, which PostgreSQL plans slowly: 2,000 changed
    entities took 5.7 s that way and take well under a second like this (psycopg pipelines executemany).
    """
    if not entities:
        return
    columns = [Entity._meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    # Only the model's own table and column names go into the text; every value is a parameter.
    sql = f"UPDATE {quote(Entity._meta.db_table)} SET {assignments} WHERE {quote(Entity._meta.pk.column)} = %s"  # noqa: S608
    rows = [
        [column.get_db_prep_save(getattr(entity, column.attname), connection) for column in columns] + [entity.pk]
        for entity in entities
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


# --- one entity at a time (REST API and UI) ------------------------------------------------------


def _api_location() -> Location:
    return location_for(type=Location.Type.API, target=API_LOCATION_TARGET)


def _raise_for(result: ApplyResult) -> None:
    if result.refused:
        raise EntityConflict([Problem("api", None, "", "refused", result.refused)])
    conflicts = [p for p in result.problems if p.rule in ("duplicate", "location.conflict")]
    if conflicts:
        raise EntityConflict(conflicts)
    if result.problems:
        raise EntityInvalid(result.problems)


@transaction.atomic
def entity_create(*, actor: Actor, document: dict) -> Entity:
    """A new entity from the REST API or the UI, in the "api" location. The caller checks permission."""
    problems = validate_document(document, source="api", index=None)
    if problems:
        raise EntityInvalid(problems)
    key = _identity_key(document)
    if Entity.objects.filter(ref_key=key).exists():
        raise EntityConflict([Problem("api", None, "metadata.name", "exists", f"{key} already exists")])
    result = _apply(
        actor=actor, location=_api_location(), incoming=[Incoming(document, "api", None)], complete=False, force=False
    )
    _raise_for(result)
    return Entity.objects.get(ref_key=key)


def _unquote_etag(value: str) -> str:
    # An HTTP If-Match header carries the tag in quotes, maybe weak (W/"..."); the stored etag is bare.
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


@transaction.atomic
def entity_update(*, actor: Actor, entity: Entity, document: dict, if_match: str | None = None) -> Entity:
    """Replace an entity's document. The caller checks permission.

    Raises PreconditionFailed when `if_match` is given and is not the entity's current etag, EntityInvalid
    when the document breaks a rule or names another entity (kind, namespace and name are its identity).
    The entity stays in its location, so a later import of that location replaces the change.
    """
    current = Entity.objects.select_for_update().get(pk=entity.pk)
    if if_match is not None and _unquote_etag(if_match) != current.etag:
        raise PreconditionFailed(current, if_match)
    problems = validate_document(document, source="api", index=None)
    if problems:
        raise EntityInvalid(problems)
    if _identity_key(document) != current.ref_key:
        raise EntityInvalid(
            [
                Problem(
                    "api",
                    None,
                    "metadata.name",
                    "identity.changed",
                    f"the document names {_identity_key(document)}, not {current.ref_key}; "
                    "kind, namespace and name cannot change (create a new entity instead)",
                )
            ]
        )
    location = current.location or _api_location()
    result = _apply(
        actor=actor, location=location, incoming=[Incoming(document, "api", None)], complete=False, force=False
    )
    _raise_for(result)
    current.refresh_from_db()
    return current


@transaction.atomic
def entity_delete(*, actor: Actor, entity: Entity) -> None:
    """Delete an entity. Relations pointing at it become unresolved; its Team, if a Group, stays.

    The caller checks permission. An entity still present in a file or URL comes back at its next import.
    """
    current = Entity.objects.select_for_update().get(pk=entity.pk)
    audit_record(actor=actor, action="entity.delete", target=current, before=current.document, after=None)
    current.delete()
    catalog_changed()


def team_entities_link(*, team: Team) -> int:
    """Give a new Team the entities whose spec.owner already names its Group (imported before the Team was
    made, in the admin, by `demo_users` or by a Group's import): `owner_team` is what permissions check."""
    group = ref_key("group", TEAM_NAMESPACE, team.slug)
    linked = (
        Entity.objects.filter(Q(owner_key=group) | Q(ref_key=group), owner_team__isnull=True)
        # The Group's own spec.owner naming the new team does not make another team's Group its own.
        .exclude(Q(kind_key="group", namespace=TEAM_NAMESPACE) & ~Q(ref_key=group))
        .update(owner_team=team)
    )
    if linked:
        catalog_changed()
    return linked


def team_entities_link_on_create(sender, *, team: Team, **kwargs) -> None:
    """The receiver of portal.teams.signals.team_created (connected in CatalogConfig.ready): sent inside the
    creating transaction, so the team and its entities' link commit together."""
    team_entities_link(team=team)
