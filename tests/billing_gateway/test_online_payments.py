"""Owners paying online, end to end against the Stripe emulator with the real `stripe` library: a company
connects its account through Connect onboarding; an owner pays a bill (the PaymentIntent is a direct
charge on the company's account, with the platform's fee, an idempotency key from our id); the emulator's
signed webhook writes one payment in the ledger with its receipt; a declined card shows on the owner's
page; staff refund part of it, once, whether the API's answer or the webhook comes first; the daily
reconciliation finds what Stripe holds and the ledger lacks; and every refusal changes nothing.
Pages are asked for in English (the language cookie)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from billing_gateway import services as gateway
from billing_gateway.models import ConnectedAccount, EventStatus
from modules.fees import selectors, services
from modules.fees.models import (
    Bill,
    DifferenceKind,
    OnlinePayment,
    OnlineStatus,
    Payment,
    PaymentMethod,
    Refund,
)
from tests.billing_gateway.conftest import Webhooks, connect
from tests.support import fees as fees_support
from tests.support import helpdesk as people
from wuye.core.errors import ServiceError
from wuye.testing.plugin import CompanyFixture, in_company

pytestmark = pytest.mark.usefixtures("stripe_on")


def _client(company_client: Any, company: CompanyFixture, user: Any) -> Any:
    client = company_client(company)
    with in_company(company):
        client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def home(company_a: CompanyFixture) -> dict[str, Any]:
    """An owned unit of 100 m² at 2.50 a month with its January bill (250.00), its owner's portal account,
    and a second household's bill in the same project."""
    with in_company(company_a):
        admin = company_a.admin()
        project = fees_support.estate_support.project(admin)
        building = fees_support.estate_support.building(admin, project=project)
        unit = fees_support.estate_support.unit(admin, building=building, floor_area=Decimal("100.00"))
        owner = people.owner_account(admin, unit, on=fees_support.JAN, email="owner-home@example.test")
        other_unit = fees_support.owned_unit(admin, building=building, area="40.00")
        fees_support.tariff(admin, project, "property", "2.50")
        fees_support.post_month(admin, project, fees_support.JAN)
        bill = Bill.objects.select_related("account").get(account__unit=unit)
        other = Bill.objects.get(account__unit=other_unit)
    return {"admin": admin, "owner": owner, "bill": bill, "account": bill.account, "other_bill": other}


@pytest.fixture
def connected(company_a: CompanyFixture, stripe_on: Any, webhooks: Webhooks) -> ConnectedAccount:
    return connect(company_a, stripe_on, webhooks)


def _start(company: CompanyFixture, home: dict[str, Any], **choice: Any) -> tuple[OnlinePayment, Any]:
    with in_company(company):
        return services.online_payment_start(by=home["owner"], account=home["account"], **choice)


def _intent(stripe_on: Any, connected: ConnectedAccount, intent_id: str) -> Any:
    return stripe_on.client().v1.payment_intents.retrieve(intent_id, None, {"stripe_account": connected.account_id})


# ------------------------------------------------------------------------------------------ connecting
def test_the_admin_connects_the_company_account_and_owners_may_then_pay_online(
    company_a: CompanyFixture, company_client: Any, stripe_on: Any, webhooks: Webhooks, home: dict[str, Any]
) -> None:
    owner = _client(company_client, company_a, home["owner"])
    assert "please pay at the front desk" in owner.get("/fees/my/").content.decode()
    admin = _client(company_client, company_a, home["admin"])
    page = admin.get("/payments/stripe/")
    assert page.status_code == 200 and "Connect with Stripe" in page.content.decode()
    answer = admin.post("/payments/stripe/", {"action": "connect", "country": "HK", "email": "cfo@example.test"})
    assert answer.status_code == 302 and answer["Location"].startswith(stripe_on.url + "/_harness/onboarding/")
    connected = ConnectedAccount.objects.get(company=company_a.company)
    assert (connected.charges_enabled, connected.requirements != []) == (False, True)
    back = stripe_on.complete_onboarding(answer["Location"])
    assert back.endswith("/payments/stripe/?returned=1")
    event = webhooks.deliver("account.updated", connected.account_id)
    assert event.status == EventStatus.PROCESSED and event.company == company_a.company
    connected.refresh_from_db()
    assert (connected.charges_enabled, connected.payouts_enabled, connected.requirements) == (True, True, [])
    page = admin.get("/payments/stripe/?returned=1").content.decode()
    assert connected.account_id in page and "Owners can pay their bills online." in page
    mine = owner.get("/fees/my/").content.decode()
    assert "please pay at the front desk" not in mine and "Pay the chosen bills" in mine


