"""Pages of the gateway and its public webhook endpoint.

- `stripe_webhook`: the endpoint Stripe delivers Connect events to (one for every company, base domain).
- `stripe_account` (a company's domain, its administrator): connect the company's Stripe account through
  Stripe's hosted onboarding, and see whether it can take charges and be paid out, and what Stripe still
  asks for.
- `accounts` (the vendor console): every company's connected account and the platform's fee on it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tenants.views import vendor_required
from wuye.accounts.policies import acting_user
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.core.policies import allowed
from wuye.portal.views import form_errors_add, refusal

from . import policies, selectors, services, stripe_api


@csrf_exempt  # Stripe signs the body instead; there is no session here
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Verify, store once, queue; 200 as soon as the event is safely stored (also for a duplicate or an
    unknown account, so that Stripe stops retrying), 400 for anything not genuine, 413 for a body far too
    large to be an event. Nothing is stored unless the signature holds."""
    limit = settings.STRIPE_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return JsonResponse({"error": "too_large"}, status=413)
    payload = request.read(limit + 1)
    if len(payload) > limit:
        return JsonResponse({"error": "too_large"}, status=413)
    try:
        event, created = services.event_receive(
            payload=payload, signature=request.META.get("HTTP_STRIPE_SIGNATURE", "")
        )
    except services.DeliveryRefused as refused:
        return JsonResponse({"error": refused.code}, status=400)
    return JsonResponse({"received": event.event_id, "duplicate": not created, "status": event.status})


def _webhook_url() -> str:
    port = f":{settings.URL_PORT}" if settings.URL_PORT else ""
    path = reverse("billing_gateway:stripe_webhook", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
    return f"{settings.URL_SCHEME}://{settings.BASE_DOMAIN}{port}{path}"


# ------------------------------------------------------------------------------------------ the company
class ConnectForm(forms.Form):
    country = forms.ChoiceField(
        label=gettext_lazy("Country of the company's Stripe account"),
        choices=[(code, code) for code in services.COUNTRIES],
        help_text=gettext_lazy(
            "Stripe takes merchants registered in these countries; a company registered in mainland China "
            "connects the account of its Hong Kong (or other) entity."
        ),
    )
    email = forms.EmailField(label=gettext_lazy("E-mail for Stripe"), required=False)


@login_required
def stripe_account(request: HttpRequest) -> HttpResponse:
    """The company administrator's page of online payments. POST connect: make the account if there is
    none and go to Stripe's onboarding; POST refresh: ask Stripe again. Stripe sends the administrator
    back here (return) or to start again (refresh)."""
    viewer = acting_user(request)
    if not allowed(viewer, policies.CONNECT):
        return refusal(request, PolicyDenied(_("You do not have permission to do this.")))
    company = selectors.current_company()
    connected = selectors.account_for(company=company)
    form = ConnectForm(request.POST or None, initial={"country": "HK", "email": getattr(viewer, "email", "")})
    if request.method == "POST":
        try:
            if request.POST.get("action") == "refresh":
                services.account_refresh(by=viewer, company=company)
                messages.success(request, _("Stripe's answer is shown below."))
                return redirect("billing_gateway:stripe_account")
            if connected is not None or form.is_valid():
                here = request.build_absolute_uri(reverse("billing_gateway:stripe_account"))
                link = services.account_connect(
                    by=viewer,
                    company=company,
                    country=form.cleaned_data.get("country", "") if connected is None else "",
                    email=form.cleaned_data.get("email", "") if connected is None else "",
                    return_url=here + "?returned=1",
                    refresh_url=here + "?refresh=1",
                )
                return redirect(link)
        except ServiceError as error:
            if error.http_status in (403, 404):
                return refusal(request, error)
            form_errors_add(form, error)
            messages.error(request, error.message)
    if connected is not None and request.GET.get("returned"):
        try:  # back from Stripe: show what it says now, without waiting for its event
            connected = services.account_refresh(by=viewer, company=company)
        except ServiceError as error:
            messages.error(request, error.message)
    return render(
        request,
        "billing_gateway/stripe_account.html",
        {
            "connected": connected,
            "form": form,
            "configured": stripe_api.configured(),
            "webhook_url": _webhook_url(),
            "again": bool(request.GET.get("refresh")),
        },
    )


# ------------------------------------------------------------------------------------------ the vendor
@vendor_required
def accounts(request: HttpRequest) -> HttpResponse:
    """Every company's connected Stripe account, its state, and the platform's fee (POST: set one)."""
    if request.method == "POST":
        try:
            connected = selectors.account_get(account_pk=request.POST.get("account"))
            services.application_fee_set(by=acting_user(request), connected=connected, bps=request.POST.get("bps"))
        except ServiceError as error:
            if error.http_status in (403, 404):
                return refusal(request, error)
            messages.error(request, error.message)
        else:
            messages.success(request, _("The platform's fee is saved."))
        return redirect("billing_gateway:accounts")
    rows: list[Any] = list(selectors.accounts_list())
    return render(request, "billing_gateway/accounts.html", {"accounts": rows, "max_bps": services.MAX_FEE_BPS})
