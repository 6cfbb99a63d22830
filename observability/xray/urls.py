"""The X-Ray pages' URLs, included by observability/urls.py under xray/ (names in the observability namespace)."""

from django.urls import path

from observability.xray import views

urlpatterns = [
    path("", views.estate_map, name="xray_map"),
    path("systems/<str:namespace>/<str:name>/", views.system_map, name="xray_system_map"),
    path("teams/<slug:slug>/", views.team_map, name="xray_team_map"),
    path("traces/", views.trace_list_page, name="xray_traces"),
    path("traces/<slug:account>/<str:region>/<str:trace_id>/", views.trace_page, name="xray_trace"),
    path("notice/<str:namespace>/<str:kind>/<str:name>/", views.entity_notice, name="xray_entity_notice"),
]
