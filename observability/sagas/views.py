"""Saga pages: one execution's timeline, two actions (sync now, acknowledge) and the status of a sync asked for;
the Sagas tab is in tabs.py.

Every signed-in person may read them (LoginRequiredMiddleware sends anonymous visitors to sign in);
the actions need a maintainer of the team that owns the saga (portal.permissions). Pages read the
database only: what the last sync stored, when it ran, and its error if AWS failed.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Entity
from observability.models import SagaAlert, SagaStateMachine
from observability.sagas import selectors, services
from observability.sagas.charts import timeline_figure
from observability.sagas.marking import has_sagas_tab
from observability.sagas.selectors import sagas_tab_url
from observability.sagas.sync_status import SYNC_REQUESTED_PARAM, SYNC_WAIT, sync_requested_at
from observability.sagas.tabs import SCRIPTS
from portal.actors import Actor
from portal.permissions import CHANGE, can


def _home(machine: SagaStateMachine) -> Entity | None:
    """The entity whose Sagas tab shows this saga: its Component when that has the tab, else its Resource."""
    for entity in (machine.component, machine.resource):
        if entity is not None and has_sagas_tab(entity):
            return entity
    return None


@require_GET
def saga_execution(request, pk: int):
    execution = selectors.saga_execution(pk)
    if execution is None:
        raise Http404("No such saga execution (it may be older than the portal keeps).")
    machine = execution.state_machine
    entity = _home(machine)
    now = timezone.now()
    return render(
        request,
        "observability/sagas/execution.html",
        {
            "execution": execution,
            "machine": machine,
            "entity": entity,
            "tab_url": f"{sagas_tab_url(entity)}?saga={machine.pk}" if entity else "",
            "figure": timeline_figure(execution, now=now),
            "running_for": now - execution.started_at if execution.status == "RUNNING" else None,
            "alerts": list(execution.alerts.select_related("acknowledged_by").order_by("-raised_at")),
            "may_acknowledge": can(request.user, CHANGE, machine),
            "tab_scripts": SCRIPTS,
        },
    )


def _back(request, machine: SagaStateMachine) -> str:
    entity = _home(machine)
    fallback = f"{sagas_tab_url(entity)}?saga={machine.pk}" if entity else reverse("observability:index")
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else fallback


@require_POST
def saga_sync_request(request, pk: int):
    machine = get_object_or_404(SagaStateMachine.objects.select_related("component", "resource"), pk=pk)
    if not can(request.user, CHANGE, machine):
        raise PermissionDenied("Only maintainers of the team that owns this saga may ask for a sync.")
    services.saga_sync_request(actor=Actor.from_request(request), machine=machine)
    messages.success(request, f"A sync of {machine.name} is on its way; this page shows its result when it is done.")
    # The tab polls the sync's status from this moment (saga_sync_status) and reloads once a sync has finished.
    back = urlsplit(_back(request, machine))
    query = urlencode([*parse_qsl(back.query), (SYNC_REQUESTED_PARAM, f"{timezone.now().timestamp():.3f}")])
    return redirect(urlunsplit(back._replace(query=query)))


@require_GET
def saga_sync_status(request, pk: int):
    """The small fragment the Sagas tab polls after "Sync now": still syncing, or done (HX-Refresh reloads the
    tab, which then shows what the sync found). It stops polling after SYNC_WAIT, when no worker took the sync."""
    machine = get_object_or_404(SagaStateMachine.objects.only("id", "name", "status", "finished_at"), pk=pk)
    requested = sync_requested_at(request.GET)
    if requested is None:
        raise Http404("Which sync? The status needs the time it was asked for.")
    done = machine.finished_at is not None and machine.finished_at >= requested
    waited_too_long = not done and timezone.now() - requested > SYNC_WAIT
    response = render(
        request,
        "observability/sagas/_sync_status.html",
        {"machine": machine, "done": done, "waited_too_long": waited_too_long, "poll_url": request.get_full_path()},
    )
    if done:
        response["HX-Refresh"] = "true"
    return response


@require_POST
def saga_alert_acknowledge(request, pk: int):
    alert = get_object_or_404(
        SagaAlert.objects.select_related("state_machine__component", "state_machine__resource"), pk=pk
    )
    if not can(request.user, CHANGE, alert):
        raise PermissionDenied("Only maintainers of the team that owns this saga may acknowledge its alerts.")
    services.saga_alert_acknowledge(actor=Actor.from_request(request), alert=alert)
    messages.success(request, "Alert acknowledged.")
    return redirect(_back(request, alert.state_machine))
