"""People in two teams and an API client per role (entities: tests/catalog/conftest.py).

`outsider` maintains ANOTHER team (payments), for Broken Object Level Authorization checks.
"""

import pytest
from rest_framework.test import APIClient

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
