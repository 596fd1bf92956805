from django.urls import path

from . import api

urlpatterns = [
    path("departments/", api.DepartmentListApi.as_view(), name="api-departments"),
]
