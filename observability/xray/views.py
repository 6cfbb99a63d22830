"""The X-Ray pages: service maps (estate, system, team), the trace list, one trace, and the entity overview's
notice. Every signed-in person may read them (LoginRequiredMiddleware sends anonymous visitors to sign in).

They read X-Ray through observability.xray.service_map and observability.xray.traces, which cache answers, use
short timeouts and fall back to the last good answer: AWS trouble shows as a notice, never as an error
page. Bad input (a time range, a filter expression X-Ray refuses) is a 400 with the reason on the form.
"""

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from catalog import selectors as catalog_selectors
from catalog.models import Entity
from catalog.refs import RefError
from observability.timeranges import XRAY_RANGES, Window
from observability.xray.declared import compare
from observability.xray.formatting import count_text, duration_text, share_text
from observability.xray.service_map import (
    HEALTH_COLOURS,
    HEALTH_LABELS,
    HEALTH_ORDER,
    ServiceMap,
    Traffic,
    entity_scope,
    estate_scope,
    narrowed,
    service_map,
    system_scope,
    team_scope,
)
from observability.xray.service_map_figure import service_map_figure
from observability.xray.trace_waterfall import waterfall, waterfall_figure
from observability.xray.traces import (
    TRACE_ID,
    Source,
    TraceQueryError,
    choose_source,
    clean_expression,
    trace_detail,
    trace_list,
    trace_sources,
)
from portal.models import Team

MAX_PAGE_TOKEN = 2000
FILTER_EXAMPLES = (
    'service("orders-api") AND fault',
    'service("payments-api") { fault }',
    'edge("orders-api", "payments-api") { responsetime > 1 }',
    'annotation.order_id = "o-42"',
    "http.status = 502",
)


def traces_url(account_name: str, region: str, expression: str, window: Window, *, base: str = "") -> str:
    params = {"account": account_name, "region": region, "filter": expression}
    return f"{base or reverse('observability:xray_traces')}?{urlencode(params)}&{window.query()}"


def traffic_cells(traffic: Traffic) -> list[str]:
    """Calls, faults, errors, throttles, p50, p99 as the tables show them (formatted here: a 60-service map has
    170 rows, and six template filters a row cost more than the rest of the page)."""
    return [
        count_text(traffic.requests),
        share_text(traffic.fault_rate),
        share_text(traffic.error_rate),
        share_text(traffic.throttle_rate),
        duration_text(traffic.p50),
        duration_text(traffic.p99),
    ]


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def map_context(smap: ServiceMap) -> dict:
    """What templates/observability/xray/_map.html shows: the figure, the legend, a row per service and call."""
    nodes = smap.by_key
    base = reverse("observability:xray_traces")
    rows = []
    for node in smap.nodes:
        traffic = node.traffic
        row = {"node": node, "traffic": traffic, "cells": traffic_cells(traffic), "traces_url": "", "faults_url": ""}
        if not node.is_client and node.sources:
            account_name, region = node.sources[0]
            service = f"service({_quoted(node.name)})"
            row["traces_url"] = traces_url(account_name, region, service, smap.window, base=base)
            row["faults_url"] = traces_url(account_name, region, f"{service} {{ fault }}", smap.window, base=base)
        rows.append(row)
    rows.sort(key=lambda r: (not r["node"].in_scope, HEALTH_ORDER.index(r["traffic"].health), r["node"].name))
    calls = [
        {"source": nodes[e.source], "target": nodes[e.target], "traffic": e.traffic, "cells": traffic_cells(e.traffic)}
        for e in sorted(smap.edges, key=lambda e: (HEALTH_ORDER.index(e.traffic.health), -e.calls.total))
    ]
    return {
        "map": smap,
        "figure": service_map_figure(smap),
        "node_rows": rows,
        "call_rows": calls,
        "legend": [(h, HEALTH_COLOURS[h], HEALTH_LABELS[h]) for h in HEALTH_ORDER],
    }


def _window_or_error(request, context: dict) -> Window | None:
    window, range_error = XRAY_RANGES.read(request.GET)
    if range_error:
        context.update(range_error=range_error, window=window)
        return None
    return window


def _map_page(request, *, scope, title: str, extra: dict):
    context = {"title": title, "range_choices": XRAY_RANGES.choices(), "params": request.GET, **extra}
    window = _window_or_error(request, context)
    if window is None:
        return render(request, "observability/xray/service_map.html", context, status=400)
    context.update(window=window, **map_context(service_map(window, scope)))
    return render(request, "observability/xray/service_map.html", context)


@require_GET
def estate_map(request):
    return _map_page(request, scope=estate_scope(), title="Service map of the estate", extra={})


