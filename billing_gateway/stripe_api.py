"""Stripe's adapter: the only place that calls Stripe's API. Every call on a company's behalf names its
connected account (the `Stripe-Account` header: direct charges, the company is the merchant of record);
every creation carries an idempotency key made from our own ids, so a retried request never makes a second
object. Answers are turned into the gateway interface's records (`interface`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from wuye.core.errors import ServiceError

from . import interface

PROVIDER = "stripe"

# Stripe's zero-decimal currencies: their amounts are whole units, not hundredths.
_ZERO_DECIMAL = {
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
}  # fmt: skip


class GatewayError(ServiceError):
    """Stripe refused or did not answer: the message says what the person can do."""


def configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def client() -> stripe.StripeClient:
    if not configured():
        raise GatewayError(_("Online payments are not set up on this platform."), code="gateway_not_configured")
    # Stripe's library retries network failures itself, with the same idempotency key.
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE}, max_network_retries=2
    )


def to_minor(amount: Decimal, currency: str) -> int:
    exponent = Decimal(1) if currency.upper() in _ZERO_DECIMAL else Decimal(100)
    return int((amount * exponent).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(value: Any, currency: str) -> Decimal:
    if currency.upper() in _ZERO_DECIMAL:
        return Decimal(int(value)).quantize(Decimal("0.01"))
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


def _call(operation: Any, *args: Any, **kwargs: Any) -> Any:
    """One API call; Stripe's refusals become a GatewayError with Stripe's message (in the person's words
    where Stripe gives them: a declined card, an amount too large), anything else a plain 'try again'."""
    try:
        return operation(*args, **kwargs)
    except stripe.InvalidRequestError as error:
        raise GatewayError(
            _("The payment service refused: %(message)s") % {"message": error.user_message or error.code or ""},
            code="gateway_refused",
        ) from error
    except stripe.StripeError as error:
        raise GatewayError(
            _("The payment service did not answer; nothing was changed. Try again in a moment."),
            code="gateway_unavailable",
        ) from error


# ------------------------------------------------------------------------------------------ accounts
def account_create(*, country: str, email: str, company_ref: str, idempotency_key: str) -> dict[str, Any]:
    account = _call(
        client().v1.accounts.create,
        {"type": "standard", "country": country, "email": email or None, "metadata": {"wuye_company": company_ref}},
        {"idempotency_key": idempotency_key},
    )
    return dict(account.to_dict())


def account_get(account_id: str) -> dict[str, Any]:
    return dict(_call(client().v1.accounts.retrieve, account_id).to_dict())


def account_link(*, account_id: str, refresh_url: str, return_url: str) -> str:
    link = _call(
        client().v1.account_links.create,
        {"account": account_id, "refresh_url": refresh_url, "return_url": return_url, "type": "account_onboarding"},
    )
    return str(link.url)


# ------------------------------------------------------------------------------------------ payments
def _status(intent: dict[str, Any]) -> str:
    status = intent.get("status")
    if status == "succeeded":
        return interface.SUCCEEDED
    if status in ("processing", "requires_capture"):
        return interface.PROCESSING
    if status == "canceled":
        return interface.CANCELED
    if status == "requires_payment_method" and intent.get("last_payment_error"):
        return interface.FAILED
    return interface.REQUIRES_PAYMENT


def payment_state(intent: dict[str, Any]) -> interface.PaymentState:
    currency = str(intent.get("currency") or "").upper()
    error = intent.get("last_payment_error") or {}
    status = _status(intent)
    # What was received, once received (Stripe may settle less than asked); what is asked, before.
    received = intent.get("amount_received") if status == interface.SUCCEEDED else None
    return interface.PaymentState(
        payment_ref=str(intent["id"]),
        status=status,
        amount=from_minor(received or intent.get("amount") or 0, currency),
        currency=currency,
        metadata={str(k): str(v) for k, v in (intent.get("metadata") or {}).items()},
        failure_message=str(error.get("message") or "") if isinstance(error, dict) else "",
    )


def checkout(account_id: str, intent: dict[str, Any]) -> interface.Checkout:
    return interface.Checkout(
        provider=PROVIDER,
        payment_ref=str(intent["id"]),
        client_secret=str(intent.get("client_secret") or ""),
        publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        account_ref=account_id,
        script_url=settings.STRIPE_JS_URL,
        status=_status(intent),
    )


def intent_create(
    *,
    account_id: str,
    amount: Decimal,
    currency: str,
    fee_bps: int,
    metadata: dict[str, str],
    description: str,
    idempotency_key: str,
) -> dict[str, Any]:
    minor = to_minor(amount, currency)
    params: dict[str, Any] = {
        "amount": minor,
        "currency": currency.lower(),
        # Card, and Alipay / WeChat Pay where the account's country and the currency allow them: Stripe decides.
        "automatic_payment_methods": {"enabled": True},
        "metadata": metadata,
        "description": description[:500],
    }
    fee = minor * fee_bps // 10000
    if fee > 0:
        params["application_fee_amount"] = fee
    intent = _call(
        client().v1.payment_intents.create,
        params,
        {"stripe_account": account_id, "idempotency_key": idempotency_key},
    )
    return dict(intent.to_dict())


def intent_get(*, account_id: str, intent_id: str) -> dict[str, Any]:
    return dict(_call(client().v1.payment_intents.retrieve, intent_id, None, {"stripe_account": account_id}).to_dict())


def intent_cancel(*, account_id: str, intent_id: str, idempotency_key: str) -> interface.PaymentState:
    intent = _call(
        client().v1.payment_intents.cancel,
        intent_id,
        {"cancellation_reason": "abandoned"},
        {"stripe_account": account_id, "idempotency_key": idempotency_key},
    )
    return payment_state(dict(intent.to_dict()))


def refund_create(
    *, account_id: str, intent_id: str, amount: Decimal, currency: str, reason: str, idempotency_key: str
) -> interface.RefundEvent:
    refund = _call(
        client().v1.refunds.create,
        {
            "payment_intent": intent_id,
            "amount": to_minor(amount, currency),
            "reason": "requested_by_customer",
            "metadata": {"wuye_reason": reason[:500]},
        },
        {"stripe_account": account_id, "idempotency_key": idempotency_key},
    )
    return refund_record(dict(refund.to_dict()), payment_ref=intent_id)


def refund_record(refund: dict[str, Any], *, payment_ref: str = "") -> interface.RefundEvent:
    currency = str(refund.get("currency") or "").upper()
    reason = (refund.get("metadata") or {}).get("wuye_reason") or refund.get("reason") or ""
    return interface.RefundEvent(
        refund_ref=str(refund["id"]),
        payment_ref=str(refund.get("payment_intent") or payment_ref),
        amount=from_minor(refund.get("amount") or 0, currency),
        currency=currency,
        reason=str(reason),
    )


def refunds_of_charge(*, account_id: str, charge_id: str) -> list[dict[str, Any]]:
    answer = _call(client().v1.refunds.list, {"charge": charge_id, "limit": 100}, {"stripe_account": account_id})
    return [dict(refund.to_dict()) for refund in answer.data]


def _between(listing: Any, account_id: str, start: dt.datetime, end: dt.datetime) -> Iterator[dict[str, Any]]:
    params: dict[str, Any] = {"created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())}, "limit": 100}
    while True:
        page = _call(listing, params, {"stripe_account": account_id})
        for item in page.data:
            yield dict(item.to_dict())
        if not page.has_more or not page.data:
            return
        params["starting_after"] = page.data[-1].id


def settlements(*, account_id: str, start: dt.datetime, end: dt.datetime) -> list[interface.Settlement]:
    """What Stripe holds for [start, end): succeeded payments and refunds (reconciliation)."""
    found: list[interface.Settlement] = []
    api = client()
    for intent in _between(api.v1.payment_intents.list, account_id, start, end):
        state = payment_state(intent)
        if state.status != interface.SUCCEEDED:
            continue
        found.append(
            interface.Settlement(
                kind="payment",
                ref=state.payment_ref,
                payment_ref=state.payment_ref,
                amount=state.amount,
                currency=state.currency,
                at=dt.datetime.fromtimestamp(int(intent["created"]), tz=dt.UTC),
            )
        )
    for refund in _between(api.v1.refunds.list, account_id, start, end):
        if refund.get("status") not in ("succeeded", "pending"):
            continue
        record = refund_record(refund)
        found.append(
            interface.Settlement(
                kind="refund",
                ref=record.refund_ref,
                payment_ref=record.payment_ref,
                amount=record.amount,
                currency=record.currency,
                at=dt.datetime.fromtimestamp(int(refund["created"]), tz=dt.UTC),
            )
        )
    return found
