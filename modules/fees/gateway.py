"""What online payments mean for the ledger: fees' handlers of the gateway's Stripe events (registered
with `billing_gateway.callbacks` when the app is ready). They run in the company's schema, once per event,
and are safe to run again: a provider's payment or refund id is recorded once (unique), whatever the
number and the order of the deliveries.

A PaymentIntent this platform creates carries the household account and the bills it pays in its metadata
(`wuye_account`, `wuye_bills`: ids, comma-separated)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from wuye.core.errors import ServiceError
from wuye.core.ids import as_uuid

from . import services
from .models import Account, Bill, Payment, PaymentMethod

logger = logging.getLogger(__name__)

ACCOUNT_KEY = "wuye_account"
BILLS_KEY = "wuye_bills"


def _object(event: Any, kind: str) -> dict[str, Any] | None:
    found = (event.payload.get("data") or {}).get("object") or {}
    return found if found.get("object") == kind else None


def _minor(value: Any) -> Decimal:
    """Stripe's amounts are in the currency's smallest unit (fen)."""
    return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


def payment_succeeded(event: Any) -> None:
    """`payment_intent.succeeded`: one payment in the ledger, allocated to the bills it was for (or, if they
    were paid meanwhile at the desk, oldest first and the rest as prepayment), with its receipt number."""
    intent = _object(event, "payment_intent")
    if intent is None:
        return
    metadata = intent.get("metadata") or {}
    key = as_uuid(metadata.get(ACCOUNT_KEY))
    account = Account.objects.filter(pk=key).first() if key else None
    if account is None:
        raise ServiceError(f"payment {intent.get('id')} names no household account of this company", code="no_account")
    amount = _minor(intent.get("amount_received") or intent.get("amount") or 0)
    bill_ids = [key for key in (as_uuid(part) for part in str(metadata.get(BILLS_KEY) or "").split(",")) if key]
    bills = list(Bill.objects.filter(pk__in=bill_ids, account=account)) if bill_ids else None
    provider_id = str(intent["id"])

    def record(chosen: list[Bill] | None) -> None:
        services.payment_record(
            by=None,
            account=account,
            amount=amount,
            method=PaymentMethod.ONLINE,
            bills=chosen,
            reference=provider_id,
            external_id=provider_id,
        )

    try:
        record(bills or None)
    except ServiceError as refused:
        if not bills:
            raise
        # The money arrived all the same: what those bills no longer owe goes to the oldest, then prepayment.
        logger.info("payment %s: its bills refused it (%s); recorded oldest first", provider_id, refused.code)
        record(None)


def charge_refunded(event: Any) -> None:
    """`charge.refunded`: each of the charge's refunds once, against the payment it refunds. A refund the
    console already recorded from the API's answer carries the same id and is not recorded again."""
    charge = _object(event, "charge")
    if charge is None:
        return
    payment = Payment.objects.filter(external_id=charge.get("payment_intent")).select_related("account").first()
    if payment is None:
        # Delivered before the payment it refunds: the event stays failed, and its retry finds the payment.
        raise ServiceError(f"refund of {charge.get('payment_intent')} before its payment", code="payment_unknown")
    for refund in (charge.get("refunds") or {}).get("data") or []:
        if refund.get("status") not in (None, "succeeded", "pending"):
            continue
        services.refund_record(
            by=None,
            account=payment.account,
            amount=_minor(refund["amount"]),
            reason=str(refund.get("reason") or "Stripe refund"),
            method=PaymentMethod.ONLINE,
            payment=payment,
            external_id=refund["id"],
        )


def register_handlers() -> None:
    from billing_gateway import callbacks

    callbacks.register("payment_intent.succeeded", payment_succeeded)
    callbacks.register("charge.refunded", charge_refunded)
