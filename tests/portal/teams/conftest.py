"""Two teams and one person per role. `outsider` is an admin of ANOTHER team (payments), for BOLA checks."""

import pytest

from portal.models import Role
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def viewer(orders):
    return MembershipFactory(team=orders, user=UserFactory(username="vera"), role=Role.VIEWER).user


@pytest.fixture
def maintainer(orders):
    return MembershipFactory(team=orders, user=UserFactory(username="max"), role=Role.MAINTAINER).user


@pytest.fixture
def team_admin(orders):
    return MembershipFactory(team=orders, user=UserFactory(username="ada"), role=Role.ADMIN).user


@pytest.fixture
def portal_admin(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def outsider(payments):
    return MembershipFactory(team=payments, user=UserFactory(username="otto"), role=Role.ADMIN).user


@pytest.fixture
def people(viewer, maintainer, team_admin, portal_admin, outsider):
    return {
        "viewer": viewer,
        "maintainer": maintainer,
        "team_admin": team_admin,
        "portal_admin": portal_admin,
        "outsider": outsider,
        "anonymous": None,
    }
