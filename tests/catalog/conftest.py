"""Entity documents, and entities written the way the catalog writes them (catalog.services)."""

import pytest

from catalog.models import Entity
from catalog.services import entity_create
from portal.actors import Actor


def document(kind, name, *, namespace=None, title="", description="", tags=(), annotations=None, **spec):
    metadata = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if title:
        metadata["title"] = title
    if description:
        metadata["description"] = description
    if tags:
        metadata["tags"] = list(tags)
    if annotations:
        metadata["annotations"] = dict(annotations)
    body = {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": metadata}
    if spec or kind not in ("Group", "User"):
        body["spec"] = {key.replace("_", ""): value for key, value in spec.items()}
    if kind == "API":
        body["spec"].setdefault("definition", "openapi: 3.0.0")
    if kind == "Group":
        body["spec"] = {"type": "team", "children": [], **body.get("spec", {})}
    return body


@pytest.fixture
def put(db):
    """Write an entity the way the REST API and the UI do (catalog.services), with its tags and relations."""

    def write(doc: dict) -> Entity:
        return entity_create(actor=Actor.for_system("tests"), document=doc)

    return write
