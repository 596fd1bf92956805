from django.urls import path

from . import views

app_name = "accounts"

# Sign-in pages serve both the vendor console (public schema) and every company.
urlpatterns = [
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
]

# Only at a company's domain.
company_urlpatterns = [
    path("accounts/link/<str:uidb64>/<str:token>/", views.link, name="link"),
    path("accounts/forgot-password/", views.forgot_password, name="forgot_password"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/invite/", views.staff_invite, name="staff_invite"),
    path("staff/roles/", views.role_list, name="role_list"),
    path("staff/roles/new/", views.role_edit, name="role_new"),
    path("staff/roles/<int:role_id>/", views.role_edit, name="role_edit"),
    path("staff/roles/<int:role_id>/delete/", views.role_delete, name="role_delete"),
    path("staff/<uuid:user_id>/", views.staff_detail, name="staff_detail"),
    path("staff/<uuid:user_id>/roles/", views.staff_roles, name="staff_roles"),
    path("staff/<uuid:user_id>/<slug:action>/", views.staff_action, name="staff_action"),
]
