"""The Sagas tab of entity pages (registered in catalog.tabs from ObservabilityConfig.ready): a saga's
executions per outcome over time, the list of them, and its open alerts. It reads the database only."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.urls import reverse

from catalog.models import Entity
from catalog.tabs import EntityTab
from observability.sagas import selectors, services
from observability.sagas.charts import LABELS, OUTCOME_COLOURS, outcomes_figure
from observability.sagas.marking import has_sagas_tab
from observability.sagas.selectors import sagas_tab_url
from observability.sagas.sync_status import SYNC_REQUESTED_PARAM, sync_requested_at
from observability.timeranges import SAGA_RANGES
from portal.permissions import CHANGE, can

EXECUTIONS_PER_PAGE = 25
SCRIPTS = ("vendor/plotly/plotly.min.js", "observability/charts.js")


def sagas_context(request: HttpRequest, entity: Entity) -> dict:
    machines = selectors.entity_sagas(entity)
    wanted = request.GET.get("saga", "")
    machine = next((m for m in machines if str(m.pk) == wanted), None) or next(iter(machines), None)
    context = {
        "machines": machines,
        "machine": machine,
        "range_choices": SAGA_RANGES.choices(),
        "outcome_choices": [(o, LABELS[o]) for o in selectors.OUTCOME_ORDER],
        "params": request.GET,
        "tab_url": sagas_tab_url(entity),
        "may_sync": machine is not None and can(request.user, CHANGE, machine),
        "sync_status_url": _sync_status_url(request, machine),
    }
    if machine is None or not machine.is_saga:
        return context
    window, range_error = SAGA_RANGES.read(request.GET)
    if range_error:
        context.update(range_error=range_error, tab_status=400)
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


def _sync_status_url(request: HttpRequest, machine) -> str:
    """Where the tab polls the status of the sync just asked for ("" when none was)."""
    if machine is None or sync_requested_at(request.GET) is None:
        return ""
    query = urlencode({SYNC_REQUESTED_PARAM: request.GET[SYNC_REQUESTED_PARAM]})
    return f"{reverse('observability:saga_sync_status', args=[machine.pk])}?{query}"


def sagas_tab() -> EntityTab:
    return EntityTab(
        slug="sagas",
        label="Sagas",
        icon="bi-arrow-repeat",
        order=45,
        template="observability/sagas/entity_tab.html",
        context=sagas_context,
        applies=has_sagas_tab,
        scripts=SCRIPTS,
    )
