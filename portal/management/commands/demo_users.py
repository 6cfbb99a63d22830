"""Create the demo users for `make run`, and print their credentials.

Idempotent: users, teams and memberships are created when missing and put back in shape when they
drifted; the passwords are reset to the printed ones on every run, so the table always works. Any
lock-out from failed sign-ins of these users is lifted too. Refused in production.
"""

from dataclasses import dataclass

from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from audit.services import audit_record
from portal.actors import Actor
from portal.models import Membership, Role, Team, User
from portal.teams import services

DEMO_PASSWORD = "meridian-demo"  # noqa: S105 - a published demo password, refused in production below

# The demo estate's teams (sandbox) and who is in them.
DEMO_TEAMS = [("team-orders", "Orders"), ("team-payments", "Payments"), ("team-platform", "Platform")]


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    team_slug: str = ""
    role: str = ""
    portal_admin: bool = False


def demo_users() -> list[DemoUser]:
    users = [DemoUser("admin", "Admin", portal_admin=True)]
    for slug, name in DEMO_TEAMS:
        short = slug.removeprefix("team-")
        users.append(DemoUser(f"{short}-maintainer", f"{name} maintainer", slug, Role.MAINTAINER))
        users.append(DemoUser(f"{short}-viewer", f"{name} viewer", slug, Role.VIEWER))
    return users


class Command(BaseCommand):
    help = "Create (or reset) the demo users and print their credentials. Local demo only."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEMO_PASSWORD, help=f"password for every demo user ({DEMO_PASSWORD})")

    def handle(self, *args, password, **options):
        if settings.PRODUCTION:
            raise CommandError("demo_users creates users with a published password; it does not run in production.")
        actor = Actor.for_system("command:demo_users")
        with transaction.atomic():
            teams = self._teams(actor)
            for demo in demo_users():
                user = self._user(actor, demo, password)
                if demo.team_slug:
                    self._membership(actor, teams[demo.team_slug], user, demo.role)
        for demo in demo_users():
            axes_reset(username=demo.username)
        self._print(password)

    def _teams(self, actor: Actor) -> dict[str, Team]:
        existing = {team.slug: team for team in Team.objects.filter(slug__in=[slug for slug, _ in DEMO_TEAMS])}
        for slug, name in DEMO_TEAMS:
            if slug not in existing:
                existing[slug] = services.team_create(actor=actor, slug=slug, name=name)
        return existing

    def _user(self, actor: Actor, demo: DemoUser, password: str) -> User:
        user = User.objects.filter(username=demo.username).first()
        created = user is None
        if created:
            user = User(username=demo.username, email=f"{demo.username}@meridian.example")
        user.first_name = demo.first_name
        user.is_active = True
        user.is_superuser = user.is_staff = demo.portal_admin
        user.set_password(password)
        user.full_clean()
        if created:
            user.save()
        else:
            user.save(update_fields=["first_name", "is_active", "is_superuser", "is_staff", "password"])
        state = {"username": user.username, "portal_admin": demo.portal_admin}
        audit_record(
            actor=actor,
            action="user.create" if created else "user.demo_reset",
            target=user,
            before=None if created else state,
            after=state,
        )
        return user

    def _membership(self, actor: Actor, team: Team, user: User, role: str) -> None:
        membership = Membership.objects.filter(team=team, user=user).select_related("team", "user").first()
        if membership is None:
            services.membership_add(actor=actor, team=team, user=user, role=role)
        elif membership.role != role:
            try:
                services.membership_change_role(actor=actor, membership=membership, role=role)
            except services.LastAdminError as error:
                # Someone made this demo user the team's only admin; taking that away would orphan the team.
                self.stderr.write(f"Kept {user.username} as admin: {' '.join(error.messages)}")

    def _print(self, password: str) -> None:
        rows = [("Username", "Password", "Role")]
        for demo in demo_users():
            role = "portal admin" if demo.portal_admin else f"{demo.role} of {demo.team_slug}"
            rows.append((demo.username, password, role))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        out = ["Demo users (demo only: published passwords, never use them on a shared host)", line]
        for i, row in enumerate(rows):
            out.append("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")
            if i == 0:
                out.append(line)
        out.append(line)
        self.stdout.write("\n".join(out))
