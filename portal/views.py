from django.shortcuts import render

from portal.teams.selectors import teams_of_user


def home(request):
    return render(request, "portal/home.html", {"my_teams": teams_of_user(user=request.user)})


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_500(request):
    # No context processors that touch the database: this page must render when it is down.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(
        loader.get_template("errors/500.html").render({"request_id": getattr(request, "request_id", "")})
    )
