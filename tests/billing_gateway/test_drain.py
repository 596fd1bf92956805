"""A burst of Stripe's confirmations is processed by the batch: one company's received events drained
together, the confirmed payments written by fees' batch handler in a fixed number of statements — and the
ledger must be what one-by-one processing writes: each payment on its bills, or oldest first when they were
paid meanwhile (also by an earlier payment of the same batch), a prepayment kept as credit, a payment
delivered twice recorded once, receipts numbered in order. One event naming no account makes the batch go
one by one: only that event fails."""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from typing import Any

import pytest

from billing_gateway import services as gateway
from billing_gateway.models import ConnectedAccount, EventStatus, WebhookEvent
from modules.fees import gateway as fees_gateway
from modules.fees import selectors
from modules.fees.models import Bill, OnlinePayment, OnlineStatus, Payment
from tests.support import estate as estate_support
from tests.support import fees as fees_support
from tests.support.stripe_relay import stripe_signature
from wuye.testing.plugin import CompanyFixture, in_company

SECRET = "whsec_drain_test"
ACCOUNT = "acct_drain00001"
FEB = dt.date(2026, 2, 1)


def _receive(event_id: str, intent: dict[str, Any]) -> WebhookEvent:
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "payment_intent.succeeded",
            "account": ACCOUNT,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": intent},
        }
    ).encode()
    stored, _created = gateway.event_receive(payload=body, signature=stripe_signature(body, SECRET))
    return stored


def _intent(ref: str, amount: str, account: Any = None, bills: list[Any] = ()) -> dict[str, Any]:
    metadata = {"wuye_bills": ",".join(str(bill.pk) for bill in bills)}
    if account is not None:
        metadata["wuye_account"] = str(account)
    fen = int(Decimal(amount) * 100)
    return {"id": ref, "object": "payment_intent", "amount": fen, "amount_received": fen, "currency": "cny",
            "status": "succeeded", "metadata": metadata}  # fmt: skip


@pytest.fixture
def site(company_a: CompanyFixture, settings: Any) -> dict[str, Any]:
    """Three households at 2.00 a m² a month, January and February billed: A 200.00 a month, B 100.00,
    C 160.00."""
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    ConnectedAccount.objects.create(company=company_a.company, account_id=ACCOUNT, charges_enabled=True)
    with in_company(company_a):
        admin = company_a.admin()
        project = estate_support.project(admin)
        building = estate_support.building(admin, project=project)
        fees_support.tariff(admin, project, "property", "2.00")
        units = {name: fees_support.owned_unit(admin, building=building, area=area) for name, area in
                 (("a", "100.00"), ("b", "50.00"), ("c", "80.00"))}  # fmt: skip
        fees_support.post_month(admin, project, fees_support.JAN)
        fees_support.post_month(admin, project, FEB)
        bills = {
            (name, bill.period.month): bill
            for name, unit in units.items()
            for bill in Bill.objects.filter(account__unit=unit).select_related("account")
        }
    return {"admin": admin, "bills": bills, "accounts": {name: bills[(name, 1)].account for name in units}}


def _burst(site: dict[str, Any], company: CompanyFixture, *, bad: bool) -> list[WebhookEvent]:
    bills, accounts = site["bills"], site["accounts"]
    with in_company(company):
        OnlinePayment.objects.create(
            account=accounts["c"], purpose="prepayment", amount="30.00", currency="CNY", payment_ref="pi_c1"
        )
    events = [
        _receive("evt_a1", _intent("pi_a1", "200.00", accounts["a"].pk, [bills[("a", 1)]])),
        # January is paid by pi_a1 in this very batch: this one goes to the oldest open bill, February.
        _receive("evt_a2", _intent("pi_a2", "200.00", accounts["a"].pk, [bills[("a", 1)]])),
        _receive("evt_b1", _intent("pi_b1", "150.00", accounts["b"].pk)),
        _receive("evt_c1", _intent("pi_c1", "30.00")),
        _receive("evt_b1_again", _intent("pi_b1", "150.00", accounts["b"].pk)),  # Stripe's second event of it
    ]
    if bad:
        events.insert(2, _receive("evt_x", _intent("pi_x", "10.00", "00000000-0000-0000-0000-000000000000")))
    return events


def _assert_ledger(site: dict[str, Any], company: CompanyFixture) -> None:
    admin, bills, accounts = site["admin"], site["bills"], site["accounts"]
    with in_company(company):
        status = {key: selectors.bill_get(viewer=admin, bill_id=bill.pk) for key, bill in bills.items()}
        assert {key: (found.status, found.balance) for key, found in status.items()} == {
            ("a", 1): ("paid", Decimal("0.00")),
            ("a", 2): ("paid", Decimal("0.00")),
            ("b", 1): ("paid", Decimal("0.00")),
            ("b", 2): ("part_paid", Decimal("50.00")),
            ("c", 1): ("unpaid", Decimal("160.00")),
            ("c", 2): ("unpaid", Decimal("160.00")),
        }
        credit = {name: selectors.account_get(viewer=admin, account_id=a.pk).credit for name, a in accounts.items()}
        assert credit == {"a": Decimal("0.00"), "b": Decimal("0.00"), "c": Decimal("30.00")}
        payments = list(
            Payment.objects.order_by("receipt_number").values_list("external_id", "amount", "receipt_number")
        )
        assert [(ref, amount) for ref, amount, _n in payments] == [
            ("pi_a1", Decimal("200.00")),
            ("pi_a2", Decimal("200.00")),
            ("pi_b1", Decimal("150.00")),
            ("pi_c1", Decimal("30.00")),
        ]
        numbers = [int(number) for _ref, _amount, number in payments]
        assert numbers == list(range(numbers[0], numbers[0] + 4))
        online = OnlinePayment.objects.get(payment_ref="pi_c1")
        assert online.status == OnlineStatus.SUCCEEDED and online.payment.external_id == "pi_c1"


