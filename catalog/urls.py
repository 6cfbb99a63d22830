from django.urls import path

from catalog import views

app_name = "catalog"

# Entity pages are /catalog/<namespace>/<kind>/<name>/, as in Backstage; kind in lower case.
_ENTITY = "<str:namespace>/<str:kind>/<str:name>/"

urlpatterns = [
    path("", views.entity_list, name="index"),
    path("import/", views.catalog_import, name="import"),
    path(_ENTITY, views.entity_detail, name="entity"),
    path(_ENTITY + "edit/", views.entity_edit, name="entity_edit"),
    path(_ENTITY + "delete/", views.entity_delete, name="entity_delete"),
    path(_ENTITY + "definition/", views.entity_definition, name="entity_definition"),
    path(_ENTITY + "<slug:tab>/", views.entity_detail, name="entity_tab"),
]
