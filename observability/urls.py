from django.urls import include, path

from observability import views

app_name = "observability"

urlpatterns = [
    path("", views.index, name="index"),
    path("teams/<slug:slug>/", views.team_dashboard, name="team"),
    path("systems/<str:namespace>/<str:name>/", views.system_dashboard, name="system"),
    # X-Ray: service maps, traces (observability/xray_urls.py; names start with xray_).
    path("xray/", include("observability.xray_urls")),
]
