from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Role(models.TextChoices):
    """A member's role in a team, from least to most trusted."""

    VIEWER = "viewer", "Viewer"
    MAINTAINER = "maintainer", "Maintainer"
    ADMIN = "admin", "Admin"

    @classmethod
    def rank(cls, role: str) -> int:
        return [cls.VIEWER, cls.MAINTAINER, cls.ADMIN].index(role)


class Team(models.Model):
    """A team that owns services. The catalog shows it as a Group entity."""

    slug = models.SlugField(max_length=63, unique=True, help_text="Backstage-style name, e.g. team-orders.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        constraints = [models.UniqueConstraint(Lower("slug"), name="team_slug_ci_unique")]

    def __str__(self):
        return self.name

    @property
    def owning_team_id(self):
        # A team is owned by itself: its admins manage it (see portal.permissions).
        return self.pk


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__slug", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="membership_user_team_unique")]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"
