from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from wuye.core.tenancy import in_public_schema

from . import navigation


def portal(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(request, "tenant", None)
    is_vendor_area = in_public_schema()
    user = getattr(request, "user", None)
    # Owners have a navigation of their own (their home, their bills), registered by the modules.
    nav_area = "vendor" if is_vendor_area else ("owner" if getattr(user, "kind", "") == "owner" else "company")
    area = "vendor" if is_vendor_area else "company"
    return {
        "portal_area": area,
        "company": None if is_vendor_area else tenant,
        "base_domain": settings.BASE_DOMAIN,
        "portal_languages": settings.LANGUAGES,
        "nav_items": navigation.items_for(user, nav_area, request.path),
    }
