"""A small commerce estate for the catalog's browser journeys, written through the catalog's own services."""

from catalog import services
from portal.actors import Actor
from portal.models import Membership, Role, Team, User

PASSWORD = "correct-horse-42"

ORDERS_OPENAPI = """openapi: 3.0.3
info:
  title: Orders API
  version: 1.0.0
paths:
  /orders:
    post:
      summary: Place an order
      responses:
        '201': {description: Created}
  /orders/{orderId}:
    get:
      summary: Get an order
      parameters:
        - {name: orderId, in: path, required: true, schema: {type: string}}
      responses:
        '200': {description: OK}
"""


def _doc(kind: str, name: str, *, metadata=None, **spec) -> dict:
    body = {"apiVersion": "backstage.io/v1alpha1", "kind": kind, "metadata": {"name": name, **(metadata or {})}}
    body["spec"] = spec
    return body


def person(username: str, team: Team | None = None, role: str = Role.MAINTAINER) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD)
    if team is not None:
        Membership.objects.create(user=user, team=team, role=role)
    return user


def build() -> dict:
    """Teams orders and payments, and: orders-api (provides the orders API, depends on order-saga and a table),
    order-saga, storefront (payments' website consuming the orders API), and a few more to search through."""
    orders = Team.objects.create(slug="team-orders", name="Orders")
    payments = Team.objects.create(slug="team-payments", name="Payments")
    actor = Actor.for_system("e2e")
    common = {"lifecycle": "production", "system": "commerce"}
    documents = [
        _doc("Group", "team-orders", type="team", children=[]),
        _doc("Group", "team-payments", type="team", children=[]),
        _doc("System", "commerce", owner="group:team-orders"),
        _doc(
            "API",
            "orders",
            metadata={"title": "Orders API"},
            type="openapi",
            owner="team-orders",
            definition=ORDERS_OPENAPI,
            **common,
        ),
        _doc(
            "Component",
            "order-saga",
            metadata={"description": "Runs the order saga with compensations."},
            type="service",
            owner="team-orders",
            **common,
        ),
        _doc("Resource", "orders-table", type="dynamodb-table", owner="team-orders", **common),
        _doc(
            "Component",
            "orders-api",
            metadata={"description": "Takes and tracks customer orders.", "tags": ["ecs-fargate"]},
            type="service",
            owner="team-orders",
            providesApis=["orders"],
            dependsOn=["component:order-saga", "resource:orders-table"],
            **common,
        ),
        _doc(
            "Component",
            "storefront",
            metadata={"description": "The shop's website."},
            type="website",
            owner="team-payments",
            consumesApis=["orders"],
            **common,
        ),
        _doc(
            "Component",
            "payments-gateway",
            metadata={"description": "Card payments."},
            type="service",
            owner="team-payments",
            **common,
        ),
    ]
    entities = {doc["metadata"]["name"]: services.entity_create(actor=actor, document=doc) for doc in documents}
    return {"orders": orders, "payments": payments, "entities": entities}
