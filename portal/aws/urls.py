from django.urls import path

from portal.aws import views

app_name = "aws"

urlpatterns = [
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/<int:pk>/verify/", views.account_verify, name="account_verify"),
]
