"""Saga pages: the Sagas tab of entity pages, one execution's timeline, and two actions (sync now, acknowledge).

Every signed-in person may read them (LoginRequiredMiddleware sends anonymous visitors to sign in);
the actions need a maintainer of the team that owns the saga (portal.permissions). Pages read the
database only: what the last sync stored, when it ran, and its error if AWS failed.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Entity
from catalog.tabs import EntityTab
from observability import saga_selectors as selectors
from observability import saga_services as services
from observability import sagas
from observability.models import SagaAlert, SagaStateMachine
from observability.saga_charts import LABELS, OUTCOME_COLOURS, outcomes_figure, timeline_figure
from observability.saga_selectors import sagas_tab_url
from portal.actors import Actor
from portal.permissions import CHANGE, can

EXECUTIONS_PER_PAGE = 25
SCRIPTS = ("vendor/plotly/plotly.min.js", "observability/charts.js")


def _tab_url(entity: Entity) -> str:
    return sagas_tab_url(entity)


def _home(machine: SagaStateMachine) -> Entity | None:
    """The entity whose Sagas tab shows this saga: its Component when that has the tab, else its Resource."""
    for entity in (machine.component, machine.resource):
        if entity is not None and sagas.has_sagas_tab(entity):
            return entity
    return None


def sagas_context(request: HttpRequest, entity: Entity) -> dict:
    machines = selectors.entity_sagas(entity)
    wanted = request.GET.get("saga", "")
    machine = next((m for m in machines if str(m.pk) == wanted), None) or next(iter(machines), None)
    context = {
        "machines": machines,
        "machine": machine,
        "range_choices": list(selectors.RANGE_LABELS.items()),
        "outcome_choices": [(o, LABELS[o]) for o in selectors.OUTCOME_ORDER],
        "params": request.GET,
        "tab_url": _tab_url(entity),
        "may_sync": machine is not None and can(request.user, CHANGE, machine),
    }
    if machine is None or not machine.is_saga:
        return context
    try:
        window = selectors.saga_window(request.GET.get("range"))
    except selectors.SagaRangeError as error:
        context.update(range_error=str(error), tab_status=400)
        window = selectors.saga_window(None)
    outcome = request.GET.get("outcome", "")
    if outcome and outcome not in LABELS:
        context.update(outcome_error=f"Unknown outcome {outcome[:30]!r}; showing every outcome.", tab_status=400)
        outcome = ""
    series = selectors.outcome_series(machine, window)
    page = Paginator(selectors.saga_executions(machine, window=window, outcome=outcome), EXECUTIONS_PER_PAGE)
    context.update(
        window=window,
        outcome=outcome,
        series=series,
        totals=[
            {"outcome": o, "label": LABELS[o], "count": series.totals.get(o, 0), "colour": OUTCOME_COLOURS[o]}
            for o in selectors.OUTCOME_ORDER
            if series.totals.get(o) or o in (selectors.Outcome.COMMITTED, selectors.Outcome.COMPENSATED)
        ],
        figure=outcomes_figure(series),
        executions=page.get_page(request.GET.get("page")),
        alerts=selectors.saga_alerts(machine),
        may_acknowledge=context["may_sync"],
        stuck_after=services.human_duration(services.stuck_after(machine)),
    )
    return context


def sagas_tab() -> EntityTab:
    return EntityTab(
        slug="sagas",
        label="Sagas",
        icon="bi-arrow-repeat",
        order=45,
        template="observability/tabs/sagas.html",
        context=sagas_context,
        applies=sagas.has_sagas_tab,
        scripts=SCRIPTS,
    )


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
        "observability/saga_execution.html",
        {
            "execution": execution,
            "machine": machine,
            "entity": entity,
            "tab_url": f"{_tab_url(entity)}?saga={machine.pk}" if entity else "",
            "figure": timeline_figure(execution, now=now),
            "running_for": now - execution.started_at if execution.status == "RUNNING" else None,
            "alerts": list(execution.alerts.select_related("acknowledged_by").order_by("-raised_at")),
            "may_acknowledge": can(request.user, CHANGE, machine),
            "tab_scripts": SCRIPTS,
        },
    )


def _back(request, machine: SagaStateMachine) -> str:
    entity = _home(machine)
    fallback = f"{_tab_url(entity)}?saga={machine.pk}" if entity else reverse("observability:index")
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else fallback


@require_POST
def saga_sync_request(request, pk: int):
    machine = get_object_or_404(SagaStateMachine.objects.select_related("component", "resource"), pk=pk)
    if not can(request.user, CHANGE, machine):
        raise PermissionDenied("Only maintainers of the team that owns this saga may ask for a sync.")
    services.saga_sync_request(actor=Actor.from_request(request), machine=machine)
    messages.success(request, f"A sync of {machine.name} is on its way; this page shows its result when it is done.")
    return redirect(_back(request, machine))


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
