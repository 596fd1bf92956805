"""How the API's authentication appears in the OpenAPI schema (drf-spectacular extensions)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class CompanyTokenScheme(OpenApiAuthenticationExtension):
    target_class = "wuye.accounts.authentication.CompanyTokenAuthentication"
    name = "companyToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token issued by this company: POST /api/v1/auth/tokens/ with e-mail and password. "
            "Tokens of another company are refused.",
        }


class CompanySessionScheme(OpenApiAuthenticationExtension):
    target_class = "wuye.accounts.authentication.CompanySessionAuthentication"
    name = "companySession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": "wuye_session"}
