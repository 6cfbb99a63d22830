"""An upload imported for a person (the import page and POST /api/v1/entities/import): all or nothing.

Every entity the upload creates, changes or orphans must belong, before and after, to a team the person
maintains; otherwise nothing is written, audit events included. Portal admins may import anything.
"""

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower

from catalog.importing.importer import import_upload
from catalog.importing.report import ImportReport
from catalog.models import Entity, Location
from catalog.refs import DEFAULT_NAMESPACE
from portal.models import Role, Team
from portal.permissions import team_ids_with_role


def may_import(user) -> bool:
    """Portal admins, and people who maintain at least one team: asked before an upload is read at all."""
    return user.is_authenticated and (user.is_portal_admin or bool(team_ids_with_role(user, Role.MAINTAINER)))


def import_upload_for(
    *, actor, name: str, content: bytes, force: bool = False, atomic: bool = False
) -> tuple[ImportReport, list[str]]:
    """Import as `actor.user`; returns the report and the refs refused (empty when the import stands)."""
    with transaction.atomic():
        # What an upload of this name may change or orphan: its own earlier entities, and those of no location.
        before = dict(
            Entity.objects.filter(
                Q(location__type=Location.Type.UPLOAD, location__target=name) | Q(location__isnull=True)
            ).values_list("ref_key", "owner_team_id")
        )
        # A Group of namespace default belongs to the Team of its name as it was before this import: one that
        # makes a new Team is a portal admin's to import (catalog.models.Entity.owning_team_id).
        teams_before = dict(Team.objects.annotate(slug_key=Lower("slug")).values_list("slug_key", "pk"))
        report = import_upload(actor=actor, name=name, content=content, force=force, atomic=atomic)
        refused = _refused(actor.user, report, before, teams_before)
        if refused:
            transaction.set_rollback(True)
    return report, refused


_TEAM_GROUP = f"group:{DEFAULT_NAMESPACE}/"


def _refused(user, report: ImportReport, before: dict[str, int | None], teams_before: dict[str, int]) -> list[str]:
    if user.is_portal_admin:
        return []
    touched = {
        ref.lower()
        for location in report.locations
        for name in ("created", "updated", "orphaned")
        for ref in getattr(location, name)
    }
    if not touched:
        return []
    after = dict(Entity.objects.filter(ref_key__in=touched).values_list("ref_key", "owner_team_id"))
    for ref in touched:
        if ref.startswith(_TEAM_GROUP):
            after[ref] = before[ref] = teams_before.get(ref.removeprefix(_TEAM_GROUP))
    maintained = set(team_ids_with_role(user, Role.MAINTAINER))
    return sorted(
        ref for ref in touched if after.get(ref) not in maintained or (ref in before and before[ref] not in maintained)
    )
