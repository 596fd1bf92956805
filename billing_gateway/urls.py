"""The gateway's addresses on the base domain: Stripe's webhook endpoint and the vendor's page."""

from django.urls import path

from . import views

app_name = "billing_gateway"

urlpatterns = [
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("accounts/", views.accounts, name="accounts"),
]