def test_an_unfinished_onboarding_keeps_owners_at_the_desk_and_shows_what_stripe_asks(
    company_b: CompanyFixture, company_client: Any, stripe_on: Any, webhooks: Webhooks
) -> None:
    with in_company(company_b):
        admin = company_b.admin()
    client = _client(company_client, company_b, admin)
    answer = client.post("/payments/stripe/", {"action": "connect", "country": "SG"})
    stripe_on.complete_onboarding(answer["Location"], outcome="incomplete")
    connected = ConnectedAccount.objects.get(company=company_b.company)
    page = client.get("/payments/stripe/?returned=1").content.decode()
    connected.refresh_from_db()
    assert not connected.charges_enabled and connected.details_submitted and connected.requirements
    assert connected.requirements[0] in page and "Not yet" in page


def test_only_the_company_admin_connects_and_a_country_stripe_does_not_take_is_refused(
    company_a: CompanyFixture, company_client: Any, home: dict[str, Any]
) -> None:
    owner = _client(company_client, company_a, home["owner"])
    assert owner.get("/payments/stripe/").status_code == 403
    with pytest.raises(ServiceError) as refused:
        gateway.account_connect(
            by=home["admin"], company=company_a.company, country="CN", email="", return_url="x", refresh_url="y"
        )
    assert refused.value.code == "country_invalid"
    assert not ConnectedAccount.objects.filter(company=company_a.company).exists()


# ------------------------------------------------------------------------------------------ paying
def test_an_owner_pays_a_bill_and_the_webhook_writes_one_payment_with_its_receipt(
    company_a: CompanyFixture,
    company_client: Any,
    stripe_on: Any,
    webhooks: Webhooks,
    connected: ConnectedAccount,
    home: dict[str, Any],
) -> None:
    gateway.application_fee_set(by=_vendor(), connected=connected, bps=150)
    owner = _client(company_client, company_a, home["owner"])
    answer = owner.post("/fees/my/pay/", {"account": str(home["account"].pk), "bills": [str(home["bill"].pk)]})
    assert answer.status_code == 302
    with in_company(company_a):
        online = OnlinePayment.objects.get(account=home["account"])
    assert answer["Location"] == f"/fees/my/pay/{online.pk}/"
    assert (online.amount, online.currency, online.status) == (Decimal("250.00"), "CNY", OnlineStatus.REQUIRES_PAYMENT)
    # A direct charge on the company's account, for the ledger's amount in fen, with the platform's 1.5 %.
    intent = _intent(stripe_on, connected, online.payment_ref)
    assert (intent.amount, intent.currency, intent.application_fee_amount) == (25000, "cny", 375)
    assert intent.metadata["wuye_bills"] == str(home["bill"].pk)
    page = owner.get(answer["Location"]).content.decode()
    assert intent.client_secret in page and stripe_on.url + "/js.stripe.com/v3/" in page
    assert "Pay 250.00" in page

    confirmed = stripe_on.confirm(online.payment_ref, account=connected.account_id)
    assert confirmed["status"] == "succeeded"
    status = owner.get(f"/fees/my/pay/{online.pk}/status/").json()
    assert status["status"] == "requires_payment" and status["receipt_url"] == ""  # nothing until Stripe says so
    event = webhooks.deliver("payment_intent.succeeded", online.payment_ref)
    assert event.status == EventStatus.PROCESSED
    with in_company(company_a):
        payment = Payment.objects.get(external_id=online.payment_ref)
        online.refresh_from_db()
        bill = selectors.bill_get(viewer=home["admin"], bill_id=home["bill"].pk)
    assert (payment.method, payment.amount, payment.account_id) == (
        PaymentMethod.ONLINE,
        Decimal("250.00"),
        home["account"].pk,
    )
    assert (online.status, online.payment_id) == (OnlineStatus.SUCCEEDED, payment.pk)
    assert bill.status == "paid"
    status = owner.get(f"/fees/my/pay/{online.pk}/status/").json()
    assert (status["status"], status["receipt_number"]) == ("succeeded", payment.receipt_number)
    assert status["receipt_url"] == f"/fees/my/payments/{payment.pk}/"
    assert payment.receipt_number in owner.get(f"/fees/my/pay/{online.pk}/").content.decode()
    # The same event again (Stripe retries): nothing twice.
    webhooks.deliver("payment_intent.succeeded", online.payment_ref)
    with in_company(company_a):
        assert Payment.objects.filter(account=home["account"]).count() == 1


