from django.urls import path

from . import views

app_name = "tenants"

urlpatterns = [
    path("", views.company_list, name="company_list"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/<slug:slug>/", views.company_detail, name="company_detail"),
    path("companies/<slug:slug>/<slug:action>/", views.company_action, name="company_action"),
    path("pool/", views.pool, name="pool"),
]
