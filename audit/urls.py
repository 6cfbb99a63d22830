"""The audit app's URLs: each part's own, under one namespace (`audit:index`, `audit:event`, `audit:export`)."""

from django.urls import include, path

app_name = "audit"

urlpatterns = [
    path("", include("audit.log.urls")),
]