def test_starting_the_same_payment_again_goes_on_with_the_one_started(
    company_a: CompanyFixture, stripe_on: Any, connected: ConnectedAccount, home: dict[str, Any]
) -> None:
    first, checkout = _start(company_a, home, bills=[home["bill"].pk])
    again, checkout_again = _start(company_a, home, bills=[home["bill"].pk])
    assert (again.pk, checkout_again.payment_ref) == (first.pk, checkout.payment_ref)
    # A request to Stripe retried with the same id of ours (the idempotency key) gets the same PaymentIntent;
    # the same id with other terms is refused rather than charged twice.
    request = {
        "company": company_a.company,
        "currency": "CNY",
        "reference": "retry-1",
        "metadata": {},
        "description": "",
    }
    made = gateway.payment_start(amount=Decimal("10.00"), **request)
    assert gateway.payment_start(amount=Decimal("10.00"), **request).payment_ref == made.payment_ref
    with pytest.raises(ServiceError):
        gateway.payment_start(amount=Decimal("11.00"), **request)
    intents = stripe_on.client().v1.payment_intents.list({"limit": 100}, {"stripe_account": connected.account_id})
    assert sorted(intent.id for intent in intents.data) == sorted([first.payment_ref, made.payment_ref])
    everything, _ = _start(company_a, home, everything=True)
    assert everything.pk != first.pk and everything.amount == Decimal("250.00")


def test_a_declined_card_shows_on_the_owners_page_and_a_second_card_pays(
    company_a: CompanyFixture,
    company_client: Any,
    stripe_on: Any,
    webhooks: Webhooks,
    connected: ConnectedAccount,
    home: dict[str, Any],
) -> None:
    online, _checkout = _start(company_a, home, amount="88.80")
    declined = stripe_on.confirm(online.payment_ref, account=connected.account_id, card="4000000000000002")
    assert "error" in declined
    webhooks.deliver("payment_intent.payment_failed", online.payment_ref)
    with in_company(company_a):
        online.refresh_from_db()
    assert online.status == OnlineStatus.FAILED and online.failure_message
    owner = _client(company_client, company_a, home["owner"])
    page = owner.get(f"/fees/my/pay/{online.pk}/").content.decode()
    assert "The payment did not go through." in page and "You can try again." in page
    with in_company(company_a):
        assert not Payment.objects.filter(account=home["account"]).exists()
    stripe_on.confirm(online.payment_ref, account=connected.account_id)
    webhooks.deliver("payment_intent.succeeded", online.payment_ref)
    with in_company(company_a):
        online.refresh_from_db()
        assert online.status == OnlineStatus.SUCCEEDED
        assert selectors.account_get(viewer=home["admin"], account_id=home["account"].pk).credit == Decimal("88.80")


