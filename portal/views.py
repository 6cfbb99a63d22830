from django.shortcuts import render


def home(request):
    return render(request, "portal/home.html")


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
