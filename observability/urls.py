from django.urls import path

from observability import views

app_name = "observability"

urlpatterns = [
    path("", views.index, name="index"),
    path("teams/<slug:slug>/", views.team_dashboard, name="team"),
    path("systems/<str:namespace>/<str:name>/", views.system_dashboard, name="system"),
]
