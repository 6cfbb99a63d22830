"""The main navigation, in one place, for the base layout.

A section whose app is not installed yet (its URL name does not resolve) is
shown greyed out rather than as a link to a 404.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    icon: str  # a Bootstrap Icons class


NAVIGATION = (
    NavItem("Catalog", "catalog:index", "bi-collection"),
    NavItem("Observability", "observability:index", "bi-activity"),
    NavItem("Deployments", "deployments:index", "bi-rocket-takeoff"),
    NavItem("Audit", "audit:index", "bi-journal-check"),
    NavItem("Costs", "costs:index", "bi-cash-coin"),
)


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def navigation(request):
    items = []
    for item in NAVIGATION:
        url = _url(item.url_name)
        items.append(
            {"label": item.label, "icon": item.icon, "url": url, "active": bool(url) and request.path.startswith(url)}
        )
    user = request.user
    # Lazy, so pages without the user menu (and anonymous ones) run no query; one query with the teams joined.
    memberships = SimpleLazyObject(
        lambda: list(user.memberships.select_related("team").order_by("team__slug")) if user.is_authenticated else []
    )
    return {"navigation": items, "my_memberships": memberships}
