"""Every API path answers with and without its trailing slash.

The slash form is the one the schema, the docs and the links the API returns use. The bare form is served
by the same view rather than left to APPEND_SLASH, which cannot redirect a POST (a 500 under DEBUG, else a
301 that clients follow as a GET, dropping the body); it stays out of the schema so that every operation is
listed once.
"""

from django.urls import URLPattern, path, re_path
from rest_framework.routers import SimpleRouter


def _unlisted(view):
    """The same view, left out of the OpenAPI schema."""
    initkwargs = {**view.initkwargs, "schema": None}
    if hasattr(view, "actions"):  # a viewset's view, bound to its method-to-action mapping
        return view.cls.as_view(view.actions, **initkwargs)
    return view.cls.as_view(**initkwargs)


def _bare(pattern: URLPattern) -> URLPattern:
    regex = pattern.pattern.regex.pattern
    return re_path(regex.removesuffix("/$") + "$", _unlisted(pattern.callback))


class OptionalSlashRouter(SimpleRouter):
    """A SimpleRouter whose routes also answer without the trailing slash (unnamed, not in the schema)."""

    def get_urls(self):
        urls = super().get_urls()
        return [*urls, *(_bare(url) for url in urls)]


def path_with_optional_slash(route: str, view, *, name: str) -> list[URLPattern]:
    """`path(route, view, name=name)` for a route ending in '/', plus the same route without it."""
    return [path(route, view, name=name), path(route.removesuffix("/"), _unlisted(view))]
