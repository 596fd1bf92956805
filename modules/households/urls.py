from django.urls import path

from . import views

app_name = "households"

urlpatterns = [
    path("households/people/", views.person_list, name="person_list"),
    path("households/people/new/", views.person_edit, name="person_new"),
    path("households/people/<uuid:person_id>/", views.person_detail, name="person_detail"),
    path("households/people/<uuid:person_id>/edit/", views.person_edit, name="person_edit"),
    path("households/people/<uuid:person_id>/invite/", views.person_invite, name="person_invite"),
    path("households/units/<uuid:unit_id>/", views.household_file, name="household_file"),
    path("households/units/<uuid:unit_id>/<slug:action>/", views.household_action, name="household_action"),
    path("my/", views.owner_home, name="owner_home"),
]
