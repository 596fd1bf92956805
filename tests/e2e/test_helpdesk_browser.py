"""In a real browser on a phone-sized screen: an owner reports a leak with a photo in the owner portal and sees
its timeline with the photo; the engineer it is assigned to accepts it, adds a photo after the work and
finishes it; the owner answers the return visit. No page scrolls sideways.

Committed data only (the live server runs in its own thread and connection). Everything made here carries a
suffix unique to the run and is removed at the end: the request's timeline is append-only (a trigger refuses
DELETE), so its rows are removed in a session that replays as a replica, which fires no triggers — only tests
do this. Left behind: the audit log (append-only) and the day's request counter, one number further."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from wuye.testing.plugin import CompanyFixture, CompanyPage, in_company

pytestmark = [pytest.mark.browser, pytest.mark.committed]

PHONE_VIEWPORT = {"width": 390, "height": 844}
PASSWORD = "helpdesk-e2e-pass-1"


@dataclass
class Leak:
    suffix: str
    project: Any
    unit: Any
    owner_email: str
    engineer_email: str
    users: list[Any]


@pytest.fixture
def alpha(companies: dict[str, CompanyFixture]) -> CompanyFixture:
    return companies["alpha"]


@pytest.fixture
def leak(browser_for: Any, alpha: CompanyFixture, committed_db: None) -> Iterator[Leak]:
    """A project with one owned unit whose owner has a portal account, and an engineer (committed)."""
    from modules.estate import services as estate
    from modules.households import services as households
    from modules.households.models import Person
    from modules.staff import selectors as staff_selectors
    from modules.staff import services as staff_services
    from wuye.accounts import services as accounts

    suffix = uuid.uuid4().hex[:6]
    made: Leak | None = None
    try:
        with in_company(alpha):
            admin = alpha.admin()
            project = estate.project_create(by=admin, name=f"报事 {suffix}", code=f"e2e-desk-{suffix}")
            building = estate.building_create(by=admin, project=project, name=f"7栋 {suffix}", floors_above=12)
            unit = estate.unit_create(by=admin, building=building, number="0702", floor=7, floor_area=Decimal("88.00"))
            made = Leak(suffix, project, unit, f"owner-{suffix}@e2e.test", f"engineer-{suffix}@e2e.test", [])
            person = households.person_create(by=admin, name=f"业主{suffix}")
            households.ownership_add(
                by=admin, unit=unit, person=person, share=Decimal(100), starts_on=dt.date(2024, 1, 1)
            )
            owner = accounts.user_create(email=made.owner_email, name=person.name, password=PASSWORD, kind="owner")
            Person.objects.filter(pk=person.pk).update(user=owner)
            engineer = accounts.user_create(
                email=made.engineer_email, name=f"师傅{suffix}", password=PASSWORD, roles=["engineering"]
            )
            staff_services.staff_member_set(
                by=admin, user=engineer, position=staff_selectors.position_by_code("engineer"), project=project
            )
            made.users = [owner, engineer]
        yield made
    finally:
        if made is not None:
            _remove(alpha, made)


def _remove(company: CompanyFixture, made: Leak) -> None:
    from tests.support import helpdesk as support

    support.committed_remove(company, project=made.project, users=made.users)


def _phone(browser: Any, live_server: Any, company: CompanyFixture) -> CompanyPage:
    context = browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    bound = CompanyPage(page=page, live_server=live_server, company=company)
    page.context.add_cookies([{"name": "wuye_language", "value": "en", "url": live_server.url(company, "/")}])
    return bound


def _sign_in(bound: CompanyPage, email: str) -> None:
    page = bound.page
    bound.open("/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "/accounts/login/" not in page.url, page.inner_text("main")


def _no_sideways_scroll(page: Any) -> None:
    sizes = page.evaluate("() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})")
    assert sizes["scrollWidth"] <= sizes["innerWidth"], f"{page.url} scrolls sideways on a phone: {sizes}"


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def _photos_shown(page: Any) -> int:
    """Photos on the page the browser could load and decode (a refused one would be a broken image)."""
    # The photos load lazily: bring them into view and wait until each has loaded or failed.
    page.locator(".photos").scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('.photos img')].every(i => i.complete)")
    return int(
        page.evaluate("() => [...document.querySelectorAll('.photos img')].filter(i => i.naturalWidth > 0).length")
    )


def test_an_owner_reports_a_leak_and_it_is_fixed_on_a_phone(
    browser: Any, company_live_server: Any, alpha: CompanyFixture, leak: Leak
) -> None:
    from modules.helpdesk import services
    from modules.helpdesk.models import Request
    from modules.staff import selectors as staff_selectors

    owner = _phone(browser, company_live_server, alpha)
    try:
        page = owner.page
        _sign_in(owner, leak.owner_email)
        owner.open("/helpdesk/my/")
        _no_sideways_scroll(page)
        page.click("details summary")
        page.select_option("select[name=kind]", "repair")
        page.fill("input[name=title]", f"卫生间漏水 {leak.suffix}")
        page.set_input_files("input[name=photos]", [{"name": "leak.png", "mimeType": "image/png", "buffer": _png()}])
        with page.expect_navigation():
            page.click("details button[type=submit]")
        assert "/helpdesk/my/" in page.url and f"卫生间漏水 {leak.suffix}" in page.inner_text("main")
        assert _photos_shown(page) == 1
        _no_sideways_scroll(page)
        with in_company(alpha):
            request = Request.objects.get(project=leak.project)
            engineer = leak.users[1]
            services.request_dispatch(
                by=alpha.admin(), request=request, department=staff_selectors.department_by_code("engineering"),
                assignee=engineer,
            )  # fmt: skip

        worker = _phone(browser, company_live_server, alpha)
        try:
            wpage = worker.page
            _sign_in(worker, leak.engineer_email)
            worker.open("/helpdesk/?queue=mine")
            _no_sideways_scroll(wpage)
            with wpage.expect_navigation():
                wpage.get_by_role("link", name=f"{request.number} · 卫生间漏水 {leak.suffix}").click()
            with wpage.expect_navigation():
                wpage.get_by_role("button", name="Accept").click()
            wpage.select_option("form[action$='/photo/'] select[name=stage]", "after")
            wpage.set_input_files("form[action$='/photo/'] input[name=photo]",
                                  [{"name": "after.png", "mimeType": "image/png", "buffer": _png()}])  # fmt: skip
            with wpage.expect_navigation():
                wpage.click("form[action$='/photo/'] button[type=submit]")
            assert _photos_shown(wpage) == 2
            wpage.fill("form[action$='/complete/'] textarea[name=resolution]", "更换密封圈")
            with wpage.expect_navigation():
                wpage.click("form[action$='/complete/'] button[type=submit]")
            assert "Done." in wpage.inner_text("main")
            _no_sideways_scroll(wpage)
        finally:
            worker.page.context.close()

        owner.open(f"/helpdesk/my/{request.pk}/")
        assert _photos_shown(page) == 2
        page.check("input[name=resolved][value=yes]")
        page.fill("input[name=satisfaction]", "5")
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        assert "Thank you for your answer." in page.inner_text("main")
        with in_company(alpha):
            request.refresh_from_db()
            assert request.status == "closed"
            assert list(request.visits.values_list("satisfaction", flat=True)) == [5]
    finally:
        owner.page.context.close()
