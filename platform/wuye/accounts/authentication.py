"""API authentication bound to the company: a token or session from one company is refused at another."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from wuye.core.tenancy import current_schema

from .models import ApiToken
from .tokens import api_token_hash, api_token_parse

LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


class CompanyTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer wy_<schema>_<secret>` (the keyword `Token` is accepted too)."""

    keywords = (b"bearer", b"token")

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        parsed = api_token_parse(raw)
        if parsed is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        schema_name, secret = parsed
        if schema_name != current_schema():
            raise exceptions.AuthenticationFailed(
                _("This token was issued by another company and is not valid here."), code="token_of_another_company"
            )
        token = ApiToken.objects.select_related("user").filter(key_hash=api_token_hash(schema_name, secret)).first()
        if token is None or not token.is_usable:
            raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This account is deactivated."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class CompanySessionAuthentication(authentication.SessionAuthentication):
    """Django's session (with CSRF). The session itself is bound to the company by
    CompanyBoundSessionMiddleware; this class exists so the binding is named where the API declares it."""
