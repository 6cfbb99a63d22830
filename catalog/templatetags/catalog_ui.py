"""Small helpers for catalog templates: entity URLs from rows or reference keys, kind icons."""

from functools import cache
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import RFC3986_SUBDELIMS

from catalog.refs import RefError, parse_ref
from catalog.relations import relation_label as _relation_label

register = template.Library()

KIND_ICONS = {
    "component": "bi-box",
    "api": "bi-plug",
    "resource": "bi-database",
    "system": "bi-diagram-3",
    "domain": "bi-globe2",
    "group": "bi-people",
    "user": "bi-person",
    "location": "bi-geo-alt",
    "template": "bi-file-earmark-code",
}


def entity_path(namespace: str, kind: str, name: str, tab: str = "") -> str:
    """/catalog/<namespace>/<kind>/<name>/[<tab>/]: what reverse("catalog:entity", ...) gives, built faster.

    A list page links every row to its entity, owner and system: 150 reverse() calls a page, a fifth of its
    render time. The catalog's prefix is reversed once per URLconf and script prefix; the segments are quoted as
    reverse() quotes them (tests/catalog/test_views.py compares the two on awkward names).
    """
    prefix = _prefix("catalog:index", get_script_prefix(), get_urlconf())
    path = f"{prefix}{_quote(namespace)}/{_quote(kind.lower())}/{_quote(name)}/"
    return f"{path}{_quote(tab)}/" if tab else path


@cache
def _prefix(viewname: str, script_prefix: str, urlconf: str | None) -> str:
    # The script prefix is an argument only to key the cache: reverse() reads it itself.
    return reverse(viewname, urlconf=urlconf)


def _quote(segment: str) -> str:
    # reverse() keeps RFC 3986 sub-delimiters and "~:@" unquoted in a path.
    return quote(segment, safe=RFC3986_SUBDELIMS + "~:@")


@register.filter
def team_url(team) -> str:
    """The team's page, as reverse("teams:detail", args=[team.slug]) gives it (see entity_path for why)."""
    return f"{_prefix('teams:list', get_script_prefix(), get_urlconf())}{_quote(team.slug)}/"


@register.filter
def clip(text: str, length: int) -> str:
    """`text` cut to `length` characters with "…", like truncatechars, which costs 30 µs a call (it looks up its
    translated marker each time): a list page clips every row's description."""
    if not text or len(text) <= length:
        return text
    return text[: length - 1] + "…"


@register.filter
def badges_of(row_badges: dict, entity_id) -> str:
    """The badges other apps give a row of the list (catalog.row_badges), or nothing."""
    return row_badges.get(entity_id, "") if row_badges else ""


@register.filter
def entity_url(entity) -> str:
    return entity_path(entity.namespace, entity.kind_key, entity.name)


@register.filter
def ref_url(key: str) -> str:
    """The entity page a reference key ("kind:namespace/name") would have, whether or not it exists yet."""
    try:
        ref = parse_ref(key)
    except RefError:
        return ""
    return entity_path(ref.namespace, ref.kind, ref.name)


@register.filter
def relation_label(relation_type: str) -> str:
    return _relation_label(relation_type)


@register.filter
def kind_icon(kind: str) -> str:
    return KIND_ICONS.get((kind or "").lower(), "bi-file-earmark")


@register.filter
def ref_short(key: str) -> str:
    """A reference without the default namespace, as people write it: "component:orders-api"."""
    return key.replace(":default/", ":", 1) if key else key


@register.filter
def safe_href(url) -> str:
    """The URL if it is a web or mail link; "" for anything else (javascript:, data:...), which is shown as text."""
    if not isinstance(url, str):
        return ""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    return url if scheme in ("http", "https", "mailto") else ""