def test_a_burst_is_written_by_the_batch_as_one_by_one_would(
    company_a: CompanyFixture, site: dict[str, Any], monkeypatch: Any
) -> None:
    events = _burst(site, company_a, bad=False)

    def one_by_one(_event: Any) -> None:
        raise AssertionError("the batch handler should have written these")

    monkeypatch.setattr(fees_gateway, "payment_succeeded", one_by_one)  # registered before: still the real one
    from billing_gateway import callbacks, interface

    monkeypatch.setitem(callbacks._handlers, interface.PAYMENT_SUCCEEDED, [one_by_one])
    assert gateway.events_drain(company_id=company_a.company.pk) == len(events)
    statuses = dict(WebhookEvent.objects.values_list("event_id", "status"))
    assert set(statuses.values()) == {EventStatus.PROCESSED}
    _assert_ledger(site, company_a)
    assert gateway.events_drain(company_id=company_a.company.pk) == 0  # nothing left, nothing twice


def test_one_event_naming_no_account_sends_the_batch_one_by_one_and_fails_alone(
    company_a: CompanyFixture, site: dict[str, Any]
) -> None:
    _burst(site, company_a, bad=True)
    gateway.events_drain(company_id=company_a.company.pk)
    statuses = dict(WebhookEvent.objects.values_list("event_id", "status"))
    assert statuses.pop("evt_x") == EventStatus.FAILED
    assert set(statuses.values()) == {EventStatus.PROCESSED}
    _assert_ledger(site, company_a)


def test_a_burst_asks_for_one_drain_until_it_starts(company_a: CompanyFixture, monkeypatch: Any) -> None:
    from billing_gateway import tasks

    # What is published is recorded instead of sent: the question is how many messages, not Celery.
    asked: list[int] = []
    monkeypatch.setattr(tasks.events_drain, "delay", lambda company_id: asked.append(company_id))
    gateway.drain_flag_clear(company_a.company.pk)
    for _ in range(5):
        gateway.drain_queue(company_a.company.pk)
    assert asked == [company_a.company.pk]
    gateway.events_drain(company_id=company_a.company.pk)  # the drain starts: the next event asks again
    gateway.drain_queue(company_a.company.pk)
    assert asked == [company_a.company.pk] * 2
    gateway.drain_flag_clear(company_a.company.pk)


def test_the_sweep_takes_up_events_left_received_or_failed(
    company_a: CompanyFixture, site: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from django.utils import timezone

    bills, accounts = site["bills"], site["accounts"]
    waiting = _receive("evt_lost_task", _intent("pi_lost", "200.00", accounts["a"].pk, [bills[("a", 1)]]))
    failed = _receive("evt_failed", _intent("pi_failed", "100.00", accounts["b"].pk, [bills[("b", 1)]]))
    WebhookEvent.objects.filter(pk=failed.pk).update(status=EventStatus.FAILED, error="the ledger was down")
    assert gateway.events_sweep() == 0  # too recent: their own tasks may still come
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    WebhookEvent.objects.filter(pk__in=[waiting.pk, failed.pk]).update(received_at=an_hour_ago)
    assert gateway.events_sweep() == 2  # the company's drain, and the failed event's retry (run inline here)
    statuses = dict(WebhookEvent.objects.values_list("event_id", "status"))
    assert statuses == {"evt_lost_task": EventStatus.PROCESSED, "evt_failed": EventStatus.PROCESSED}
    with in_company(company_a):
        assert set(Payment.objects.values_list("external_id", flat=True)) == {"pi_lost", "pi_failed"}


def test_an_event_that_cannot_be_read_fails_alone_and_does_not_hold_the_drain(
    company_a: CompanyFixture, site: dict[str, Any], settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""  # a charge.refunded without its refunds needs the API: here it cannot
    bills, accounts = site["bills"], site["accounts"]
    body = {"id": "evt_refund_unreadable", "object": "event", "type": "charge.refunded", "account": ACCOUNT,
            "created": int(time.time()), "data": {"object": {"id": "ch_1", "object": "charge",
                                                             "payment_intent": "pi_1"}}}  # fmt: skip
    payload = json.dumps(body).encode()
    gateway.event_receive(payload=payload, signature=stripe_signature(payload, SECRET))
    _receive("evt_fine", _intent("pi_fine", "200.00", accounts["a"].pk, [bills[("a", 1)]]))
    assert gateway.events_drain(company_id=company_a.company.pk) == 2
    statuses = dict(WebhookEvent.objects.values_list("event_id", "status"))
    assert statuses == {"evt_refund_unreadable": EventStatus.FAILED, "evt_fine": EventStatus.PROCESSED}
