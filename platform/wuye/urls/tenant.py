from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from wuye.accounts import urls as account_urls
from wuye.portal import views as portal_views

api_v1 = [
    path("", include("wuye.accounts.api_urls")),
    path("staff/", include("modules.staff.api_urls")),
    path("estate/", include("modules.estate.api_urls")),
    path("imports/", include("wuye.imports.api_urls")),
    path("households/", include("modules.households.api_urls")),
    path("fees/", include("modules.fees.api_urls")),
    path("helpdesk/", include("modules.helpdesk.api_urls")),
]

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("", include((account_urls.urlpatterns + account_urls.company_urlpatterns, "accounts"))),
    path("", include("wuye.portal.urls")),
    path("audit/", portal_views.audit_log, name="audit_log"),
    path("organisation/", include("modules.staff.urls")),
    path("estate/", include("modules.estate.urls")),
    path("imports/", include("wuye.imports.urls")),
    path("", include("modules.households.urls")),
    path("fees/", include("modules.fees.urls")),
    path("helpdesk/", include("modules.helpdesk.urls")),
    # The company administrator's Stripe account (billing_gateway, a shared app with pages on both sides).
    path("payments/", include("billing_gateway.tenant_urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
