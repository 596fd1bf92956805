from django.urls import path

from . import views

app_name = "tenants"

urlpatterns = [
    path("", views.company_list, name="company_list"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/<slug:slug>/", views.company_detail, name="company_detail"),
    path("companies/<slug:slug>/suspend/", views.company_suspend, name="company_suspend"),
    path("companies/<slug:slug>/resume/", views.company_resume, name="company_resume"),
    path("companies/<slug:slug>/domains/add/", views.domain_add, name="domain_add"),
    path("companies/<slug:slug>/domains/remove/", views.domain_remove, name="domain_remove"),
    path("pool/", views.pool, name="pool"),
]
