"""Writes to teams and memberships. Each one checks permission, validates, and records an audit event.

Who may do what (see portal.permissions): portal admins create teams; admins of a team (and portal
admins) change it and its members. A system actor (a management command, the SSO group sync) acts with
the authority of whoever could run it, so it is not checked.

Every team is created here (the admin, `demo_users`, a catalog Group's import), so `team_created`
(portal.teams.signals) reaches the apps for every one of them.

A team always keeps at least one admin once it has one: removing or demoting the last admin is refused,
because nobody but a portal admin could manage the team afterwards.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from audit.services import audit_record, snapshot
from portal.actors import Actor
from portal.models import Membership, Role, Team, User
from portal.permissions import MANAGE, can
from portal.teams.signals import team_created


class LastAdminError(ValidationError):
    """The change would leave a team without an admin."""


def _ensure_may_manage(actor: Actor, team: Team | None) -> None:
    if actor.kind == "system":
        return
    if not can(actor.user, MANAGE, team, token=actor.token):
        what = f"team {team.slug}" if team is not None else "teams"
        raise PermissionDenied(f"{actor.label} may not manage {what}.")


def _lock_team(team: Team) -> Team:
    # Every membership change of a team takes this row lock first, so two admins demoting each other
    # at the same moment cannot both pass the last-admin check.
    return Team.objects.select_for_update().get(pk=team.pk)


def _refuse_losing_last_admin(membership: Membership) -> None:
    if membership.role != Role.ADMIN:
        return
    others = Membership.objects.filter(team_id=membership.team_id, role=Role.ADMIN).exclude(pk=membership.pk)
    if not others.exists():
        raise LastAdminError(
            f"{membership.user.username} is the last admin of {membership.team.name}; "
            "make another member admin first, so that someone can still manage the team.",
            code="last_admin",
        )


def _team_snapshot(team: Team) -> dict:
    return snapshot(team, fields=["slug", "name", "description"])


def _membership_snapshot(membership: Membership) -> dict:
    return {"team": membership.team.slug, "user": membership.user.username, "role": membership.role}


@transaction.atomic
def team_create(*, actor: Actor, slug: str, name: str, description: str = "") -> Team:
    _ensure_may_manage(actor, None)
    team = Team(slug=slug, name=name, description=description)
    team.full_clean()
    team.save()
    audit_record(actor=actor, action="team.create", target=team, before=None, after=_team_snapshot(team))
    # In the transaction: what other apps attach to a new team commits with it (portal.teams.signals).
    team_created.send(sender=Team, team=team, actor=actor)
    return team


@transaction.atomic
def team_update(*, actor: Actor, team: Team, name: str | None = None, description: str | None = None) -> Team:
    """Change a team's name or description. The slug is its identity (URLs, catalog owners) and stays."""
    _ensure_may_manage(actor, team)
    team = _lock_team(team)
    before = _team_snapshot(team)
    changed = []
    if name is not None and name != team.name:
        team.name = name
        changed.append("name")
    if description is not None and description != team.description:
        team.description = description
        changed.append("description")
    if not changed:
        return team
    team.full_clean()
    team.save(update_fields=changed)
    audit_record(actor=actor, action="team.update", target=team, before=before, after=_team_snapshot(team))
    return team


@transaction.atomic
def membership_add(*, actor: Actor, team: Team, user: User, role: str = Role.VIEWER) -> Membership:
    _ensure_may_manage(actor, team)
    team = _lock_team(team)
    if Membership.objects.filter(team=team, user=user).exists():
        raise ValidationError(f"{user.username} is already a member of {team.name}.", code="already_member")
    membership = Membership(team=team, user=user, role=role)
    membership.full_clean()
    membership.save()
    audit_record(
        actor=actor, action="membership.add", target=membership, before=None, after=_membership_snapshot(membership)
    )
    return membership


@transaction.atomic
def membership_change_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    _ensure_may_manage(actor, membership.team)
    _lock_team(membership.team)
    membership = Membership.objects.select_related("team", "user").get(pk=membership.pk)
    if role not in Role.values:
        raise ValidationError(f"{role!r} is not a role; choose one of {', '.join(Role.values)}.", code="invalid_role")
    if role == membership.role:
        return membership
    if role != Role.ADMIN:
        _refuse_losing_last_admin(membership)
    before = _membership_snapshot(membership)
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="membership.change_role",
        target=membership,
        before=before,
        after=_membership_snapshot(membership),
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership: Membership) -> None:
    _ensure_may_manage(actor, membership.team)
    _lock_team(membership.team)
    membership = Membership.objects.select_related("team", "user").get(pk=membership.pk)
    _refuse_losing_last_admin(membership)
    # Recorded before the delete, while the membership still has its id for the event's target.
    audit_record(
        actor=actor, action="membership.remove", target=membership, before=_membership_snapshot(membership), after=None
    )
    membership.delete()
