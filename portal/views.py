from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponsePermanentRedirect, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static

from portal.aws.selectors import aws_account_list, aws_availability_notice
from portal.home_panels import home_panels
from portal.request_context import current_request_id
from portal.teams.selectors import teams_of_user


def home(request):
    accounts = list(aws_account_list())
    teams = list(teams_of_user(user=request.user))
    # What other apps show of the user's teams (portal.home_panels), each loaded once for all of them.
    panels = [(panel.template, panel.context(request, teams)) for panel in home_panels()] if teams else []
    return render(
        request,
        "portal/home.html",
        {
            "my_teams": teams,
            "panels": panels,
            "aws_accounts": accounts,
            "aws_notice": aws_availability_notice(accounts),
        },
    )


@login_not_required
def favicon(request):
    # Browsers ask every host for /favicon.ico, whatever the page links; the icon itself is a static file
    # (and in production a hashed one, so its name is looked up per request, not at import).
    return HttpResponsePermanentRedirect(static("favicon.ico"))


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _api_error(status: int, code: str, detail: str) -> JsonResponse:
    # The same shape as portal.api.exceptions, for errors raised before DRF sees the request.
    return JsonResponse({"detail": detail, "code": code, "request_id": current_request_id()}, status=status)


def error_403(request, exception=None):
    if _is_api(request):
        return _api_error(403, "permission_denied", "You do not have permission to perform this action.")
    return render(request, "errors/403.html", status=403)


def error_404(request, exception=None):
    if _is_api(request):
        return _api_error(404, "not_found", f"No API endpoint at {request.path}.")
    return render(request, "errors/404.html", status=404)


def error_500(request):
    if _is_api(request):
        return _api_error(500, "server_error", "Server error; quote the request_id when you report it.")
    # A bare template with no context processors: this page must render even when the database is down.
    return HttpResponseServerError(
        loader.get_template("errors/500.html").render({"request_id": getattr(request, "request_id", "")})
    )


class ApiErrorsAsJsonMiddleware:
    """Under /api/, a 404 or 500 is JSON even with DEBUG on, when Django answers with its technical HTML pages
    instead of calling error_404/error_500: API clients parse the body, and a traceback is for the log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and _is_api(request)
            and response.status_code in (404, 500)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return error_404(request) if response.status_code == 404 else error_500(request)
        return response
