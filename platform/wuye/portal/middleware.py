from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

SUPPORTED = dict(settings.LANGUAGES)


def language_for(request: HttpRequest) -> str:
    """The person's choice (cookie, then their account), else the company's language, else Chinese."""
    candidates = [
        request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME),
        getattr(getattr(request, "user", None), "language", None),
        getattr(getattr(request, "tenant", None), "language", None),
    ]
    for candidate in candidates:
        if candidate in SUPPORTED:
            return str(candidate)
    return settings.LANGUAGE_CODE


class LanguageMiddleware:
    """Activates the language and the company's time zone for the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        zone = getattr(getattr(request, "tenant", None), "timezone", None)
        if zone:
            timezone.activate(zone)
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        translation.deactivate()
        return response