def test_staff_e_mail_a_pay_link_that_opens_the_owners_pay_page_for_that_bill(
    company_a: CompanyFixture,
    company_b: CompanyFixture,
    company_client: Any,
    stripe_on: Any,
    webhooks: Webhooks,
    home: dict[str, Any],
    mailoutbox: list[Any],
) -> None:
    staff = _client(company_client, company_a, home["admin"])
    account_url = f"/fees/accounts/{home['account'].pk}/pay-link/"
    closed = staff.post(account_url, {"bill": str(home["bill"].pk)})
    assert closed.status_code == 200 and "Online payment is not set up" in closed.content.decode()
    assert mailoutbox == []
    connect(company_a, stripe_on, webhooks)
    foreign = staff.post(account_url, {"bill": str(home["other_bill"].pk)})
    assert foreign.status_code == 200 and mailoutbox == []  # not a bill of this account: not a choice
    sent = staff.post(account_url, {"bill": str(home["bill"].pk)})
    assert sent.status_code == 302
    (message,) = mailoutbox
    assert message.to == ["owner-home@example.test"] and "250.00" in message.body
    link = next(word for word in message.body.split() if "/fees/my/pay/?bills=" in word)
    assert link.endswith(f"/fees/my/pay/?bills={home['bill'].pk}")
    with in_company(company_a):
        chase = selectors.chase_list(viewer=home["admin"], account=home["account"]).get()
    assert chase.channel == "email" and "owner-home@example.test" in chase.result
    owner = _client(company_client, company_a, home["owner"])
    page = owner.get(link[link.index("/fees/") :]).content.decode()
    assert "250.00" in page and "Go on to pay" in page
    # The link grants nothing by itself: at another company, nobody finds the bill.
    with in_company(company_b):
        stranger = _client(company_client, company_b, company_b.admin())
    assert stranger.get(link[link.index("/fees/") :]).status_code == 404
    answer = owner.post("/fees/my/pay/", {"account": str(home["account"].pk), "bills": [str(home["bill"].pk)]})
    assert answer.status_code == 302 and answer["Location"].startswith("/fees/my/pay/")


# ------------------------------------------------------------------------------------------ refunds
def _paid(company: CompanyFixture, home: dict[str, Any], stripe_on: Any, connected: Any, webhooks: Webhooks) -> Any:
    online, _checkout = _start(company, home, bills=[home["bill"].pk])
    stripe_on.confirm(online.payment_ref, account=connected.account_id)
    webhooks.deliver("payment_intent.succeeded", online.payment_ref)
    with in_company(company):
        return selectors.online_payment_get(viewer=home["admin"], online_id=online.pk)


def test_staff_refund_part_once_whether_the_answer_or_the_webhook_comes_first(
    company_a: CompanyFixture,
    company_client: Any,
    stripe_on: Any,
    webhooks: Webhooks,
    connected: ConnectedAccount,
    home: dict[str, Any],
) -> None:
    online = _paid(company_a, home, stripe_on, connected, webhooks)
    staff = _client(company_client, company_a, home["admin"])
    listing = staff.get("/fees/online/").content.decode()
    assert online.payment_ref in listing and "Paid" in listing
    answer = staff.post(f"/fees/online/{online.pk}/", {"amount": "100.00", "reason": "Moved out mid-month"})
    assert answer.status_code == 302
    with in_company(company_a):
        refund = Refund.objects.get(payment=online.payment)
    assert (refund.amount, refund.method, refund.external_id[:3]) == (Decimal("100.00"), PaymentMethod.ONLINE, "re_")
    charge = stripe_on.client().v1.refunds.retrieve(refund.external_id, None, {"stripe_account": connected.account_id})
    assert charge.amount == 10000
    event = webhooks.deliver("charge.refunded", charge.charge)
    assert event.status == EventStatus.PROCESSED
    with in_company(company_a):
        assert list(Refund.objects.filter(payment=online.payment).values_list("amount", flat=True)) == [
            Decimal("100.00")
        ]
    # More than is left: refused on the form, nothing sent to Stripe, nothing recorded.
    too_much = staff.post(f"/fees/online/{online.pk}/", {"amount": "150.01", "reason": "again"})
    assert too_much.status_code == 200 and "At most 150.00" in too_much.content.decode()
    listed = stripe_on.client().v1.refunds.list({"charge": charge.charge}, {"stripe_account": connected.account_id})
    assert len(listed.data) == 1
    with in_company(company_a):
        assert Refund.objects.filter(payment=online.payment).count() == 1
        page = staff.get(f"/fees/online/{online.pk}/").content.decode()
    assert "100.00" in page and refund.external_id in page


def test_a_refund_made_in_stripe_alone_reaches_the_ledger_from_the_webhook(
    company_a: CompanyFixture, stripe_on: Any, webhooks: Webhooks, connected: ConnectedAccount, home: dict[str, Any]
) -> None:
    online = _paid(company_a, home, stripe_on, connected, webhooks)
    made = stripe_on.client().v1.refunds.create(
        {"payment_intent": online.payment_ref, "amount": 5000}, {"stripe_account": connected.account_id}
    )
    webhooks.deliver("charge.refunded", made.charge)
    with in_company(company_a):
        refund = Refund.objects.get(external_id=made.id)
    assert (refund.amount, refund.payment_id, refund.by_id) == (Decimal("50.00"), online.payment_id, None)


