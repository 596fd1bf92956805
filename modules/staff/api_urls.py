from django.urls import path

from . import api

urlpatterns = [
    path("departments/", api.DepartmentListApi.as_view(), name="api-departments"),
    path("members/", api.MemberListApi.as_view(), name="api-members"),
    path("members/<uuid:user_id>/", api.MemberDetailApi.as_view(), name="api-member"),
]
