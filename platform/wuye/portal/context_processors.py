from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from wuye.core.tenancy import in_public_schema

from . import navigation


def portal(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(request, "tenant", None)
    is_vendor_area = in_public_schema()
    area = "vendor" if is_vendor_area else "company"
    return {
        "portal_area": area,
        "company": None if is_vendor_area else tenant,
        "base_domain": settings.BASE_DOMAIN,
        "portal_languages": settings.LANGUAGES,
        "nav_items": navigation.items_for(getattr(request, "user", None), area, request.path),
    }
