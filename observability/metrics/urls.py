"""The CloudWatch pages' URLs, included by observability/urls.py at its root (names in the observability namespace):
the overview, and the team and system dashboards."""

from django.urls import path

from observability.metrics import views

urlpatterns = [
    path("", views.index, name="index"),
    path("teams/<slug:slug>/", views.team_dashboard, name="team"),
    path("systems/<str:namespace>/<str:name>/", views.system_dashboard, name="system"),
]
