"""Host routing and suspension."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.template.loader import render_to_string
from django.urls import set_urlconf
from django.utils import translation
from django.utils.translation import gettext as _
from django_tenants.middleware.main import TenantMainMiddleware

from wuye.core.errors import error_body
from wuye.core.tenancy import current_tenant, use_public_schema, use_tenant

from .models import Company, CompanyStatus, Domain


def hostname_of(request: HttpRequest) -> str:
    return request.get_host().split(":")[0].lower().rstrip(".")


class CompanyRoutingMiddleware(TenantMainMiddleware):
    """The bare base domain is the vendor console (public schema); a company's domain selects its schema;
    any other host is answered 404 and reads nothing."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        use_public_schema()
        try:
            hostname = hostname_of(request)
        except DisallowedHost:
            return HttpResponseNotFound()
        if hostname == settings.BASE_DOMAIN:
            setattr(request, "tenant", current_tenant())  # noqa: B010  (HttpRequest declares no tenant)
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return None
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        if domain is None:
            return HttpResponseNotFound(
                "<!doctype html><title>404</title><h1>404</h1><p>No company is served at this address.</p>",
                content_type="text/html; charset=utf-8",
            )
        tenant = domain.tenant
        tenant.domain_url = hostname
        request.tenant = tenant  # type: ignore[attr-defined]
        use_tenant(tenant)
        self.setup_url_routing(request)
        return None


class SuspendedCompanyMiddleware:
    """A suspended company's domains answer 403 to everything, before any of its data is read (the page
    is rendered without a request context: no session, no user, no query on its schema)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        if isinstance(tenant, Company) and tenant.status == CompanyStatus.SUSPENDED:
            with translation.override(tenant.language):
                message = _("The service of %(name)s on Wuye is suspended. Please contact the company.") % {
                    "name": tenant.name
                }
                if request.path.startswith("/api/"):
                    return JsonResponse(error_body("company_suspended", message), status=403)
                html = render_to_string(
                    "tenants/suspended.html",
                    {"company_name": tenant.name, "message": message, "language": tenant.language},
                )
            return HttpResponse(html, status=403)
        return self.get_response(request)
