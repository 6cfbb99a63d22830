"""The portal's URLs plus a page and an API endpoint that fail, for the error-page tests."""

from django.core.exceptions import PermissionDenied
from django.urls import path
from rest_framework.decorators import api_view

from portal.urls import handler403, handler404, handler500  # noqa: F401 - the project's error handlers
from portal.urls import urlpatterns as portal_urlpatterns


class Broken(Exception):
    pass


def broken_page(request):
    raise Broken("the page's secret detail")


def forbidden_page(request):
    raise PermissionDenied("not yours")


@api_view(["GET"])
def broken_endpoint(request):
    raise Broken("the endpoint's secret detail")


urlpatterns = [
    path("broken/", broken_page),
    path("forbidden/", forbidden_page),
    path("api/v1/broken/", broken_endpoint),
    *portal_urlpatterns,
]
