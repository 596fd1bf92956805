"""Reads of the gateway: a company's connected account and whether its owners can pay online, a payment as
the provider holds it, what the provider settled for a day (reconciliation), and the vendor's list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext

from wuye.core.errors import NotFound, ServiceError

from . import interface, stripe_api
from .models import ConnectedAccount


def current_company() -> Any:
    """The company whose schema is active: the request's tenant, or (in a task, a shell, `schema_context`)
    the company of the connection's schema."""
    from django.db import connection

    from tenants.models import Company

    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Company):
        return tenant
    schema = connection.schema_name  # type: ignore[attr-defined]  # django-tenants' connection
    return Company.objects.filter(schema_name=schema).first()


def account_for(*, company: Any) -> ConnectedAccount | None:
    return ConnectedAccount.objects.filter(company=company).first()


def payments_open(*, company: Any) -> bool:
    """Owners can pay online: the platform has its keys and the company's account can take charges."""
    return stripe_api.configured() and ConnectedAccount.objects.filter(company=company, charges_enabled=True).exists()


def connected_get(*, company: Any) -> ConnectedAccount:
    """The company's connected account, or a refusal that says there is none."""
    connected = account_for(company=company)
    if connected is None:
        raise ServiceError(gettext("No Stripe account is connected."), code="not_connected")
    return connected


def checkout_get(*, company: Any, payment_ref: str) -> interface.Checkout:
    """What the owner's browser needs to (go on) paying a started payment; the client secret is asked of
    Stripe each time rather than kept here."""
    connected = connected_get(company=company)
    intent = stripe_api.intent_get(account_id=connected.account_id, intent_id=payment_ref)
    return stripe_api.checkout(connected.account_id, intent)


def payment_get(*, company: Any, payment_ref: str) -> interface.PaymentState:
    connected = connected_get(company=company)
    return stripe_api.payment_state(stripe_api.intent_get(account_id=connected.account_id, intent_id=payment_ref))


def settlements(*, company: Any, start: dt.datetime, end: dt.datetime) -> list[interface.Settlement]:
    connected = connected_get(company=company)
    return stripe_api.settlements(account_id=connected.account_id, start=start, end=end)


def account_get(*, account_pk: Any) -> ConnectedAccount:
    """One connected account by its row id, as the vendor's page posts it; anything else is not found."""
    key = str(account_pk or "").strip()
    found = ConnectedAccount.objects.filter(pk=int(key)).first() if key.isdigit() else None
    if found is None:
        raise NotFound(gettext("No such account."))
    return found


def accounts_list() -> QuerySet[ConnectedAccount]:
    return ConnectedAccount.objects.select_related("company").order_by("company__name")
