from django.urls import path

from . import views

app_name = "billing_gateway"

urlpatterns = [
    path("stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