# ------------------------------------------------------------------------------------------ refusals
@pytest.mark.parametrize(
    ("choice", "code"),
    [
        ({"bills": ["other"]}, "not_found"),
        ({"bills": ["nonsense"]}, "bills_required"),
        ({"amount": "0"}, "amount_not_positive"),
        ({"amount": "-5"}, None),
        ({"amount": "100000.01"}, "amount_too_large"),
    ],
)
def test_bad_choices_are_refused_and_nothing_is_started(
    company_a: CompanyFixture, stripe_on: Any, connected: ConnectedAccount, home: dict[str, Any], choice: Any, code: Any
) -> None:
    if choice.get("bills") == ["other"]:
        choice = {"bills": [home["other_bill"].pk]}
    with pytest.raises(ServiceError) as refused:
        _start(company_a, home, **choice)
    if code:
        assert refused.value.code == code
    with in_company(company_a):
        assert not OnlinePayment.objects.exists()


def test_a_paid_bill_and_a_company_without_account_are_refused(
    company_a: CompanyFixture, stripe_on: Any, home: dict[str, Any], webhooks: Webhooks
) -> None:
    with pytest.raises(ServiceError) as closed:
        _start(company_a, home, bills=[home["bill"].pk])
    assert closed.value.code == "gateway_closed"
    connect(company_a, stripe_on, webhooks)
    with in_company(company_a):
        services.payment_record(by=home["admin"], account=home["account"], amount="250.00", method="cash")
    with pytest.raises(ServiceError) as paid:
        _start(company_a, home, bills=[home["bill"].pk])
    assert paid.value.code == "bill_paid"
    with pytest.raises(ServiceError) as nothing:
        _start(company_a, home, everything=True)
    assert nothing.value.code == "amount_zero"
    with in_company(company_a):
        assert not OnlinePayment.objects.exists()


def test_another_company_cannot_reach_an_online_payment(
    company_a: CompanyFixture,
    company_b: CompanyFixture,
    company_client: Any,
    stripe_on: Any,
    connected: ConnectedAccount,
    home: dict[str, Any],
) -> None:
    online, _checkout = _start(company_a, home, amount="10.00")
    with in_company(company_b):
        admin_b = company_b.admin()
    other = _client(company_client, company_b, admin_b)
    for path in (f"/fees/online/{online.pk}/", f"/fees/my/pay/{online.pk}/", f"/fees/my/pay/{online.pk}/status/"):
        assert other.get(path).status_code == 404, path
    assert other.post(f"/fees/online/{online.pk}/", {"amount": "1", "reason": "x"}).status_code == 404
    assert str(online.pk) not in other.get("/fees/online/").content.decode()
    # Company B's Stripe page shows no account of A's.
    assert connected.account_id not in other.get("/payments/stripe/").content.decode()
    with in_company(company_b):
        assert not OnlinePayment.objects.exists()


# ------------------------------------------------------------------------------------------ reconciliation
def test_reconciliation_finds_a_payment_whose_event_never_came_and_records_it(
    company_a: CompanyFixture,
    company_client: Any,
    stripe_on: Any,
    webhooks: Webhooks,
    connected: ConnectedAccount,
    home: dict[str, Any],
) -> None:
    _paid(company_a, home, stripe_on, connected, webhooks)
    lost, _checkout = _start(company_a, home, amount="30.00")
    stripe_on.confirm(lost.payment_ref, account=connected.account_id)  # its webhook is never delivered here
    today = timezone.localdate()
    with in_company(company_a):
        day = services.reconcile_day(day=today, by=home["admin"])
        assert day is not None
        differences = list(day.differences.all())
    assert [(d.kind, d.movement, d.ref, d.provider_amount) for d in differences] == [
        (DifferenceKind.MISSING_IN_LEDGER, "payment", lost.payment_ref, Decimal("30.00"))
    ]
    finance = _client(company_client, company_a, home["admin"])
    page = finance.get(f"/fees/reconciliation/{today.isoformat()}/").content.decode()
    assert lost.payment_ref in page and "Record it from Stripe" in page
    answer = finance.post(f"/fees/differences/{differences[0].pk}/record/")
    assert answer.status_code == 302
    with in_company(company_a):
        assert Payment.objects.get(external_id=lost.payment_ref).amount == Decimal("30.00")
        again = services.reconcile_day(day=today, by=home["admin"])
        assert again is not None
        assert list(again.differences.filter(resolved_at__isnull=True)) == []
        assert (again.provider_payments, again.ledger_payments) == (2, 2)