@require_GET
def system_map(request, namespace, name):
    try:
        system = catalog_selectors.entity_by_ref(f"system:{namespace}/{name}")
    except (Entity.DoesNotExist, RefError):
        raise Http404(f"No system {namespace}/{name} in the catalog.") from None
    title = f"Service map of the system {system.title or system.name}"
    return _map_page(request, scope=system_scope(system), title=title, extra={"system": system})


@require_GET
def team_map(request, slug):
    team = get_object_or_404(Team, slug=slug)
    return _map_page(request, scope=team_scope(team), title=f"Service map of {team.name}", extra={"team": team})


# --- traces -------------------------------------------------------------------------------------------------


@require_GET
def trace_list_page(request):
    sources = trace_sources()
    context = {
        "range_choices": XRAY_RANGES.choices(),
        "params": request.GET,
        "sources": sources,
        "examples": FILTER_EXAMPLES,
        "expression": (request.GET.get("filter") or "").strip(),
    }
    window = _window_or_error(request, context)
    problems = {}
    source = None
    try:
        source = choose_source(sources, request.GET.get("account", ""), request.GET.get("region", ""))
    except TraceQueryError as error:
        problems["source_error"] = str(error)
    try:
        expression = clean_expression(request.GET.get("filter"))
    except TraceQueryError as error:
        problems["filter_error"] = str(error)
    token = request.GET.get("page", "")
    if len(token) > MAX_PAGE_TOKEN:
        problems["page_error"] = "That page link is not one this portal made; start from the newest traces."
    context.update(problems, source=source)
    # The time range form keeps what else was asked for.
    context["range_keep"] = [
        ("account", source.account.name if source else request.GET.get("account", "")),
        ("region", source.region if source else request.GET.get("region", "")),
        ("filter", context["expression"]),
    ]
    if window is None or problems:
        return render(request, "observability/xray/traces.html", context, status=400)
    listing = trace_list(source, window, expression, page_token=token)
    base = f"account={source.account.name}&region={source.region}&{window.query()}"
    query = f"{base}&{urlencode({'filter': expression})}"
    context.update(
        window=window,
        listing=listing,
        filter_error=listing.filter_error,
        newest_url=f"?{query}" if token else "",
        older_url=f"?{query}&{urlencode({'page': listing.next_token})}" if listing.next_token else "",
        trace_rows=[
            {"summary": s, "url": reverse("observability:xray_trace", args=[source.account.name, source.region, s.id])}
            for s in listing.summaries
        ],
    )
    return render(request, "observability/xray/traces.html", context, status=400 if listing.filter_error else 200)


def _source(account: str, region: str) -> Source:
    try:
        return choose_source(trace_sources(), account, region)
    except TraceQueryError as error:
        raise Http404(str(error)) from None


@require_GET
def trace_page(request, account, region, trace_id):
    source = _source(account, region)
    if not TRACE_ID.match(trace_id):
        raise Http404(f"{trace_id[:60]!r} is not an X-Ray trace id (1-<8 hex digits>-<24 hex digits>).")
    fetched = trace_detail(source, trace_id)
    context = {"source": source, "trace_id": trace_id, "fetched": fetched, "list_url": traces_url_for(source)}
    if fetched.trace is None:
        status = 200 if fetched.stale else 404
        return render(request, "observability/xray/trace.html", context, status=status)
    fall = waterfall(fetched.trace)
    context.update(fall=fall, figure=waterfall_figure(fall))
    return render(request, "observability/xray/trace.html", context)


def traces_url_for(source: Source) -> str:
    query = urlencode({"account": source.account.name, "region": source.region})
    return f"{reverse('observability:xray_traces')}?{query}"


# --- an entity's X-Ray ---------------------------------------------------------------------------------------


def entity_xray_context(request, entity: Entity) -> dict:
    """The X-Ray tab: declared vs observed over the whole map, then the map of the entity and its neighbours."""
    context = {"range_choices": XRAY_RANGES.choices(), "params": request.GET, "tab_slug": "xray"}
    window = _window_or_error(request, context)
    if window is None:
        return {**context, "tab_status": 400}  # nothing is fetched for a range that makes no sense
    whole = service_map(window, estate_scope())
    context.update(window=window, comparison=compare(entity, whole))
    context.update(map_context(narrowed(whole, entity_scope(entity))))
    return context


@require_GET
def entity_notice(request, namespace, kind, name):
    """The overview's compact notice (loaded after the page, so the overview never waits on AWS)."""
    try:
        entity = catalog_selectors.entity_by_ref(f"{kind}:{namespace}/{name}")
    except (Entity.DoesNotExist, RefError):
        raise Http404(f"No {kind} {namespace}/{name} in the catalog.") from None
    window = XRAY_RANGES.preset()
    comparison = compare(entity, service_map(window, estate_scope()))
    return render(request, "observability/xray/_overview_notice.html", {"entity": entity, "comparison": comparison})
