"""Every operation of the OpenAPI schema, fuzzed by schemathesis against the app in process.

A few derandomized examples per operation (so a run is repeatable), sent by a portal admin's read+write+deploy
token to the WSGI app on the test database, over a small catalog. A 5xx, a status code the schema does not
list for the operation, or a body that breaks the operation's response schema fails the test.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

import portal.api.schema  # noqa: F401 - registers the schema extensions before the schema is generated
from catalog.services import entity_create
from portal.actors import Actor
from portal.models import Membership, Role, User
from portal.wsgi import application
from tests.catalog.conftest import document
from tests.factories import TeamFactory, UserFactory, make_token

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))

# Not positive_data_acceptance: a document can fit the schema and break Backstage's rules (a 400 is right).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def catalog(db):
    """A team, its Group, a system with a component and an API, and the portal admin who may do everything."""
    team = TeamFactory(slug="team-orders", name="Orders")
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    Membership.objects.create(user=admin, team=team, role=Role.ADMIN)
    system = Actor.for_system("tests")
    for doc in (
        document("Group", "team-orders"),
        document("System", "shop", owner="group:default/team-orders"),
        document(
            "Component",
            "orders-api",
            type="service",
            lifecycle="production",
            owner="group:default/team-orders",
            system="system:default/shop",
            providesApis=["api:default/orders"],
        ),
        document("API", "orders", type="openapi", lifecycle="production", owner="group:default/team-orders"),
    ):
        entity_create(actor=system, document=doc)
    return admin


@pytest.fixture
def app_on_the_test_database():
    """The WSGI app, without closing the connection after each request (as Django's test client does), since
    the connection holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_conforms_to_the_schema(case, catalog, app_on_the_test_database):
    admin = User.objects.get(pk=catalog.pk)
    _, secret = make_token(admin, scopes=["read", "write", "deploy"])
    case.call_and_validate(app=app_on_the_test_database, headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)
