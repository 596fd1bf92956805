"""Absolute links for e-mails, built for the company whose schema is active."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from .tenancy import current_tenant


def site_host() -> str:
    """The primary host of the current company (the base domain in the public schema)."""
    tenant = current_tenant()
    getter = getattr(tenant, "get_primary_domain", None)
    domain = getter() if callable(getter) and getattr(tenant, "pk", None) else None
    return domain.domain if domain is not None else settings.BASE_DOMAIN


def absolute_url(path: str, request: HttpRequest | None = None) -> str:
    if request is not None:
        return request.build_absolute_uri(path)
    port = f":{settings.URL_PORT}" if settings.URL_PORT else ""
    return f"{settings.URL_SCHEME}://{site_host()}{port}{path}"
