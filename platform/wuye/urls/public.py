from django.urls import include, path

from wuye.accounts import urls as account_urls

urlpatterns = [
    path("", include("tenants.urls")),
    path("", include((account_urls.urlpatterns, "accounts"))),
    path("", include("wuye.portal.urls")),
]
