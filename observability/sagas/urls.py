"""The saga pages' URLs, included by observability/urls.py under sagas/ (names in the observability namespace)."""

from django.urls import path

from observability.sagas import views

urlpatterns = [
    path("executions/<int:pk>/", views.saga_execution, name="saga_execution"),
    path("<int:pk>/sync/", views.saga_sync_request, name="saga_sync_request"),
    path("<int:pk>/sync/status/", views.saga_sync_status, name="saga_sync_status"),
    path("alerts/<int:pk>/acknowledge/", views.saga_alert_acknowledge, name="saga_alert_acknowledge"),
]
