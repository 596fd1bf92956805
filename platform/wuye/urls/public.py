from django.urls import include, path

from wuye.accounts import urls as account_urls

urlpatterns = [
    path("", include("tenants.urls")),
    path("", include((account_urls.urlpatterns, "accounts"))),
    path("", include("wuye.portal.urls")),
    # Stripe's Connect webhooks: one public endpoint for every company (billing_gateway maps the account).
    path("billing/", include("billing_gateway.urls")),
]
