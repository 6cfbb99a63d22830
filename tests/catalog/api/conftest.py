"""People in two teams, an API client per role, and entities written the way the catalog writes them.

`outsider` maintains ANOTHER team (payments), for Broken Object Level Authorization checks.
"""

import hashlib
import json
import uuid

import pytest
from rest_framework.test import APIClient

from catalog.models import Entity, EntityTag, Relation
from catalog.refs import parse_ref
from catalog.relations import fields_for_kind
from portal.models import Role, Team
from tests.factories import MembershipFactory, TeamFactory, UserFactory, make_token

ROLES = ["viewer", "maintainer", "outsider", "portal_admin", "read_token", "anonymous"]


@pytest.fixture
def orders(db):
    return TeamFactory(slug="team-orders", name="Orders")


@pytest.fixture
def payments(db):
    return TeamFactory(slug="team-payments", name="Payments")


@pytest.fixture
def people(orders, payments):
    maintainer = MembershipFactory(team=orders, user=UserFactory(username="max"), role=Role.MAINTAINER).user
    return {
        "viewer": MembershipFactory(team=orders, user=UserFactory(username="vera"), role=Role.VIEWER).user,
        "maintainer": maintainer,
        "outsider": MembershipFactory(team=payments, user=UserFactory(username="otto"), role=Role.MAINTAINER).user,
        "portal_admin": UserFactory(username="root", is_superuser=True, is_staff=True),
        # The orders maintainer, through a token that may only read.
        "read_token": maintainer,
        "anonymous": None,
    }


@pytest.fixture
def api_as(people):
    """An API client for one of ROLES: a read+write token for people, a read-only one for read_token."""

    def make(who: str) -> APIClient:
        client = APIClient()
        if people[who] is not None:
            scopes = ["read"] if who == "read_token" else ["read", "write"]
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(people[who], scopes=scopes)[1]}")
        return client

    return make


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
    if kind == "Group":
        body["spec"] = {"type": "team", "children": [], **body.get("spec", {})}
    return body


@pytest.fixture
def put(db):
    """Write an entity from its document, with the indexed copies, tags and relations the catalog keeps."""

    def write(doc: dict) -> Entity:
        meta, spec = doc["metadata"], doc.get("spec") or {}
        kind, namespace, name = doc["kind"], meta.get("namespace", "default"), meta["name"]
        owner = parse_ref(spec["owner"], default_kind="Group") if spec.get("owner") else None
        system = parse_ref(spec["system"], default_kind="System") if spec.get("system") else None
        team = None
        if owner and owner.kind.lower() == "group" and owner.namespace == "default":
            team = Team.objects.filter(slug=owner.name).first()
        entity = Entity.objects.create(
            uid=uuid.uuid4(),
            api_version=doc["apiVersion"],
            kind=kind,
            namespace=namespace,
            name=name,
            ref_key=f"{kind}:{namespace}/{name}".lower(),
            kind_key=kind.lower(),
            title=meta.get("title", ""),
            description=meta.get("description", ""),
            spec_type=spec.get("type", "") if isinstance(spec.get("type"), str) else "",
            lifecycle=spec.get("lifecycle", ""),
            owner_key=owner.key if owner else "",
            system_key=system.key if system else "",
            owner_team=team,
            search_text=" ".join([name, meta.get("title", ""), meta.get("description", ""), *meta.get("tags", [])]),
            document=doc,
            etag=hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:40],
        )
        EntityTag.objects.bulk_create(EntityTag(entity=entity, tag=tag) for tag in meta.get("tags", []))
        for rule in fields_for_kind(kind):
            value = spec.get(rule.field)
            for ref in [value] if isinstance(value, str) else value or []:
                key = parse_ref(ref, default_kind=rule.default_kind, default_namespace=namespace).key
                target = Entity.objects.filter(ref_key=key).first()
                Relation.objects.create(source=entity, type=rule.type, target_key=key, target=target)
        Relation.objects.filter(target_key=entity.ref_key, target=None).update(target=entity)
        return entity

    return write
