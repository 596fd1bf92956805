"""In a real browser, the first days of a company on Wuye: the admin enters a project down to its units,
records a household (owner, occupant, a transfer), identity numbers are shown whole or masked by role,
an invited owner reaches the owner portal on a phone, and the estate pages follow the language chosen.

Committed data only (the live server runs in its own thread and connection). Every name, code and e-mail
made here carries a suffix unique to the run, and `_purge` removes every row made with it at the end. Left
behind: the audit log, which is append-only (a trigger refuses DELETE), so its entries about these records
stay (they point at the records by id only, and the unique suffixes keep reruns apart); and the sign-in
sessions, which expire. The session's admin is the actor throughout, so no deleted user is named there."""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import formats, translation

from wuye.testing.plugin import ADMIN_PASSWORD, CompanyFixture, CompanyPage, in_company

pytestmark = [pytest.mark.browser, pytest.mark.committed]

# GB 11643: the 18th character of a resident ID number is a MOD 11-2 check of the first 17.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
PHONE_VIEWPORT = {"width": 390, "height": 844}  # an iPhone 12-14 in portrait
OWNER_PASSWORD = "owner-pass-phrase-2026"  # a test account
CJK = re.compile(r"[\u4e00-\u9fff]")


def resident_id(rng: random.Random) -> str:
    """A valid resident ID number of Dongcheng, Beijing (110101), with a random birth date and sequence."""
    born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(365 * 40))
    body = f"110101{born:%Y%m%d}{rng.randrange(1000):03d}"
    check = ID_CHECK_CHARS[sum(int(digit) * weight for digit, weight in zip(body, ID_WEIGHTS, strict=True)) % 11]
    return body + check


def masked(number: str) -> str:
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def test_the_resident_id_helper_makes_numbers_the_platform_accepts() -> None:
    """The helper itself: a known real-format number, and random ones through the platform's own check."""
    from wuye.core.idnumbers import IdType, id_number_clean

    assert resident_id(random.Random(0))[:6] == "110101"
    # The example number of GB 11643's annex: 11010519491231002X.
    body = "11010519491231002"
    assert ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11] == "X"
    rng = random.Random(42)
    for _ in range(20):
        number = resident_id(rng)
        assert id_number_clean(IdType.RESIDENT_ID, number) == number


# ------------------------------------------------------------------------------------------ helpers
def _main(page: Any) -> str:
    return str(page.inner_text("main"))


def _in_english(bound: CompanyPage) -> None:
    """The language cookie the language menu sets: the pages speak English without touching the account."""
    bound.page.context.add_cookies(
        [{"name": "wuye_language", "value": "en", "url": bound.live_server.url(bound.company, "/")}]
    )


