from django.urls import path

from . import api

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("users/", api.StaffListApi.as_view(), name="api-users"),
    path("users/<uuid:user_id>/", api.StaffDetailApi.as_view(), name="api-user"),
    path(
        "users/<uuid:user_id>/deactivate/", api.StaffActionApi.as_view(action="deactivate"), name="api-user-deactivate"
    ),
    path(
        "users/<uuid:user_id>/reactivate/", api.StaffActionApi.as_view(action="reactivate"), name="api-user-reactivate"
    ),
    path(
        "users/<uuid:user_id>/password-reset/",
        api.StaffActionApi.as_view(action="password-reset"),
        name="api-user-password-reset",
    ),
    path("users/<uuid:user_id>/roles/", api.UserRolesApi.as_view(), name="api-user-roles"),
    path("roles/", api.RoleListApi.as_view(), name="api-roles"),
    path("roles/<int:role_id>/", api.RoleDetailApi.as_view(), name="api-role"),
    path("auth/tokens/", api.TokenListApi.as_view(), name="api-tokens"),
    path("auth/tokens/<uuid:token_id>/", api.TokenDetailApi.as_view(), name="api-token"),
]
