"""What online payments mean for the ledger: fees' handlers of the gateway interface's records (registered
with `billing_gateway.callbacks` when the app is ready). They run in the company's schema, once per event,
and are safe to run again: a provider's payment or refund id is recorded once (unique), whatever the
number and the order of the deliveries. Fees never sees the provider's own payloads.

A payment this platform starts carries the household account, the bills it pays and the online payment
in its metadata (`wuye_account`, `wuye_bills`: ids, comma-separated; `wuye_online_payment`)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from wuye.core.errors import ServiceError
from wuye.core.ids import as_uuid

from . import services
from .models import Bill, OnlinePayment, OnlinePurpose, OnlineStatus, Payment, PaymentMethod

ACCOUNT_KEY = "wuye_account"
BILLS_KEY = "wuye_bills"
ONLINE_KEY = "wuye_online_payment"


def _online(payment_ref: str) -> OnlinePayment | None:
    return OnlinePayment.objects.select_for_update().filter(payment_ref=payment_ref).first()


def _metadata(event: Any) -> tuple[Any, list[Any]]:
    """The household account and the bills a payment's metadata names (ids; what is not one is left out)."""
    bills = [key for key in (as_uuid(part) for part in str(event.metadata.get(BILLS_KEY) or "").split(",")) if key]
    return as_uuid(event.metadata.get(ACCOUNT_KEY)), bills


def payment_succeeded(event: Any) -> None:
    """The provider confirmed a payment: one payment in the ledger, allocated to the bills it was for (or,
    if they were paid meanwhile at the desk, oldest first and the rest as prepayment), with its receipt
    number; the owner's online payment shows it. A batch of one (`payments_succeeded`)."""
    payments_succeeded([event])


def payments_succeeded(events: list[Any]) -> None:
    """Confirmations of payments (a batch of one company's events), in a fixed number of statements
    whatever their number (`services.online_payments_record`): what each is for comes from its online
    payment — the chosen bills, everything due (oldest first), or a prepayment (no bill) — or, for a
    payment started elsewhere, from its metadata. Refuses the whole batch (ServiceError) when one names no
    account of the company: the gateway then takes them one by one, and only that one fails."""
    refs = list(dict.fromkeys(event.payment_ref for event in events))
    onlines = {
        online.payment_ref: online
        for online in OnlinePayment.objects.select_for_update(of=("self",))
        .filter(payment_ref__in=refs)
        .prefetch_related("bills")
    }
    # A payment started elsewhere says in its metadata whose it is and which bills it pays.
    named = {event.payment_ref: _metadata(event) for event in events if event.payment_ref not in onlines}
    wanted_bills = {key for _account, keys in named.values() for key in keys}
    bill_accounts = (
        dict(Bill.objects.filter(pk__in=wanted_bills).values_list("pk", "account_id")) if wanted_bills else {}
    )
    receipts: list[services.OnlineReceipt] = []
    for event in events:
        online = onlines.get(event.payment_ref)
        account_id: Any
        bill_ids: list[Any] | None
        if online is not None:
            account_id = online.account_id
            bill_ids = None if online.purpose == OnlinePurpose.EVERYTHING else [bill.pk for bill in online.bills.all()]
        else:
            account_id, keys = named[event.payment_ref]
            if account_id is None:
                raise ServiceError(f"payment {event.payment_ref} names no household account", code="no_account")
            bill_ids = [key for key in keys if bill_accounts.get(key) == account_id] or None
        receipts.append(
            services.OnlineReceipt(
                account_id=account_id, amount=event.amount, external_id=event.payment_ref, bill_ids=bill_ids
            )
        )
    payments = services.online_payments_record(receipts)
    now = timezone.now()
    paid = []
    for ref, online in onlines.items():
        if online.status != OnlineStatus.SUCCEEDED and ref in payments:
            online.status, online.payment, online.failure_message, online.updated_at = (
                OnlineStatus.SUCCEEDED,
                payments[ref],
                "",
                now,
            )
            paid.append(online)
    OnlinePayment.objects.bulk_update(paid, ["status", "payment", "failure_message", "updated_at"])


def _status_follow(event: Any, status: str) -> None:
    """A payment failed, is processing or was cancelled: the owner's page says so. A later event never
    takes a paid one back (deliveries come in any order)."""
    online = _online(event.payment_ref)
    if online is None or online.status == OnlineStatus.SUCCEEDED:
        return
    online.status = status
    online.failure_message = (event.failure_message or "")[:300] if status == OnlineStatus.FAILED else ""
    online.updated_at = timezone.now()
    online.save(update_fields=["status", "failure_message", "updated_at"])


def payment_failed(event: Any) -> None:
    _status_follow(event, OnlineStatus.FAILED)


def payment_processing(event: Any) -> None:
    _status_follow(event, OnlineStatus.PROCESSING)


def payment_canceled(event: Any) -> None:
    _status_follow(event, OnlineStatus.CANCELED)


def refund_settled(refund: Any) -> None:
    """Money paid back on an online payment: recorded once against the payment it refunds, whether the
    console recorded it first from the API's answer or this is the provider's event."""
    payment = Payment.objects.filter(external_id=refund.payment_ref).select_related("account").first()
    if payment is None:
        # Delivered before the payment it refunds: the event stays failed, and its retry finds the payment.
        raise ServiceError(f"refund of {refund.payment_ref} before its payment", code="payment_unknown")
    services.refund_record(
        by=None,
        account=payment.account,
        amount=refund.amount,
        reason=refund.reason or "Stripe refund",
        method=PaymentMethod.ONLINE,
        payment=payment,
        external_id=refund.refund_ref,
    )


def register_handlers() -> None:
    from billing_gateway import callbacks, interface

    callbacks.register(interface.PAYMENT_SUCCEEDED, payment_succeeded)
    callbacks.register_batch(interface.PAYMENT_SUCCEEDED, payments_succeeded)
    callbacks.register(interface.PAYMENT_FAILED, payment_failed)
    callbacks.register(interface.PAYMENT_PROCESSING, payment_processing)
    callbacks.register(interface.PAYMENT_CANCELED, payment_canceled)
    callbacks.register(interface.REFUND_SETTLED, refund_settled)
