from django.urls import path

from . import views

app_name = "estate"

urlpatterns = [
    path("projects/", views.project_list, name="project_list"),
    path("projects/<uuid:project_id>/", views.project_detail, name="project_detail"),
    path("units/", views.unit_list, name="unit_list"),
    path("<slug:kind>/", views.record_list, name="record_list"),
    path("<slug:kind>/new/", views.record_edit, name="record_new"),
    path("<slug:kind>/<uuid:record_id>/", views.record_edit, name="record_edit"),
    path("<slug:kind>/<uuid:record_id>/<slug:action>/", views.record_action, name="record_action"),
]