def _sign_in(bound: CompanyPage, email: str, password: str) -> None:
    page = bound.page
    bound.open("/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "/accounts/login/" not in page.url, _main(page)


def _submit(page: Any, form: str = "main form.card") -> None:
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")


def _rows(page: Any, heading: str | None = None) -> list[list[str]]:
    """The body rows of a table as the cells' text: the table under the <h2> `heading`, or the page's first."""
    table = (
        page.locator(f"xpath=//h2[normalize-space()='{heading}']/following-sibling::div[1]//table")
        if heading
        else page.locator("main table").first
    )
    return list(
        table.locator("tbody tr").evaluate_all("rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))")
    )


def _stats(page: Any) -> dict[str, str]:
    """The figures of a project page: {label: figure}."""
    return dict(
        page.locator("main .stats .card").evaluate_all(
            "cards => cards.map(c => [c.querySelector('.stat-label').innerText.trim(),"
            " c.querySelector('.stat').innerText.trim()])"
        )
    )


def _today(company: CompanyFixture) -> dt.date:
    return dt.datetime.now(ZoneInfo(company.company.timezone)).date()


def _shown_date(day: dt.date) -> str:
    """A date as the English pages show it (Django's DATE_FORMAT for en: "May 1, 2020")."""
    with translation.override("en"):
        return str(formats.date_format(day))


def _assert_no_sideways_scroll(page: Any) -> None:
    """Nothing wider than the phone's screen. A mobile browser zooms out to fit wider content, and
    window.innerWidth then grows with it, so the page is compared with the screen's width as well."""
    sizes = page.evaluate("() => ({scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth})")
    width = PHONE_VIEWPORT["width"]
    assert sizes["scrollWidth"] <= sizes["innerWidth"] == width, f"{page.url} scrolls sideways on a phone: {sizes}"


def _purge(company: CompanyFixture, suffix: str) -> None:
    """Remove every row this test made (they all carry `suffix`), children first: the estate's and the
    households' foreign keys are PROTECT."""
    from django.db.models import Q

    from modules.estate.models import Building, Project, Unit, Zone
    from modules.households.models import Occupancy, Ownership, Person
    from modules.staff.models import StaffMember
    from wuye.accounts.models import User

    with in_company(company):
        projects = Project.objects.filter(code__endswith=suffix)
        people = Person.objects.filter(name__endswith=suffix)
        Ownership.objects.filter(Q(unit__project__in=projects) | Q(person__in=people)).delete()
        Occupancy.objects.filter(Q(unit__project__in=projects) | Q(person__in=people)).delete()
        people.delete()
        StaffMember.objects.filter(Q(user__email__contains=suffix) | Q(project__in=projects)).delete()
        User.objects.filter(email__contains=suffix).delete()
        Unit.objects.filter(project__in=projects).delete()
        Building.objects.filter(project__in=projects).delete()
        Zone.objects.filter(project__in=projects).delete()
        projects.delete()


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture
def alpha(companies: dict[str, CompanyFixture]) -> CompanyFixture:
    return companies["alpha"]


@pytest.fixture
def run(browser_for: Any, alpha: CompanyFixture, committed_db: None) -> Iterator[str]:
    """A suffix unique to this run for every name the test makes; what carries it is removed afterwards.
    (Asks for the browser first: its fixture lets the test's own ORM calls run beside Playwright's loop.)"""
    suffix = uuid.uuid4().hex[:6]
    try:
        yield suffix
    finally:
        _purge(alpha, suffix)


@dataclass
class Site:
    suffix: str
    project: Any
    building: Any
    unit: Any


@pytest.fixture
def site(alpha: CompanyFixture, run: str) -> Site:
    """A project with one building and one unit, made by the admin through the services (committed)."""
    from modules.estate import services as estate

    with in_company(alpha):
        admin = alpha.admin()
        project = estate.project_create(by=admin, name=f"翠湖花园 {run}", code=f"e2e-{run}")
        building = estate.building_create(by=admin, project=project, name=f"3栋 {run}", floors_above=18)
        unit = estate.unit_create(by=admin, building=building, number="3-0801", floor=8, floor_area=Decimal("96.40"))
    return Site(suffix=run, project=project, building=building, unit=unit)


@pytest.fixture
def phone_for(browser: Any, company_live_server: Any) -> Iterator[Any]:
    """phone_for(company) -> a CompanyPage in a phone-sized, touch, mobile browser context."""
    contexts: list[Any] = []

    def make(test_company: CompanyFixture) -> CompanyPage:
        context = browser.new_context(
            viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=3, locale="zh-CN"
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return CompanyPage(page=page, live_server=company_live_server, company=test_company)

    yield make
    for context in contexts:
        context.close()


# ------------------------------------------------------------------------------------------ 1. the estate
def test_an_admin_enters_a_project_zone_building_and_unit(browser_for: Any, alpha: CompanyFixture, run: str) -> None:
    project_name, zone_name, building_name = f"锦绣苑 {run}", f"北区 {run}", f"2栋 {run}"
    bound = browser_for(alpha)
    page = bound.page
    _in_english(bound)
    _sign_in(bound, alpha.admin_email, alpha.admin_password)

    # The project, from the list's "Add".
    bound.open("/estate/projects/")
    with page.expect_navigation():
        page.get_by_role("link", name="Add", exact=True).click()
    assert page.url.endswith("/estate/projects/new/")
    page.fill("input[name=name]", project_name)
    page.fill("input[name=code]", f"e2e-{run}")
    page.fill("input[name=address]", "杭州市西湖区文三路 1 号")
    _submit(page)
    assert page.url.endswith("/estate/projects/")
    assert "Saved." in _main(page)
    with page.expect_navigation():
        page.get_by_role("link", name=project_name, exact=True).click()
    project_url = page.url
    assert re.search(r"/estate/projects/[0-9a-f-]{36}/$", project_url)
    assert project_name in page.inner_text("main h1")

    # A zone, from the project's own list of zones.
    with page.expect_navigation():
        page.click("main a[href^='/estate/zones/?project=']")
    assert "Nothing here yet." in _main(page)
    with page.expect_navigation():
        page.get_by_role("link", name="Add", exact=True).click()
    assert "/estate/zones/new/?project=" in page.url
    assert page.locator("select[name=project] option:checked").inner_text() == project_name  # from the link
    page.select_option("select[name=project]", label=project_name)
    page.fill("input[name=name]", zone_name)
    _submit(page)
    assert page.url.endswith("/estate/zones/")
    assert [zone_name, project_name, "—"] in _rows(page)  # no zone customer manager yet

    # A building in that zone.
    bound.open("/estate/buildings/new/")
    page.select_option("select[name=project]", label=project_name)
    page.select_option("select[name=zone]", label=zone_name)
    page.fill("input[name=name]", building_name)
    page.fill("input[name=floors_above]", "18")
    _submit(page)
    assert page.url.endswith("/estate/buildings/")
    assert [building_name, project_name, zone_name, "18"] in _rows(page)

    # A unit in that building.
    bound.open("/estate/units/new/")
    page.select_option("select[name=building]", label=building_name)
    page.fill("input[name=number]", "2-1201")
    page.fill("input[name=floor]", "12")
    page.fill("input[name=floor_area]", "89.50")
    _submit(page)
    assert page.url.endswith("/estate/units/")
    assert "Saved." in _main(page)

    # The unit list, filtered by the building.
    page.select_option("main form.filters select[name=building]", label=building_name)
    _submit(page, "main form.filters")
    assert "building=" in page.url
    assert _rows(page) == [["2-1201", building_name, "12", "Flat", "89.50", "Unsold"]]
    assert "1 record" in _main(page)

    # The project's page counts what was entered.
    page.goto(project_url)
    stats = _stats(page)
    assert (stats["Zones"], stats["Buildings"], stats["Units"]) == ("1", "1", "1")
    assert stats["Unit floor area (m²)"] == "89.50"

    # The same number again in the same building: refused on the form, with the reason.
    bound.open("/estate/units/new/")
    page.select_option("select[name=building]", label=building_name)
    page.fill("input[name=number]", "2-1201")
    page.fill("input[name=floor]", "12")
    page.fill("input[name=floor_area]", "90")
    _submit(page)
    assert page.url.endswith("/estate/units/new/")
    assert "The building already has a unit with this number." in page.inner_text("main form.card")
    assert page.input_value("input[name=number]") == "2-1201"  # what was typed is kept
    bound.open("/estate/units/")
    page.select_option("main form.filters select[name=building]", label=building_name)
    _submit(page, "main form.filters")
    assert [row[0] for row in _rows(page)] == ["2-1201"]
    page.goto(project_url)
    assert _stats(page)["Units"] == "1"


# ------------------------------------------------------------------------------------------ 2. the household
def test_the_household_file_records_owner_occupant_and_a_transfer(
    browser_for: Any, alpha: CompanyFixture, site: Site
) -> None:
    rng = random.Random()
    id_number = resident_id(rng)
    first = {"name": f"王芳 {site.suffix}", "phone": f"139{rng.randrange(10**8):08d}"}
    second = {"name": f"李雷 {site.suffix}", "phone": f"137{rng.randrange(10**8):08d}"}
    today = _today(alpha)
    bound = browser_for(alpha)
    page = bound.page
    _in_english(bound)
    _sign_in(bound, alpha.admin_email, alpha.admin_password)

    # Two people on file, from the person form.
    bound.open("/households/people/new/")
    page.fill("input[name=name]", first["name"])
    page.fill("input[name=phone]", first["phone"])
    page.select_option("select[name=id_type]", "resident_id")
    page.fill("input[name=id_number]", id_number)
    _submit(page)
    assert re.search(r"/households/people/[0-9a-f-]{36}/$", page.url), _main(page)
    assert first["name"] in page.inner_text("main h1")
    assert id_number in _main(page)
    bound.open("/households/people/new/")
    page.fill("input[name=name]", second["name"])
    page.fill("input[name=phone]", second["phone"])
    _submit(page)
    assert re.search(r"/households/people/[0-9a-f-]{36}/$", page.url), _main(page)

    file_path = f"/households/units/{site.unit.pk}/"
    bound.open(file_path)
    assert f"{site.building.name} 3-0801" in page.inner_text("main h1")
    assert "No owner on file." in _main(page)
    assert "Nobody lives here on file." in _main(page)

    # The first person owns all of it since 2020 and lives there.
    owner_form = "main form[action$='/add-owner/']"
    page.select_option(f"{owner_form} select[name=person]", label=f"{first['name']} · {first['phone']}")
    page.fill(f"{owner_form} input[name=share]", "100")
    page.fill(f"{owner_form} input[name=on]", "2020-05-01")
    _submit(page, owner_form)
    assert page.url.endswith(file_path)
    assert "Owner recorded." in _main(page)
    move_in_form = "main form[action$='/move-in/']"
    page.select_option(f"{move_in_form} select[name=person]", label=f"{first['name']} · {first['phone']}")
    page.select_option(f"{move_in_form} select[name=relation]", label="Owner")
    _submit(page, move_in_form)
    assert "Move-in recorded." in _main(page)
    owners = _rows(page, "Owners")
    assert [cells[:4] for cells in owners] == [[first["name"], "100.00%", _shown_date(dt.date(2020, 5, 1)), "—"]]
    occupants = _rows(page, "Occupants")
    assert [cells[:4] for cells in occupants] == [[first["name"], "Owner", _shown_date(today), "—"]]

    # Sold to the second person today: the first period ends, the new one starts, both stay on file.
    transfer_form = "main form[action$='/transfer/']"
    page.select_option(f"{transfer_form} select[name=person]", label=f"{second['name']} · {second['phone']}")
    assert page.input_value(f"{transfer_form} input[name=on]") == today.isoformat()
    _submit(page, transfer_form)
    assert page.url.endswith(file_path)
    assert "Transferred." in _main(page)
    owners = sorted(cells[:4] for cells in _rows(page, "Owners"))
    assert owners == sorted(
        [
            [second["name"], "100.00%", _shown_date(today), "—"],
            [first["name"], "100.00%", _shown_date(dt.date(2020, 5, 1)), _shown_date(today)],
        ]
    )
    # Only the current owner can still be ended; the ended period has no "End" button.
    assert page.locator("main form[action$='/end-ownership/']").count() == 1

    # The first owner's own page keeps the ended period.
    with page.expect_navigation():
        page.get_by_role("link", name=first["name"], exact=True).first.click()
    ownership_items = page.locator(
        "xpath=//h2[normalize-space()='Ownership']/following-sibling::ul[1]/li"
    ).all_inner_texts()
    assert len(ownership_items) == 1
    assert f"{site.building.name} 3-0801" in ownership_items[0]
    assert ownership_items[0].endswith(f"{_shown_date(dt.date(2020, 5, 1))} – {_shown_date(today)}")


# ------------------------------------------------------------------------------------------ 3. ID numbers
def test_the_id_number_is_whole_for_the_admin_and_masked_for_the_front_desk(
    browser_for: Any, alpha: CompanyFixture, site: Site
) -> None:
    from modules.households import services as households
    from modules.staff.services import staff_member_set
    from wuye.accounts.services import user_create

    id_number = resident_id(random.Random())
    name = f"张伟 {site.suffix}"
    desk_email = f"desk-{site.suffix}@alpha.test"
    with in_company(alpha):
        admin = alpha.admin()
        person = households.person_create(by=admin, name=name, id_type="resident_id", id_number=id_number)
        households.ownership_add(by=admin, unit=site.unit, person=person, starts_on=dt.date(2021, 3, 1))
        desk = user_create(email=desk_email, name="前台小陈", password=ADMIN_PASSWORD, roles=["cs_staff"])
        staff_member_set(by=admin, user=desk, project=site.project)
    person_path = f"/households/people/{person.pk}/"

    as_admin = browser_for(alpha)
    _in_english(as_admin)
    _sign_in(as_admin, alpha.admin_email, alpha.admin_password)
    as_admin.open(person_path)
    assert name in as_admin.page.inner_text("main h1")
    assert id_number in _main(as_admin.page)

    as_desk = browser_for(alpha)
    _in_english(as_desk)
    _sign_in(as_desk, desk_email, ADMIN_PASSWORD)
    as_desk.open(person_path)
    page = as_desk.page
    assert name in page.inner_text("main h1")
    shown = masked(id_number)
    assert re.fullmatch(r"1101\*{10}[0-9X]{4}", shown)
    assert shown in _main(page)
    assert id_number not in page.content()
    # The list of people masks it the same way.
    as_desk.open(f"/households/people/?q={site.suffix}")
    assert [row[:3] for row in _rows(page)] == [[name, "—", shown]]
    assert id_number not in page.content()


# ------------------------------------------------------------------------------------------ 4. owner portal
def test_an_invited_owner_chooses_a_password_and_sees_the_unit_on_a_phone(
    phone_for: Any, alpha: CompanyFixture, site: Site
) -> None:
    from modules.households import services as households

    email = f"owner-{site.suffix}@alpha.test"
    name = f"赵敏 {site.suffix}"
    with in_company(alpha):
        admin = alpha.admin()
        person = households.person_create(by=admin, name=name, email=email, phone="13912345678")
        households.ownership_add(by=admin, unit=site.unit, person=person, starts_on=dt.date(2022, 6, 1))
        mail.outbox.clear()
        # Committed at once (no test transaction): the on-commit callback queues the e-mail task, which
        # runs inline and sends through the in-memory backend of this process.
        households.owner_invite(by=admin, person=person)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [email]
    body = str(mail.outbox[0].body)
    match = re.search(r"https?://[^\s/]+(/accounts/link/[^\s]+/)", body)
    assert match, body

    bound = phone_for(alpha)
    page = bound.page
    bound.open(match.group(1))
    assert email in _main(page)
    _assert_no_sideways_scroll(page)
    page.fill("input[name=password]", OWNER_PASSWORD)
    page.fill("input[name=password_again]", OWNER_PASSWORD)
    with page.expect_navigation(url="**/my/"):
        page.click("main button[type=submit]")
    assert page.url.endswith("/my/")
    text = _main(page)
    assert name in page.inner_text("main h1")
    assert f"{site.project.name} · {site.building.name} 3-0801" in text
    assert "96.40 m²" in text
    _assert_no_sideways_scroll(page)


# ------------------------------------------------------------------------------------------ 5. language
def test_the_estate_pages_follow_the_language_menu(browser_for: Any, alpha: CompanyFixture, run: str) -> None:
    from wuye.accounts.models import User

    with in_company(alpha):
        before = User.objects.get(pk=alpha.admin_id).language
    # (context, msgid): a project's name and street address have words of their own (名称, 地址).
    columns = [("a record", "Name"), ("", "Code"), ("a place", "Address"), ("", "Floor area (m²)")]
    with translation.override("zh-hans"):
        chinese_columns = [
            str(translation.pgettext(context, text) if context else translation.gettext(text))
            for context, text in columns
        ]
    try:
        bound = browser_for(alpha)
        page = bound.page
        with in_company(alpha):
            User.objects.filter(pk=alpha.admin_id).update(language="")  # the company's language: Chinese
        _sign_in(bound, alpha.admin_email, alpha.admin_password)
        bound.open("/estate/projects/")

        # Chinese by default: only strings the zh-hans catalogue translates are checked literally.
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        nav = page.inner_text("header nav")
        assert "首页" in nav and "员工账号" in nav
        assert page.get_attribute("main input[name=q]", "placeholder") == "搜索"
        headings = page.locator("main table thead th").all_inner_texts()
        assert headings == chinese_columns
        assert CJK.search(headings[0]) and CJK.search(headings[2]), headings  # "Name", "Address" in Chinese
        assert "Name" not in headings and "Address" not in headings

        with page.expect_navigation():
            page.select_option("#lang-select", "en")
        assert page.url.endswith("/estate/projects/")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.inner_text("main h1") == "Projects"
        assert page.locator("main table thead th").all_inner_texts() == [text for _context, text in columns]
        nav = page.inner_text("header nav")
        assert all(item in nav for item in ("Home", "Projects", "Units", "Staff accounts"))
        assert not CJK.search(nav)
        assert page.get_attribute("main input[name=q]", "placeholder") == "Search"
        # Back to Chinese with the same menu.
        with page.expect_navigation():
            page.select_option("#lang-select", "zh-hans")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert page.locator("main table thead th").all_inner_texts() == chinese_columns
    finally:
        with in_company(alpha):
            User.objects.filter(pk=alpha.admin_id).update(language=before)


def test_the_language_chosen_is_remembered_on_the_account(browser_for: Any, alpha: CompanyFixture, run: str) -> None:
    """README: "every page also works in English (the language menu in the top bar, remembered per person)".
    The menu saves the choice on the account; a browser that never chose (no cookie) should get it back
    once the person signs in."""
    from wuye.accounts.models import User

    with in_company(alpha):
        before = User.objects.get(pk=alpha.admin_id).language
    try:
        first = browser_for(alpha)
        with in_company(alpha):
            User.objects.filter(pk=alpha.admin_id).update(language="")
        _sign_in(first, alpha.admin_email, alpha.admin_password)
        first.open("/estate/projects/")
        with first.page.expect_navigation():
            first.page.select_option("#lang-select", "en")
        assert first.page.locator("html").get_attribute("lang") == "en"
        with in_company(alpha):
            assert User.objects.get(pk=alpha.admin_id).language == "en"

        other = browser_for(alpha)  # another browser: no language cookie
        _sign_in(other, alpha.admin_email, alpha.admin_password)
        other.open("/estate/projects/")
        assert other.page.locator("html").get_attribute("lang") == "en"
        assert other.page.inner_text("main h1") == "Projects"
    finally:
        with in_company(alpha):
            User.objects.filter(pk=alpha.admin_id).update(language=before)
