"""People in two teams, an API client per role, and entities written the way the catalog writes them.

`outsider` maintains ANOTHER team (payments), for Broken Object Level Authorization checks.
"""

import pytest
from rest_framework.test import APIClient

from catalog.models import Entity
from catalog.services import entity_create
from portal.actors import Actor
from portal.models import Role
from tests.factories import MembershipFactory, UserFactory, make_token

ROLES = ["viewer", "maintainer", "outsider", "portal_admin", "read_token", "anonymous"]


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
