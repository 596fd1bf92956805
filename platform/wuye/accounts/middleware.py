from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from wuye.core.tenancy import current_schema

from .signals import SESSION_SCHEMA_KEY


class CompanyBoundSessionMiddleware:
    """Refuses a session that was not opened in this company's schema.

    Sessions are stored per schema, so another company's session key is normally simply unknown here;
    this check makes the binding explicit, whatever the session engine (a cache engine shares one store).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.SESSION_COOKIE_NAME in request.COOKIES
            and request.user.is_authenticated
            and request.session.get(SESSION_SCHEMA_KEY) != current_schema()
        ):
            logout(request)
            request.user = AnonymousUser()
        return self.get_response(request)
