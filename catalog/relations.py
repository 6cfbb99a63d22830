"""Which spec fields make which relations, in both directions (Backstage's well-known relations).

Each row of RELATION_FIELDS says: on an entity of `kinds`, the spec field `field`
(a reference or a list of them, whose kind defaults to `default_kind`) makes the
relation `type` from this entity to the referenced one. The opposite direction
is INVERSE[type], seen from the referenced entity; it is not stored twice.
"""

from dataclasses import dataclass

INVERSE = {
    "ownedBy": "ownerOf",
    "providesApi": "apiProvidedBy",
    "consumesApi": "apiConsumedBy",
    "dependsOn": "dependencyOf",
    "parentOf": "childOf",
    "memberOf": "hasMember",
    "partOf": "hasPart",
}
INVERSE.update({v: k for k, v in list(INVERSE.items())})

# What the entity pages call each relation, read from the entity shown ("orders-api Depends on ...").
LABELS = {
    "ownedBy": "Owned by",
    "ownerOf": "Owner of",
    "providesApi": "Provides API",
    "apiProvidedBy": "API provided by",
    "consumesApi": "Consumes API",
    "apiConsumedBy": "API consumed by",
    "dependsOn": "Depends on",
    "dependencyOf": "Dependency of",
    "parentOf": "Parent of",
    "childOf": "Child of",
    "memberOf": "Member of",
    "hasMember": "Has member",
    "partOf": "Part of",
    "hasPart": "Has part",
}


def relation_label(relation_type: str) -> str:
    """The label of a relation type; one the catalog does not know is shown as stored."""
    return LABELS.get(relation_type, relation_type)


@dataclass(frozen=True)
class RelationField:
    kinds: tuple[str, ...]  # lower-case kinds the field applies to
    field: str  # spec field
    type: str  # relation from this entity to the referenced one
    default_kind: str | None


RELATION_FIELDS: tuple[RelationField, ...] = (
    RelationField(("component", "api", "resource", "system", "domain", "template"), "owner", "ownedBy", "Group"),
    RelationField(("component", "api", "resource"), "system", "partOf", "System"),
    RelationField(("component",), "subcomponentOf", "partOf", "Component"),
    RelationField(("component",), "providesApis", "providesApi", "API"),
    RelationField(("component",), "consumesApis", "consumesApi", "API"),
    RelationField(("component", "resource"), "dependsOn", "dependsOn", None),
    RelationField(("component", "resource"), "dependencyOf", "dependencyOf", None),
    RelationField(("system",), "domain", "partOf", "Domain"),
    RelationField(("domain",), "subdomainOf", "partOf", "Domain"),
    RelationField(("group",), "parent", "childOf", "Group"),
    RelationField(("group",), "children", "parentOf", "Group"),
    RelationField(("group",), "members", "hasMember", "User"),
    RelationField(("user",), "memberOf", "memberOf", "Group"),
)


def fields_for_kind(kind: str) -> list[RelationField]:
    kind = kind.lower()
    return [f for f in RELATION_FIELDS if kind in f.kinds]
