from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from wuye.core.errors import ServiceError

from .middleware import SUPPORTED


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the language: remembered in a cookie, and on the account of a signed-in person."""
    language = request.POST.get("language", "")
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    if language in SUPPORTED:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=60 * 60 * 24 * 365,
            samesite="Lax",
            secure=request.is_secure(),
            httponly=True,
        )
        user = request.user
        if user.is_authenticated and getattr(user, "language", None) != language:
            from wuye.accounts.services import user_language_set

            user_language_set(user=user, language=language)
    return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """A company's start page: who the company is and what needs the signed-in person's attention."""
    from wuye.accounts import policies
    from wuye.accounts.selectors import staff_counts

    from .navigation import home_for

    elsewhere = home_for(request.user)
    if elsewhere:
        return HttpResponseRedirect(elsewhere)
    context = {"staff": staff_counts() if policies.can_view_staff(request.user) else None}
    return render(request, "portal/home.html", context)


def message_page(request: HttpRequest, heading: str, message: str, *, status: int = 200) -> HttpResponse:
    return render(request, "portal/message_page.html", {"heading": heading, "message": message}, status=status)


def form_errors_add(form: Any, error: ServiceError) -> None:
    """A service's refusal shown on the form: each message on the field it names, the rest above the form."""
    for field, messages in error.as_fields().items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
    if not error.as_fields():
        form.add_error(None, error.message)


def refusal(request: HttpRequest, error: ServiceError) -> HttpResponse:
    """The page for a service's refusal: its message, under a heading that says what kind it is."""
    headings = {403: _("Not allowed"), 404: _("Not found")}
    return message_page(
        request, str(headings.get(error.http_status, _("Not possible"))), error.message, status=error.http_status
    )


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The company's audit log (《操作日志》): who changed what, when, before and after."""
    from django.core.paginator import Paginator

    from wuye.core.audit import audit_entries
    from wuye.core.models import AuditAction, AuditEntry

    params = request.GET
    try:
        entries = audit_entries(
            viewer=request.user,
            object_type=params.get("type", ""),
            action=params.get("action", ""),
            actor=params.get("actor", ""),
            object_id=params.get("record", ""),
        )
    except ServiceError as error:
        return refusal(request, error)
    page = Paginator(entries, 50).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/audit_log.html",
        {
            "page": page,
            "types": AuditEntry.objects.order_by().values_list("object_type", flat=True).distinct(),
            "actions": AuditAction.choices,
            "params": params,
            "query": query.urlencode(),
        },
    )