def test_reconciliation_lists_a_ledger_payment_stripe_does_not_hold_until_finance_resolves_it(
    company_a: CompanyFixture,
    company_b: CompanyFixture,
    company_client: Any,
    stripe_on: Any,
    connected: ConnectedAccount,
    home: dict[str, Any],
) -> None:
    with in_company(company_a):
        services.payment_record(
            by=None,
            account=home["account"],
            amount="12.00",
            method=PaymentMethod.ONLINE,
            external_id="pi_not_at_stripe",
        )
        day = services.reconcile_day(day=timezone.localdate(), by=home["admin"])
        assert day is not None
        difference = day.differences.get()
    assert (difference.kind, difference.ledger_amount) == (DifferenceKind.MISSING_AT_PROVIDER, Decimal("12.00"))
    # Another company finds neither the day nor the difference.
    with in_company(company_b):
        stranger = _client(company_client, company_b, company_b.admin())
    assert stranger.get(f"/fees/reconciliation/{timezone.localdate().isoformat()}/").status_code == 404
    answer = stranger.post(f"/fees/differences/{difference.pk}/resolve/", {"resolution": "not mine"})
    assert answer.status_code == 404
    finance = _client(company_client, company_a, home["admin"])
    assert finance.post(f"/fees/differences/{difference.pk}/resolve/", {"resolution": ""}).status_code == 302
    difference.refresh_from_db()
    assert difference.resolved_at is None
    finance.post(f"/fees/differences/{difference.pk}/resolve/", {"resolution": "Recorded twice; voided at the desk"})
    difference.refresh_from_db()
    assert difference.resolved_at is not None and difference.resolution.startswith("Recorded twice")
    with in_company(company_a):
        again = services.reconcile_day(day=timezone.localdate(), by=home["admin"])
        assert again is not None and again.differences.get().pk == difference.pk  # resolved ones are kept


def test_reconciliation_is_for_finance_and_skips_a_company_without_account(
    company_a: CompanyFixture, company_client: Any, home: dict[str, Any]
) -> None:
    owner = _client(company_client, company_a, home["owner"])
    assert owner.get("/fees/reconciliation/").status_code == 403
    with in_company(company_a):
        assert services.reconcile_day(day=timezone.localdate() - dt.timedelta(days=1)) is None


# ------------------------------------------------------------------------------------------ the vendor's fee
def _vendor() -> Any:
    from wuye.accounts import services as account_services
    from wuye.accounts.models import User, UserKind
    from wuye.core.tenancy import use_public_schema

    use_public_schema()
    found = User.objects.filter(email="fees@vendor.test").first()
    return found or account_services.user_create(
        email="fees@vendor.test", name="Vendor", password="vendor-pass-1", kind=UserKind.VENDOR, is_staff=True
    )


def test_the_vendor_sets_the_platform_fee_and_nobody_else_can(
    vendor_client: Any, company_a: CompanyFixture, home: dict[str, Any]
) -> None:
    connected = ConnectedAccount.objects.create(company=company_a.company, account_id="acct_feeonly0001")
    assert "acct_feeonly0001" in vendor_client.get("/billing/accounts/").content.decode()
    vendor_client.post("/billing/accounts/", {"account": connected.pk, "bps": "250"})
    connected.refresh_from_db()
    assert connected.application_fee_bps == 250
    for bad in ("-1", "10001", "2.5", "x"):
        vendor_client.post("/billing/accounts/", {"account": connected.pk, "bps": bad})
        connected.refresh_from_db()
        assert connected.application_fee_bps == 250, bad
    with pytest.raises(ServiceError):
        gateway.application_fee_set(by=home["admin"], connected=connected, bps=0)
    for nonsense in ("x", "", str(connected.pk + 1000)):  # no such account: not found, nothing changes
        assert vendor_client.post("/billing/accounts/", {"account": nonsense, "bps": "1"}).status_code == 404
    connected.refresh_from_db()
    assert connected.application_fee_bps == 250


