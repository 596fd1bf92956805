"""Fees' handlers of the gateway's events (modules/fees/gateway.py), one case at a time: the money of a
payment whose bills were paid meanwhile at the desk is kept as prepayment, a refund recorded from the
console is not recorded again from its webhook, and a payment naming no account of the company fails
visibly."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest

from billing_gateway import services as gateway
from billing_gateway.models import ConnectedAccount, EventStatus, WebhookEvent
from modules.fees import selectors, services
from modules.fees.models import Bill, Payment, PaymentMethod, Refund
from tests.support import fees as fees_support
from tests.support.stripe_relay import stripe_signature
from wuye.core.errors import ServiceError
from wuye.testing.plugin import CompanyFixture, in_company

SECRET = "whsec_fees_events"
ACCOUNT = "acct_feesevents1"


@pytest.fixture
def world(company_a: CompanyFixture, settings: Any) -> dict[str, Any]:
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    ConnectedAccount.objects.create(company=company_a.company, account_id=ACCOUNT, charges_enabled=True)
    with in_company(company_a):
        admin = company_a.admin()
        unit = fees_support.owned_unit(admin, area="100.00")
        fees_support.tariff(admin, unit.project, "property", "2.50")
        fees_support.post_month(admin, unit.project, fees_support.JAN)
        bill = Bill.objects.select_related("account").get(account__unit=unit)  # 100 m² × 2.50 = 250.00
    return {"admin": admin, "bill": bill, "account": bill.account}


def _deliver(event_id: str, kind: str, data: dict[str, Any]) -> WebhookEvent:
    payload = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "account": ACCOUNT,
            "created": int(time.time()),
            "data": {"object": data},
        }
    ).encode()
    event, _created = gateway.event_receive(payload=payload, signature=stripe_signature(payload, SECRET))
    return event


def _intent(intent_id: str, world: dict[str, Any], amount: int = 25000, account: str | None = None) -> dict[str, Any]:
    return {
        "id": intent_id, "object": "payment_intent", "amount": amount, "amount_received": amount, "currency": "cny",
        "metadata": {"wuye_account": account or str(world["account"].pk), "wuye_bills": str(world["bill"].pk)},
    }  # fmt: skip


def test_a_payment_for_bills_paid_meanwhile_at_the_desk_becomes_prepayment(
    company_a: CompanyFixture, world: dict[str, Any]
) -> None:
    with in_company(company_a):
        services.payment_record(by=world["admin"], account=world["account"], amount="250.00", method="cash")
    event = _deliver("evt_late_1", "payment_intent.succeeded", _intent("pi_late_1", world))
    assert gateway.event_process(event_pk=event.pk).status == EventStatus.PROCESSED
    with in_company(company_a):
        online = Payment.objects.get(external_id="pi_late_1")
        assert (online.method, online.amount) == (PaymentMethod.ONLINE, Decimal("250.00"))
        assert selectors.account_get(viewer=world["admin"], account_id=world["account"].pk).credit == Decimal("250.00")


def test_a_refund_recorded_from_the_console_is_not_recorded_again_from_its_webhook(
    company_a: CompanyFixture, world: dict[str, Any]
) -> None:
    paid = _deliver("evt_pay_2", "payment_intent.succeeded", _intent("pi_2", world))
    gateway.event_process(event_pk=paid.pk)
    with in_company(company_a):
        payment = Payment.objects.get(external_id="pi_2")
        # The console refunded 100.00 and recorded it from Stripe's answer, with Stripe's refund id.
        services.refund_record(
            by=world["admin"], account=world["account"], amount="100.00", reason="部分退款",
            method=PaymentMethod.ONLINE, payment=payment, external_id="re_2",
        )  # fmt: skip
    charge = {"id": "ch_2", "object": "charge", "payment_intent": "pi_2",
              "refunds": {"data": [{"id": "re_2", "amount": 10000, "status": "succeeded"}]}}  # fmt: skip
    refunded = _deliver("evt_refund_2", "charge.refunded", charge)
    assert gateway.event_process(event_pk=refunded.pk).status == EventStatus.PROCESSED
    with in_company(company_a):
        assert list(Refund.objects.values_list("external_id", "amount")) == [("re_2", Decimal("100.00"))]


def test_a_payment_naming_no_account_of_the_company_fails_visibly(
    company_a: CompanyFixture, world: dict[str, Any]
) -> None:
    stray = _deliver("evt_stray", "payment_intent.succeeded", _intent("pi_stray", world, account="not-an-id"))
    with pytest.raises(ServiceError):
        gateway.event_process(event_pk=stray.pk)
    stray.refresh_from_db()
    assert stray.status == EventStatus.FAILED and "no household account" in stray.error
    with in_company(company_a):
        assert not Payment.objects.filter(external_id="pi_stray").exists()
