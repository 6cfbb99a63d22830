app_name = "aws"

urlpatterns: list = []