def test_when_stripe_does_not_answer_nothing_is_started(
    company_a: CompanyFixture, stripe_on: Any, connected: ConnectedAccount, home: dict[str, Any], settings: Any
) -> None:
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        settings.STRIPE_API_BASE = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with pytest.raises(ServiceError) as refused:
        _start(company_a, home, bills=[home["bill"].pk])
    assert refused.value.code == "gateway_unavailable"
    with in_company(company_a):
        assert not OnlinePayment.objects.exists()


# ------------------------------------------------------------------------------------------ the API
def test_the_api_starts_a_payment_for_an_owner_and_staff_refund_it(
    company_a: CompanyFixture,
    api_client: Any,
    admin_token: Any,
    stripe_on: Any,
    webhooks: Webhooks,
    connected: ConnectedAccount,
    home: dict[str, Any],
) -> None:
    from wuye.accounts import services as account_services

    with in_company(company_a):
        _token, raw = account_services.api_token_create(user=home["owner"], name="phone")
    owner = api_client(company_a, raw)
    started = owner.post(
        "/api/v1/fees/my/online-payments/",
        {"account": str(home["account"].pk), "bills": [str(home["bill"].pk)]},
        format="json",
    )
    assert started.status_code == 201, started.content
    body = started.json()
    online_id, ref = body["online_payment"]["id"], body["checkout"]["payment_ref"]
    assert (body["online_payment"]["amount"], body["online_payment"]["status"]) == ("250.00", "requires_payment")
    assert body["checkout"]["account_ref"] == connected.account_id and body["checkout"]["client_secret"]
    # Another household's account: not found, nothing started.
    refused = owner.post(
        "/api/v1/fees/my/online-payments/", {"account": str(home["other_bill"].account_id)}, format="json"
    )
    assert refused.status_code == 404
    stripe_on.confirm(ref, account=connected.account_id)
    webhooks.deliver("payment_intent.succeeded", ref)
    mine = owner.get(f"/api/v1/fees/my/online-payments/{online_id}/").json()
    assert mine["status"] == "succeeded" and mine["receipt_number"]
    staff = api_client(company_a, admin_token(company_a))
    listed = staff.get("/api/v1/fees/online-payments/?status=succeeded").json()
    assert [row["id"] for row in listed["results"]] == [online_id]
    over = staff.post(f"/api/v1/fees/online-payments/{online_id}/refunds/", {"amount": "250.01", "reason": "x"})
    assert over.status_code == 400 and over.json()["error"]["code"] == "refund_too_much"
    done = staff.post(f"/api/v1/fees/online-payments/{online_id}/refunds/", {"amount": "50.00", "reason": "Overpaid"})
    assert done.status_code == 201 and done.json()["refunded"] == "50.00"
    assert owner.get("/api/v1/fees/online-payments/").status_code == 403


def test_a_payment_started_a_day_ago_and_never_paid_is_cancelled(
    company_a: CompanyFixture, stripe_on: Any, connected: ConnectedAccount, home: dict[str, Any]
) -> None:
    old, _checkout = _start(company_a, home, bills=[home["bill"].pk])
    recent, _checkout = _start(company_a, home, amount="20.00")
    with in_company(company_a):
        OnlinePayment.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=25))
        assert services.online_payments_expire() == 1
        old.refresh_from_db()
        recent.refresh_from_db()
    assert (old.status, recent.status) == (OnlineStatus.CANCELED, OnlineStatus.REQUIRES_PAYMENT)
    assert _intent(stripe_on, connected, old.payment_ref).status == "canceled"
    # The old checkout can no longer charge; paying the bill again starts a new payment.
    assert "error" in stripe_on.confirm(old.payment_ref, account=connected.account_id)
    again, _checkout = _start(company_a, home, bills=[home["bill"].pk])
    assert again.pk != old.pk and again.payment_ref != old.payment_ref
