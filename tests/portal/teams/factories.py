import factory
from django.utils import timezone

from portal.models import ApiToken, Membership, Role, Team, User
from portal.models.tokens import generate_token


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


def api_token(user: User, scopes: list[str]) -> str:
    """Create a token for `user` and return its full value for an Authorization header."""
    full, prefix, key_hash = generate_token()
    ApiToken.objects.create(
        user=user,
        name="test",
        prefix=prefix,
        key_hash=key_hash,
        scopes=scopes,
        expires_at=timezone.now() + timezone.timedelta(days=1),
    )
    return full
