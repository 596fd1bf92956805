from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("departments/", views.department_list, name="department_list"),
    path("members/", views.member_list, name="member_list"),
    path("members/<uuid:user_id>/", views.member_edit, name="member_edit"),
]
