"""In a real browser: at the front desk, the administrator finds a household's account, takes a cash payment
for the open bill and sees the receipt with its number; the account page and the receipt fit a phone.

Committed data only (the live server runs in its own thread and connection). The project made here carries
a suffix unique to the run; at the end its fee records are purged (money is append-only: the support's
purge replays as a replica, which fires no triggers), then its people and estate. Left behind: the audit
log, which is append-only, and the year's receipt counter, one number further (numbers are never reused)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from wuye.testing.plugin import CompanyFixture, CompanyPage, in_company

pytestmark = [pytest.mark.browser, pytest.mark.committed]

PHONE_VIEWPORT = {"width": 390, "height": 844}


@dataclass
class Desk:
    suffix: str
    project: Any
    building: Any
    account: Any


@pytest.fixture
def alpha(companies: dict[str, CompanyFixture]) -> CompanyFixture:
    return companies["alpha"]


@pytest.fixture
def desk(browser_for: Any, alpha: CompanyFixture, committed_db: None) -> Iterator[Desk]:
    """A project with one owned unit of 96.40 m² at 2.50 a month, its November bill posted (committed).
    (Asks for the browser first: its fixture lets the test's own ORM calls run beside Playwright's loop.)"""
    from modules.estate import services as estate
    from tests.support import fees as fees_support

    suffix = uuid.uuid4().hex[:6]
    project = None
    try:
        with in_company(alpha):
            admin = alpha.admin()
            project = estate.project_create(by=admin, name=f"收费台 {suffix}", code=f"e2e-fees-{suffix}")
            building = estate.building_create(by=admin, project=project, name=f"5栋 {suffix}", floors_above=12)
            fees_support.tariff(admin, project, "property", "2.50")
            unit = fees_support.owned_unit(admin, building=building, area="96.40", number="5-0302", floor=3)
            fees_support.post_month(admin, project, dt.date(2026, 11, 1))
            account = fees_support.account(unit)
        yield Desk(suffix=suffix, project=project, building=building, account=account)
    finally:
        if project is not None:
            _purge(alpha, project)


def _purge(company: CompanyFixture, project: Any) -> None:
    from modules.estate.models import Building, Meter, Project, Unit
    from modules.households.models import Occupancy, Ownership, Person
    from tests.support import fees as fees_support

    fees_support.purge_committed(company.schema_name, [project.pk])
    with in_company(company):
        people = list(Ownership.objects.filter(unit__project=project).values_list("person_id", flat=True))
        Ownership.objects.filter(unit__project=project).delete()
        Occupancy.objects.filter(unit__project=project).delete()
        Person.objects.filter(pk__in=people).delete()
        Meter.objects.filter(project=project).delete()
        Unit.objects.filter(project=project).delete()
        Building.objects.filter(project=project).delete()
        Project.objects.filter(pk=project.pk).delete()


def _sign_in(bound: CompanyPage, company: CompanyFixture) -> None:
    page = bound.page
    bound.page.context.add_cookies(
        [{"name": "wuye_language", "value": "en", "url": bound.live_server.url(bound.company, "/")}]
    )
    bound.open("/accounts/login/")
    page.fill("input[name=username]", company.admin_email)
    page.fill("input[name=password]", company.admin_password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "/accounts/login/" not in page.url, page.inner_text("main")


def _assert_no_sideways_scroll(page: Any) -> None:
    sizes = page.evaluate("() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})")
    width = PHONE_VIEWPORT["width"]
    assert sizes["scrollWidth"] <= sizes["innerWidth"] == width, f"{page.url} scrolls sideways on a phone: {sizes}"


def test_the_desk_takes_a_cash_payment_and_shows_the_receipt(
    browser_for: Any, alpha: CompanyFixture, desk: Desk
) -> None:
    from modules.fees.models import Payment

    bound = browser_for(alpha)
    page = bound.page
    _sign_in(bound, alpha)

    # The account, found by its building from the list of accounts.
    bound.open("/fees/")
    page.fill("main form.filters input[name=q]", desk.building.name)
    with page.expect_navigation():
        page.click("main form.filters button[type=submit]")
    with page.expect_navigation():
        page.get_by_role("link", name=desk.account.label, exact=True).click()
    assert page.url.endswith(f"/fees/accounts/{desk.account.pk}/")
    # 96.40 m² × 2.50 = 241.00 for November, all of it owed.
    assert page.inner_text("[data-figure=owed]") == "241.00"

    # The desk form is open; the amount is what is owed, cash by default. Tick the bill and record it.
    form = "main form[data-action=pay]"
    assert page.input_value(f"{form} input[name=amount]") == "241.00"
    page.fill(f"{form} input[name=amount]", "300.00")
    page.select_option(f"{form} select[name=method]", "cash")
    page.check(f"{form} input[name=bills]")
    page.fill(f"{form} input[name=payer_name]", f"王先生 {desk.suffix}")
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")
    assert re.search(r"/fees/payments/[0-9a-f-]{36}/$", page.url), page.inner_text("main")

    with in_company(alpha):
        payment = Payment.objects.get(account_id=desk.account.pk)
    assert payment.amount == Decimal("300.00") and payment.method == "cash"
    number = page.inner_text("[data-receipt-number]")
    assert number == payment.receipt_number and re.fullmatch(r"\d{10}", number)
    text = page.inner_text("main")
    assert f"Payment recorded: receipt {number}." in text
    assert alpha.company.name in text and "Cash" in text and "Alpha Admin" in text
    assert "241.00" in text and "59.00" in text and page.inner_text("[data-receipt-total]") == "300.00"
    assert page.get_by_role("button", name="Print").is_visible()

    # Back on the account: nothing owed, 59.00 prepaid, the receipt listed.
    with page.expect_navigation():
        page.get_by_role("link", name=f"← {desk.account.label}").click()
    assert page.inner_text("[data-figure=owed]") == "0.00"
    assert page.inner_text("[data-figure=credit]") == "59.00"
    assert number in page.inner_text("main table.payments")


def test_the_account_page_and_the_receipt_fit_a_phone(
    browser: Any, company_live_server: Any, alpha: CompanyFixture, desk: Desk
) -> None:
    from modules.fees import services

    with in_company(alpha):
        payment = services.payment_record(by=alpha.admin(), account=desk.account, amount="100.00", method="wechat")
    context = browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        bound = CompanyPage(page=page, live_server=company_live_server, company=alpha)
        _sign_in(bound, alpha)
        for path in (f"/fees/accounts/{desk.account.pk}/", f"/fees/payments/{payment.pk}/", "/fees/"):
            bound.open(path)
            _assert_no_sideways_scroll(page)
        assert page.locator("main table").first.is_visible()
    finally:
        context.close()
