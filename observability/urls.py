from django.urls import include, path

from observability import saga_views, views

app_name = "observability"

urlpatterns = [
    path("", views.index, name="index"),
    path("teams/<slug:slug>/", views.team_dashboard, name="team"),
    path("systems/<str:namespace>/<str:name>/", views.system_dashboard, name="system"),
    path("sagas/executions/<int:pk>/", saga_views.saga_execution, name="saga_execution"),
    path("sagas/<int:pk>/sync/", saga_views.saga_sync_request, name="saga_sync_request"),
    path("sagas/alerts/<int:pk>/acknowledge/", saga_views.saga_alert_acknowledge, name="saga_alert_acknowledge"),
    # X-Ray: service maps, traces (observability/xray_urls.py; names start with xray_).
    path("xray/", include("observability.xray_urls")),
]
