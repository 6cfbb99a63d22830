from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portal import health, signin, views

handler403 = "portal.views.error_403"
handler404 = "portal.views.error_404"
handler500 = "portal.views.error_500"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/login/", signin.SignInView.as_view(), name="login"),
    path("accounts/logout/", signin.SignOutView.as_view(), name="logout"),
    path("teams/", include("portal.teams.urls")),
    path("catalog/", include("catalog.urls")),
    path("observability/", include("observability.urls")),
    path("audit/", include("audit.urls")),
    path("settings/tokens/", include("portal.tokens.urls")),
    path("aws/", include("portal.aws.urls")),
    path("api/v1/", include("portal.api.urls")),
    path("admin/", admin.site.urls),
]

if settings.OIDC_RP_CLIENT_ID:
    # portal.oidc mounts mozilla-django-oidc's views, exempted from LoginRequiredMiddleware.
    urlpatterns.append(path("oidc/", include("portal.oidc")))
