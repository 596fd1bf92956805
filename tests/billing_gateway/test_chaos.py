"""Stripe's deliveries as they really come: 1,000 of them for 300 payments (and 10 refunds), ~30 %
duplicates, in shuffled order, 5 % forged. Every delivery goes through the gateway's verification and
store-once; the stored events are processed as a worker would (in the order it picks them, a failure left
for the retry, then the retries). The ledger must end exactly as the 300 payments and 10 refunds say:
each recorded once, against the right bills, forgeries refused and not stored."""

from __future__ import annotations

import json
import random
import time
from decimal import Decimal
from typing import Any

import pytest

from billing_gateway import services as gateway
from billing_gateway.models import ConnectedAccount, EventStatus, WebhookEvent
from modules.fees import selectors
from modules.fees.models import Bill, Payment, PaymentMethod, Refund
from tests.support import estate as estate_support
from tests.support import fees as fees_support
from tests.support.stripe_relay import stripe_signature
from wuye.core.errors import ServiceError
from wuye.testing.plugin import CompanyFixture, in_company

SECRET = "whsec_chaos_test"
ACCOUNT = "acct_chaos00001"
PAYMENTS, REFUNDS, DELIVERIES, FORGED_SHARE = 300, 10, 1000, 0.05


def _signed(payload: bytes, secret: str = SECRET) -> str:
    return stripe_signature(payload, secret)


def _event(event_id: str, kind: str, data: dict[str, Any]) -> bytes:
    body = {"id": event_id, "object": "event", "type": kind, "account": ACCOUNT, "created": int(time.time()),
            "livemode": False, "data": {"object": data}}  # fmt: skip
    return json.dumps(body).encode()


@pytest.mark.slow
def test_a_thousand_shuffled_duplicated_and_forged_deliveries_leave_the_ledger_exact(
    company_a: CompanyFixture, settings: Any
) -> None:
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    ConnectedAccount.objects.create(company=company_a.company, account_id=ACCOUNT, charges_enabled=True)
    with in_company(company_a):
        admin = company_a.admin()
        project = estate_support.project(admin)
        fees_support.tariff(admin, project, "property", "2.00")
        building = estate_support.building(admin, project=project)
        # Areas 50.00 .. 349.00 m² at 2.00: bills of 100.00 .. 698.00, all different.
        for n in range(PAYMENTS):
            fees_support.owned_unit(admin, building=building, area=f"{50 + n}.00")
        fees_support.post_month(admin, project, fees_support.JAN)
        bills = list(Bill.objects.filter(account__project=project).select_related("account").order_by("amount"))
    assert len(bills) == PAYMENTS

    events: list[bytes] = []
    for n, bill in enumerate(bills):
        intent = {"id": f"pi_chaos_{n:04d}", "object": "payment_intent", "status": "succeeded",
                  "amount": int(bill.amount * 100), "amount_received": int(bill.amount * 100), "currency": "cny",
                  "metadata": {"wuye_account": str(bill.account_id), "wuye_bills": str(bill.pk)}}  # fmt: skip
        events.append(_event(f"evt_pay_{n:04d}", "payment_intent.succeeded", intent))
    refunded = bills[:REFUNDS]
    for n, bill in enumerate(refunded):
        charge = {"id": f"ch_chaos_{n:04d}", "object": "charge", "payment_intent": f"pi_chaos_{n:04d}",
                  "refunds": {"data": [{"id": f"re_chaos_{n:04d}", "amount": int(bill.amount * 100),
                                        "status": "succeeded", "reason": "requested_by_customer"}]}}  # fmt: skip
        events.append(_event(f"evt_refund_{n:04d}", "charge.refunded", charge))

    rng = random.Random(20261127)
    forged_count = int(DELIVERIES * FORGED_SHARE)
    duplicates = [rng.choice(events) for _ in range(DELIVERIES - len(events) - forged_count)]
    deliveries = [(payload, _signed(payload)) for payload in events + duplicates]
    for _ in range(forged_count):  # a real event's body signed with someone else's secret, or tampered
        payload = rng.choice(events)
        if rng.random() < 0.5:
            deliveries.append((payload, _signed(payload, "whsec_not_ours")))
        else:
            deliveries.append((payload.replace(b'"amount_received": ', b'"amount_received": 1'), _signed(payload)))
    rng.shuffle(deliveries)
    assert len(deliveries) == DELIVERIES and len(duplicates) / DELIVERIES >= 0.3

    refused, stored = 0, []
    for payload, signature in deliveries:
        try:
            event, created = gateway.event_receive(payload=payload, signature=signature)
        except gateway.DeliveryRefused:
            refused += 1
            continue
        if created:
            stored.append(event.pk)
    assert refused == forged_count
    assert WebhookEvent.objects.count() == len(stored) == len(events)

    # A worker takes them in its own order; a refund that comes before its payment fails and is retried.
    rng.shuffle(stored)
    early_refunds = 0
    for key in stored + stored:  # each twice: a redelivered task changes nothing
        try:
            gateway.event_process(event_pk=key)
        except ServiceError as error:  # left failed, as the task would leave it for its retry
            assert error.code == "payment_unknown"
            early_refunds += 1
    assert early_refunds > 0, "the shuffle put no refund before its payment: the order is not being tested"
    for key in WebhookEvent.objects.filter(status=EventStatus.FAILED).values_list("pk", flat=True):
        gateway.event_process(event_pk=key)
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {EventStatus.PROCESSED}

    with in_company(company_a):
        payments = Payment.objects.filter(method=PaymentMethod.ONLINE)
        assert payments.count() == PAYMENTS
        assert sorted(payments.values_list("amount", flat=True)) == [bill.amount for bill in bills]
        assert Refund.objects.count() == REFUNDS
        assert sorted(Refund.objects.values_list("amount", flat=True)) == [bill.amount for bill in refunded]
        statuses = {bill.pk: bill.status for bill in selectors.bill_list(viewer=admin, project=project.pk)}
        refunded_ids = {bill.pk for bill in refunded}
        assert {key for key, status in statuses.items() if status != "paid"} == refunded_ids
        assert {statuses[key] for key in refunded_ids} == {"unpaid"}
        # Receipt numbers: 300 payments, no gap.
        numbers = sorted(int(number) for number in payments.values_list("receipt_number", flat=True))
        assert numbers == list(range(numbers[0], numbers[0] + PAYMENTS))
        total = sum((bill.amount for bill in bills), Decimal(0))
        assert sum(payments.values_list("amount", flat=True), Decimal(0)) == total
    assert settings.STRIPE_WEBHOOK_SECRET == SECRET
