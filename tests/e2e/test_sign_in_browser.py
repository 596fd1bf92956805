"""In a real browser: a company admin signs in at the company's address, reads Chinese by default,
switches to English, invites a colleague; the vendor signs in at the bare domain. Committed data only:
the live server runs in its own thread and connection."""

from __future__ import annotations

import uuid

import pytest

from wuye.accounts import services
from wuye.accounts.models import User, UserKind
from wuye.testing.plugin import ADMIN_PASSWORD, CompanyFixture, in_company

pytestmark = [pytest.mark.browser, pytest.mark.committed]


@pytest.fixture
def browser_admin(committed_db, companies) -> dict[str, str]:
    """An administrator of alpha made for this test (committed), deactivated afterwards: what they did is
    in the append-only audit log, which keeps their account (accounts are deactivated, never deleted)."""
    alpha: CompanyFixture = companies["alpha"]
    run = uuid.uuid4().hex[:8]
    with in_company(alpha):
        user = services.user_create(
            email=f"web-chief-{run}@alpha.test", name="浏览器管理员", password=ADMIN_PASSWORD, roles=["company_admin"]
        )
    try:
        yield {"email": user.email, "password": ADMIN_PASSWORD, "colleague": f"colleague-{run}@alpha.test"}
    finally:
        with in_company(alpha):
            made = User.objects.filter(email__in=[user.email, f"colleague-{run}@alpha.test"])
            for person in made:
                person.groups.clear()
            made.update(is_active=False)


def test_a_company_admin_signs_in_and_invites(browser_for, companies, browser_admin) -> None:
    alpha: CompanyFixture = companies["alpha"]
    bound = browser_for(alpha)
    page = bound.page
    bound.open("/")
    assert "/accounts/login/" in page.url
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.fill("input[name=username]", browser_admin["email"])
    page.fill("input[name=password]", browser_admin["password"])
    page.click("main button[type=submit]")
    page.wait_for_url("**/")
    assert alpha.company.name in page.inner_text("header")

    with page.expect_navigation():
        page.select_option("#lang-select", "en")  # submits the language form
    assert page.locator("html").get_attribute("lang") == "en"

    page.click("text=Staff accounts")
    page.click("text=Invite staff")
    page.fill("input[name=name]", "Colleague")
    page.fill("input[name=email]", browser_admin["colleague"])
    page.click("main button[type=submit]")
    page.wait_for_url("**/staff/*/")
    assert browser_admin["colleague"] in page.inner_text("main")
    assert "Invitation pending" in page.inner_text("main")


def test_a_session_of_one_company_does_not_open_another(browser_for, companies, browser_admin) -> None:
    alpha, beta = companies["alpha"], companies["beta"]
    bound = browser_for(alpha)
    page = bound.page
    bound.open("/accounts/login/")
    page.fill("input[name=username]", browser_admin["email"])
    page.fill("input[name=password]", browser_admin["password"])
    page.click("main button[type=submit]")
    page.wait_for_url("**/")
    # Same browser, same cookie jar: beta asks for a sign-in.
    page.goto(page.url.replace(alpha.host, beta.host) + "staff/")
    assert "/accounts/login/" in page.url


def test_the_vendor_signs_in_at_the_bare_domain(browser_for, committed_db) -> None:
    from django.db import connection

    connection.set_schema_to_public()
    vendor = services.user_create(
        email="console-operator@vendor.test",
        name="Vendor",
        password=ADMIN_PASSWORD,
        kind=UserKind.VENDOR,
        is_staff=True,
    )
    try:
        bound = browser_for(None, language="en-US")
        page = bound.page
        bound.open("/")
        page.fill("input[name=username]", vendor.email)
        page.fill("input[name=password]", ADMIN_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/")
        assert "Alpha 物业" in page.inner_text("main")
    finally:
        # Not User.delete(): its collector looks for rows of company-only models (staff members, people)
        # that point at users, and those tables do not exist in the public schema. Vendor accounts are
        # deactivated in the product; only this committed test removes one.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_user WHERE id = %s", [vendor.pk])
