"""Observability pages: the overview, and the team and system dashboards. Every signed-in person may read
them (LoginRequiredMiddleware sends anonymous visitors to sign in). They read the database, and CloudWatch
through observability.metrics.series (cached, short timeouts, last good data): AWS trouble never makes them fail."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from catalog import selectors as catalog_selectors
from catalog.models import Entity
from catalog.refs import RefError
from observability.metrics import selectors
from observability.metrics.panels import dashboard
from observability.models import Alarm
from observability.timeranges import CHART_RANGES
from portal.models import Team

FIRING_SHOWN = 50


@require_GET
def index(request):
    # A team whose services have no AWS resource linked has an empty dashboard: it is named apart, with what
    # would give it one, rather than offered as a dashboard that is a dead end.
    charted = catalog_selectors.owners_of_components_with_resources()
    teams = list(Team.objects.order_by("name").only("id", "slug", "name"))
    with_services = [team for team in teams if catalog_selectors.team_owner_ref(team.slug) in charted]
    context = {
        "teams": with_services,
        "teams_without_dashboard": [team for team in teams if team not in with_services],
        "systems": catalog_selectors.system_list(),
        "firing": Alarm.objects.filter(state=Alarm.State.ALARM).select_related("account")[:FIRING_SHOWN],
        "syncs": selectors.sync_states(),
    }
    return render(request, "observability/metrics/index.html", context)


def _dashboard(request, *, subject: str, services_for, extra: dict):
    window, range_error = CHART_RANGES.read(request.GET)
    context = {"subject": subject, "range_choices": CHART_RANGES.choices(), "params": request.GET, **extra}
    if range_error:
        context.update(range_error=range_error, window=window)
        return render(request, "observability/metrics/dashboard.html", context, status=400)
    limit = settings.OBSERVABILITY_DASHBOARD_MAX_SERVICES
    services = services_for(limit + 1)
    context.update(
        window=window,
        view=dashboard(services[:limit], window),
        truncated=len(services) > limit,
        limit=limit,
    )
    return render(request, "observability/metrics/dashboard.html", context)


@require_GET
def team_dashboard(request, slug):
    team = get_object_or_404(Team, slug=slug)
    return _dashboard(
        request,
        subject=team.name,
        services_for=lambda limit: selectors.team_services(team.slug, limit=limit),
        extra={"team": team},
    )


@require_GET
def system_dashboard(request, namespace, name):
    try:
        system = catalog_selectors.entity_by_ref(f"system:{namespace}/{name}")
    except (Entity.DoesNotExist, RefError):
        raise Http404(f"No system {namespace}/{name} in the catalog.") from None
    return _dashboard(
        request,
        subject=system.title or system.name,
        services_for=lambda limit: selectors.system_services(system, limit=limit),
        extra={"system": system},
    )
