"""In a real browser: an owner signs in on a phone, opens their bill, starts paying it online and lands on
the checkout page; the test confirms the PaymentIntent against the Stripe emulator as Stripe.js would (the
publishable key, the client secret, the card); the emulator's signed webhook reaches the live server, the
ledger records the payment, and the page the owner is looking at turns into the receipt by itself.

Committed data (the live server has its own connection): a project with a suffix unique to the run, purged
at the end (money through the support's replica purge), the owner's portal account and the connected
account removed. The emulator delivers to the live server only during this test."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from wuye.testing.plugin import CompanyFixture, in_company

pytestmark = [pytest.mark.browser, pytest.mark.committed]

PHONE_VIEWPORT = {"width": 390, "height": 844}
SECRET = "whsec_browser_pay"


@dataclass
class Home:
    owner_email: str
    account: Any
    bill: Any
    stripe_account: str


@pytest.fixture
def home(
    browser_for: Any,
    companies: dict[str, CompanyFixture],
    committed_db: None,
    company_live_server: Any,
    stripe_emulator: Any,
    settings: Any,
) -> Iterator[Home]:
    """A unit of 80 m² at 2.50 a month with its November bill (200.00) and an owner with a portal account;
    the company's Stripe account connected and able to take charges; the platform's keys on the emulator,
    whose webhooks go to the live server."""
    from billing_gateway.models import ConnectedAccount, WebhookEvent
    from modules.estate import services as estate
    from modules.fees.models import Bill
    from tests.e2e.test_fees_desk_browser import _purge
    from tests.support import fees as fees_support
    from tests.support import helpdesk as people
    from wuye.accounts.models import User

    alpha = companies["alpha"]
    settings.STRIPE_SECRET_KEY = stripe_emulator.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = stripe_emulator.publishable_key
    settings.STRIPE_API_BASE = stripe_emulator.url
    settings.STRIPE_JS_URL = stripe_emulator.url + "/js.stripe.com/v3/"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    endpoint = company_live_server.url(None, "/billing/stripe/webhook/")
    made = stripe_emulator.client().v1.accounts.create({"type": "standard", "country": "HK"})
    suffix = uuid.uuid4().hex[:6]
    project = owner = None
    connected = ConnectedAccount.objects.create(company=alpha.company, account_id=made.id, charges_enabled=True)
    stripe_emulator.webhooks_to(endpoint, SECRET)
    try:
        with in_company(alpha):
            admin = alpha.admin()
            project = estate.project_create(by=admin, name=f"在线缴费 {suffix}", code=f"e2e-pay-{suffix}")
            building = estate.building_create(by=admin, project=project, name=f"7栋 {suffix}", floors_above=12)
            fees_support.tariff(admin, project, "property", "2.50")
            unit = fees_support.estate_support.unit(admin, building=building, floor_area="80.00", number="7-0501")
            owner = people.owner_account(admin, unit, on=dt.date(2026, 1, 1))
            fees_support.post_month(admin, project, dt.date(2026, 11, 1))
            bill = Bill.objects.select_related("account").get(account__unit=unit)
        yield Home(owner_email=owner.email, account=bill.account, bill=bill, stripe_account=made.id)
    finally:
        stripe_emulator.webhooks_stop(endpoint)
        if project is not None:
            _purge(alpha, project)
        if owner is not None:
            with in_company(alpha):
                User.objects.filter(pk=owner.pk).delete()
        WebhookEvent.objects.filter(account_id=made.id).delete()
        connected.delete()


def test_an_owner_pays_a_bill_online_and_the_page_shows_the_receipt(
    browser_for: Any, companies: dict[str, CompanyFixture], home: Home, stripe_emulator: Any
) -> None:
    from modules.fees.models import OnlinePayment, OnlineStatus, Payment
    from tests.support.helpdesk import PASSWORD

    alpha = companies["alpha"]
    bound = browser_for(alpha)
    page = bound.page
    page.set_viewport_size(PHONE_VIEWPORT)
    page.context.add_cookies(
        [{"name": "wuye_language", "value": "en", "url": bound.live_server.url(bound.company, "/")}]
    )
    bound.open("/accounts/login/")
    page.fill("input[name=username]", home.owner_email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")

    # The owner's bills: November's 200.00 is open; tick it and pay.
    bound.open("/fees/my/")
    bill = page.locator(f"[data-bill='{home.bill.pk}']")
    assert "200.00" in bill.inner_text()
    bill.get_by_label("Pay this bill").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Pay the chosen bills").click()
    assert re.search(r"/fees/my/pay/[0-9a-f-]{36}/$", page.url), page.inner_text("main")
    assert page.inner_text("[data-amount]").startswith("200.00")
    assert page.inner_text("[data-state]") == "Waiting for payment"
    with in_company(alpha):
        online = OnlinePayment.objects.get(account_id=home.account.pk)

    # Stripe.js's part, played by the test: confirm the intent with the card on the company's account.
    answer = stripe_emulator.confirm(online.payment_ref, account=home.stripe_account)
    assert answer["status"] == "succeeded", answer

    # The emulator's signed webhook reaches the live server; the page asks until the receipt is there.
    page.wait_for_selector("[data-receipt]", timeout=20_000)
    with in_company(alpha):
        online.refresh_from_db()
        payment = Payment.objects.get(external_id=online.payment_ref)
    assert online.status == OnlineStatus.SUCCEEDED and online.payment_id == payment.pk
    assert page.inner_text("[data-state]") == "Paid"
    assert payment.receipt_number in page.inner_text("[data-receipt]")
    with page.expect_navigation():
        page.get_by_role("link", name=payment.receipt_number).click()
    assert page.inner_text("[data-receipt-number]") == payment.receipt_number
    sizes = page.evaluate("() => ({w: document.scrollingElement.scrollWidth, i: window.innerWidth})")
    assert sizes["w"] <= sizes["i"], f"the receipt scrolls sideways on a phone: {sizes}"
