"""Team pages: everyone signed in may look; team admins and portal admins change the members.

The page is the team's header and its panels (portal.teams.panels: the members section, and what other
apps register). The member forms are plain POST forms that redirect back to the team page; sent by htmx,
the same views answer with the members table alone, for an in-place update.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from portal.actors import Actor
from portal.models import Team
from portal.permissions import MANAGE, can
from portal.teams import selectors, services
from portal.teams.forms import MemberAddForm, RoleForm
from portal.teams.panels import members_context, team_panels


@require_GET
def team_list(request):
    return render(request, "teams/list.html", {"teams": selectors.team_list(user=request.user)})


@require_GET
def team_detail(request, slug):
    team = selectors.team_detail(slug=slug, user=request.user)
    panels = [(panel.template, panel.context(request, team)) for panel in team_panels()]
    return render(request, "teams/detail.html", {"team": team, "panels": panels})


def _team_to_manage(request, slug) -> Team:
    team = get_object_or_404(Team, slug=slug)
    if not can(request.user, MANAGE, team):
        raise PermissionDenied(f"Only admins of {team.name} may change its members.")
    return team


def _first_error(error: ValidationError) -> str:
    return " ".join(error.messages)


def _respond(request, slug, *, success: str = "", error: str = ""):
    if request.htmx:
        team = selectors.team_detail(slug=slug, user=request.user)
        context = {"team": team, **members_context(request, team), "success": success, "error": error}
        # 200 even for a refusal: htmx swaps only successful responses, and the alert is in the partial.
        return render(request, "teams/_members.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, success)
    return redirect("teams:detail", slug=slug)


@require_POST
def member_add(request, slug):
    team = _team_to_manage(request, slug)
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        problems = [
            f"{form.fields[field].label or field.title()}: {' '.join(errors)}" for field, errors in form.errors.items()
        ]
        return _respond(request, slug, error=" ".join(problems))
    user = form.cleaned_data["username"]
    try:
        services.membership_add(actor=Actor.from_request(request), team=team, user=user, role=form.cleaned_data["role"])
    except ValidationError as error:
        return _respond(request, slug, error=_first_error(error))
    return _respond(request, slug, success=f"Added {user.username} as {form.cleaned_data['role']}.")


@require_POST
def member_role(request, slug, username):
    team = _team_to_manage(request, slug)
    membership = selectors.membership_get(team=team, username=username)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _respond(request, slug, error="Choose a role: viewer, maintainer or admin.")
    try:
        services.membership_change_role(
            actor=Actor.from_request(request), membership=membership, role=form.cleaned_data["role"]
        )
    except ValidationError as error:
        return _respond(request, slug, error=_first_error(error))
    return _respond(request, slug, success=f"{username} is now {form.cleaned_data['role']}.")


@require_POST
def member_remove(request, slug, username):
    team = _team_to_manage(request, slug)
    membership = selectors.membership_get(team=team, username=username)
    try:
        services.membership_remove(actor=Actor.from_request(request), membership=membership)
    except ValidationError as error:
        return _respond(request, slug, error=_first_error(error))
    return _respond(request, slug, success=f"Removed {username} from {team.name}.")
