"""The vendor console, at the bare base domain (public schema)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuye.accounts.policies import acting_user
from wuye.core.errors import ServiceError

from . import policies, selectors, services
from .forms import CompanyCreateForm, DomainForm, ReasonForm
from .tasks import spare_pool_refill


def vendor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not policies.can_operate_companies(request.user):
            return render(
                request,
                "portal/message_page.html",
                {"heading": _("Not allowed"), "message": _("This console is for the platform's operators.")},
                status=403,
            )
        return view(request, *args, **kwargs)

    return wrapped


@vendor_required
def company_list(request: HttpRequest) -> HttpResponse:
    search, status = request.GET.get("q", "").strip(), request.GET.get("status", "")
    companies = list(selectors.company_list(search=search, status=status)[:500])
    sizes = selectors.company_sizes()
    rows = [
        (
            company,
            sizes.get(company.schema_name, 0),
            next((d.domain for d in company.domains.all() if d.is_primary), ""),
        )
        for company in companies
    ]
    return render(
        request,
        "tenants/company_list.html",
        {"rows": rows, "q": search, "status": status, "summary": selectors.fleet_summary()},
    )


@vendor_required
def company_create(request: HttpRequest) -> HttpResponse:
    form = CompanyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.company_create(by=acting_user(request), **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("%(name)s is ready (in %(ms).0f ms); an invitation went to %(email)s.")
                % {"name": result.company.name, "ms": result.seconds * 1000, "email": result.admin.email},
            )
            return redirect("tenants:company_detail", slug=result.company.slug)
    return render(request, "tenants/company_create.html", {"form": form})


@vendor_required
def company_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        company = selectors.company_get(slug=slug)
    except ServiceError as exc:
        return render(
            request, "portal/message_page.html", {"heading": _("Not found"), "message": exc.message}, status=404
        )
    return render(
        request,
        "tenants/company_detail.html",
        {
            "c": company,
            "domains": list(company.domains.all()),
            "events": list(company.events.all()[:50]),
            "size": selectors.company_sizes().get(company.schema_name, 0),
            "staff": selectors.company_staff_counts(company),
            "reason_form": ReasonForm(),
            "domain_form": DomainForm(),
        },
    )


def _company_action(
    request: HttpRequest, slug: str, run: Callable[[Any, dict[str, str]], Any], done: str
) -> HttpResponse:
    try:
        company = selectors.company_get(slug=slug)
        run(company, request.POST.dict())
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("tenants:company_detail", slug=slug)


@vendor_required
@require_POST
def company_suspend(request: HttpRequest, slug: str) -> HttpResponse:
    return _company_action(
        request,
        slug,
        lambda c, data: services.company_suspend(by=acting_user(request), company=c, reason=data.get("reason", "")),
        _("Company suspended."),
    )


@vendor_required
@require_POST
def company_resume(request: HttpRequest, slug: str) -> HttpResponse:
    return _company_action(
        request,
        slug,
        lambda c, data: services.company_resume(by=acting_user(request), company=c, reason=data.get("reason", "")),
        _("Company resumed."),
    )


@vendor_required
@require_POST
def domain_add(request: HttpRequest, slug: str) -> HttpResponse:
    return _company_action(
        request,
        slug,
        lambda c, data: services.domain_add(by=acting_user(request), company=c, domain=data.get("domain", "")),
        _("Domain added."),
    )


@vendor_required
@require_POST
def domain_remove(request: HttpRequest, slug: str) -> HttpResponse:
    return _company_action(
        request,
        slug,
        lambda c, data: services.domain_remove(by=acting_user(request), company=c, domain=data.get("domain", "")),
        _("Domain removed."),
    )


@vendor_required
def pool(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        spare_pool_refill.delay()
        messages.success(request, _("Refill queued."))
        return redirect("tenants:pool")
    return render(request, "tenants/pool.html", {"pool": selectors.pool_state()})
