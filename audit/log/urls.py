from django.urls import path

from audit.log import views

urlpatterns = [
    path("", views.index, name="index"),
    path("events/<int:event_id>/", views.event, name="event"),
    path("export/", views.export, name="export"),
]
