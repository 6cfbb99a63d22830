"""API paths answer with and without their trailing slash.

The documented form ends in a slash (`/api/v1/entities/import/`), as DRF's routers write it. Clients written
against Backstage or by hand often leave it off, and Django's APPEND_SLASH cannot redirect a POST, PUT or
PATCH without losing its body (with DEBUG on it raises, a 500): under /api/, a path that matches nothing as
written but matches with a slash is served as that path, for every method. The schema lists the slash form only.
"""

from django.urls import Resolver404, resolve

API_PREFIX = "/api/"


class ApiOptionalSlashMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(API_PREFIX) and not path.endswith("/") and not _resolves(path) and _resolves(path + "/"):
            request.path_info = path + "/"
            request.path = request.path + "/"
        return self.get_response(request)


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True
