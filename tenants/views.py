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
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from wuye.accounts.policies import acting_user
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.portal.views import message_page, refusal

from . import policies, selectors, services
from .forms import CompanyCreateForm, DomainForm, ReasonForm
from .tasks import spare_pool_refill


def vendor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not policies.can_operate_companies(request.user):
            return refusal(request, PolicyDenied(_("This console is for the platform's operators.")))
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
        return refusal(request, exc)
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


# action in the URL -> (the service call with the posted form, what to tell the operator afterwards)
_ACTIONS: dict[str, tuple[Callable[..., Any], Any]] = {
    "suspend": (
        lambda by, company, data: services.company_suspend(by=by, company=company, reason=data.get("reason", "")),
        gettext_lazy("Company suspended."),
    ),
    "resume": (
        lambda by, company, data: services.company_resume(by=by, company=company, reason=data.get("reason", "")),
        gettext_lazy("Company resumed."),
    ),
    "add-domain": (
        lambda by, company, data: services.domain_add(by=by, company=company, domain=data.get("domain", "")),
        gettext_lazy("Domain added."),
    ),
    "remove-domain": (
        lambda by, company, data: services.domain_remove(by=by, company=company, domain=data.get("domain", "")),
        gettext_lazy("Domain removed."),
    ),
}


@vendor_required
@require_POST
def company_action(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    if action not in _ACTIONS:
        return message_page(request, _("Not found"), _("Unknown action."), status=404)
    run, done_message = _ACTIONS[action]
    try:
        company = selectors.company_get(slug=slug)
        run(acting_user(request), company, request.POST.dict())
    except ServiceError as exc:
        if exc.http_status in (403, 404):
            return refusal(request, exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, done_message)
    return redirect("tenants:company_detail", slug=slug)


@vendor_required
def pool(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        spare_pool_refill.delay()
        messages.success(request, _("Refill queued."))
        return redirect("tenants:pool")
    return render(request, "tenants/pool.html", {"pool": selectors.pool_state()})
