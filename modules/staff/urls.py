from django.urls import path

from . import views

app_name = "staff"

urlpatterns = [
    path("departments/", views.department_list, name="department_list"),
]
