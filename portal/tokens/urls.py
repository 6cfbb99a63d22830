from django.urls import path

from portal.tokens import views

app_name = "tokens"

urlpatterns = [
    path("", views.token_list, name="list"),
    path("new/", views.token_new, name="new"),
    path("<int:pk>/created/", views.token_created, name="created"),
    path("<int:pk>/revoke/", views.token_revoke_view, name="revoke"),
]
