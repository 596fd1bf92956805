"""The gateway interface: what a tenant module sends and hears back, in words that do not depend on the
provider. Stripe's adapter (`stripe_api`, `events`) speaks it today; a direct WeChat Pay or Alipay adapter
would produce the same records from its own API answers and notifications, and fees would not change.

Amounts are Decimals in the currency's main unit (yuan); the adapter converts to and from the provider's
smallest unit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

# What a payment can be, as the owner's result page tells it.
REQUIRES_PAYMENT = "requires_payment"  # started, the owner has not paid (or must try another way)
PROCESSING = "processing"  # the owner paid, the provider has not confirmed yet
SUCCEEDED = "succeeded"
FAILED = "failed"  # the last attempt failed; the owner may try again with the same payment
CANCELED = "canceled"
PAYMENT_STATES = (REQUIRES_PAYMENT, PROCESSING, SUCCEEDED, FAILED, CANCELED)

# Names modules register their handlers under (`callbacks.register`).
PAYMENT_SUCCEEDED = "payment.succeeded"
PAYMENT_FAILED = "payment.failed"
PAYMENT_PROCESSING = "payment.processing"
PAYMENT_CANCELED = "payment.canceled"
REFUND_SETTLED = "refund.settled"


@dataclass(frozen=True)
class Checkout:
    """A payment started with the provider: what the owner's browser needs to pay it."""

    provider: str
    payment_ref: str  # the provider's id (Stripe: the PaymentIntent's pi_...)
    client_secret: str
    publishable_key: str
    account_ref: str  # the company's account with the provider (Stripe: acct_...)
    script_url: str
    status: str


@dataclass(frozen=True)
class PaymentState:
    """A payment as the provider holds it: from an API answer, or from its notification (the records the
    PAYMENT_* handlers receive)."""

    payment_ref: str
    status: str  # one of PAYMENT_STATES
    amount: Decimal
    currency: str
    metadata: dict[str, str] = field(default_factory=dict)
    failure_message: str = ""


@dataclass(frozen=True)
class RefundEvent:
    """Money paid back on a payment: from the API's answer or from the provider's notification, the same."""

    refund_ref: str
    payment_ref: str
    amount: Decimal
    currency: str
    reason: str = ""


@dataclass(frozen=True)
class Settlement:
    """One movement the provider reports for a day (reconciliation): a payment received or a refund."""

    kind: str  # "payment" or "refund"
    ref: str
    payment_ref: str
    amount: Decimal
    currency: str
    at: dt.datetime
