"""Factories shared by the whole suite: people, teams and API tokens (made by the real service)."""

from datetime import timedelta

import factory
from django.utils import timezone

from portal.actors import Actor
from portal.models import ApiToken, Membership, Role, Team, User
from portal.tokens.services import token_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-42")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.Sequence(lambda n: f"Team {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Role.VIEWER


def make_token(user, *, scopes=("read",), name="ci", days=30) -> tuple[ApiToken, str]:
    """A token made the way people make them; returns (row, the secret shown once)."""
    return token_create(actor=Actor(user=user), user=user, name=name, scopes=list(scopes), expires_in_days=days)


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def expire(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
