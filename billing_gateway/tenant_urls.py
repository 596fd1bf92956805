"""The gateway's pages on a company's domains: its administrator's Stripe page."""

from django.urls import path

from . import views

app_name = "billing_gateway"

urlpatterns = [
    path("stripe/", views.stripe_account, name="stripe_account"),
]
