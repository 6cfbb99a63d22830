"""Small helpers for catalog templates: entity URLs from rows or reference keys, kind icons."""

from django import template
from django.urls import reverse

from catalog.refs import RefError, parse_ref

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
    if tab:
        return reverse("catalog:entity_tab", args=[namespace, kind.lower(), name, tab])
    return reverse("catalog:entity", args=[namespace, kind.lower(), name])


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
