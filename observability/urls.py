"""Observability's URLs: each part's own, under one namespace (`observability:index`, `observability:xray_map`,
`observability:saga_execution`...)."""

from django.urls import include, path

app_name = "observability"

urlpatterns = [
    path("", include("observability.metrics.urls")),
    path("sagas/", include("observability.sagas.urls")),
    path("xray/", include("observability.xray.urls")),
]
