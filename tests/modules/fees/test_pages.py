"""The fee pages: each renders for the administrator and is refused to a user without the permission; the
desk takes a payment and shows its receipt; a service's refusal shows on the form and changes nothing;
company B does not find company A's records; the exports open in Excel; and the account page's other
actions, the reading sheet, bill runs, tariffs, write-offs and the owner's page do what they say.

Pages are asked for in English (the language cookie) so that the assertions do not depend on the Chinese
catalogue."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from modules.fees import runs, services
from modules.fees.models import Bill, LedgerEntry, MeterReading, Payment, ReceiptCounter, Tariff, WriteOff
from modules.staff import services as staff_services
from tests.support import estate as estate_support
from tests.support import fees as fees_support
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company

PASSWORD = "fees-pages-pass-7"
OCTOBER = dt.date(2026, 10, 1)


@dataclass
class World:
    admin: Any
    project: Any
    zone: Any
    building: Any
    unit: Any
    account: Any
    bill: Any
    payment: Any
    run: Any
    meter: Any


def _client(company_client: Any, company: CompanyFixture, user: Any) -> Any:
    client = company_client(company)
    with in_company(company):
        client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _user(company: CompanyFixture, role: str, project: Any, *, zones: list[Any] | None = None) -> Any:
    with in_company(company):
        user = account_services.user_create(
            email=f"{role}-{project.code}@fees-pages.test", name=f"{role} user", password=PASSWORD, roles=[role]
        )
        staff_services.staff_member_set(by=company.admin(), user=user, project=project, zones=zones or [])
    return user


def overdue_bills(project: Any, period: dt.date) -> list[Any]:
    """The project's bills of `period`, issued on the period's first day and due 30 days later: overdue
    today, which a run posted today would not be (its bills are due no earlier than they are issued)."""
    services.accounts_ensure(project_id=project.pk)
    plan = runs.plan_make(project_id=project.pk, period=period)
    return runs.bills_write(
        plan.bills, run_id=None, period=period, issued_on=period, due_on=period + dt.timedelta(days=30)
    )


@pytest.fixture
def world(company_a: CompanyFixture) -> World:
    """A project with a zone, a building and an owned unit of 100 m² at 2.00 a month: its September bill is
    overdue, its October run posted; 50.00 paid in cash; a water meter on the unit."""
    with in_company(company_a):
        admin = company_a.admin()
        project = estate_support.project(admin)
        zone = estate_support.zone(admin, project=project)
        building = estate_support.building(admin, project=project, zone=zone)
        fees_support.tariff(admin, project, "property", "2.00")
        unit = fees_support.owned_unit(admin, building=building, area="100.00")
        account = fees_support.account(unit)
        overdue_bills(project, dt.date(2026, 9, 1))
        run = fees_support.post_month(admin, project, OCTOBER)
        bill = Bill.objects.get(account=account, period=OCTOBER)
        payment = services.payment_record(by=admin, account=account, amount="50.00", method="cash")
        meter = estate_support.meter(admin, project=project, unit=unit)
    return World(admin, project, zone, building, unit, account, bill, payment, run, meter)


def _pages(w: World) -> list[str]:
    return [
        "/fees/",
        f"/fees/?project={w.project.pk}&owing=1&q={w.building.name}",
        f"/fees/accounts/{w.account.pk}/",
        f"/fees/payments/{w.payment.pk}/",
        "/fees/tariffs/",
        f"/fees/tariffs/?project={w.project.pk}&on=2026-10-01",
        "/fees/readings/",
        f"/fees/readings/?project={w.project.pk}&month=2026-11",
        "/fees/runs/",
        f"/fees/runs/{w.run.pk}/",
        f"/fees/runs/{w.run.pk}/progress/",
        "/fees/arrears/",
        f"/fees/arrears/?project={w.project.pk}&zone={w.zone.pk}&building={w.building.pk}",
        "/fees/chases/",
        f"/fees/chases/?zone={w.zone.pk}",
        "/fees/write-offs/",
        "/fees/collection/",
        f"/fees/collection/?from=2026-01&to=2026-11&group=zone&project={w.project.pk}",
        "/fees/collection/?group=building",
        "/fees/collection/?group=charge_item",
        "/fees/daily/",
        "/fees/daily/?day=2026-10-01",
        "/fees/weekly/",
        "/fees/weekly/?weeks=52",
        "/fees/settings/",
    ]


def test_every_page_renders_for_the_administrator(company_a: CompanyFixture, world: World, company_client) -> None:
    client = _client(company_client, company_a, world.admin)
    failures = []
    for path in _pages(world):
        response = client.get(path)
        if response.status_code != 200:
            failures.append(f"{path}: {response.status_code}")
    assert not failures, failures
    # The fee pages' own navigation, by permission: the administrator has every section.
    text = client.get("/fees/").content.decode()
    for label in ("Arrears", "Collection rate", "Meter readings", "Bill runs", "Tariffs", "Write-offs", "Settings"):
        assert f">{label}</a>" in text, label


def test_pages_are_refused_without_the_permission(company_a: CompanyFixture, world: World, company_client) -> None:
    guard = _user(company_a, "security", world.project)  # 秩序维护部: nothing of fees
    client = _client(company_client, company_a, guard)
    failures = []
    for path in _pages(world):
        response = client.get(path)
        if response.status_code not in (403, 404):
            failures.append(f"{path}: {response.status_code}")
    for path in (
        f"/fees/accounts/{world.account.pk}/pay/",
        f"/fees/payments/{world.payment.pk}/",
        f"/fees/runs/{world.run.pk}/post/",
        "/fees/settings/",
        "/fees/tariffs/",
    ):
        response = client.post(path, {"amount": "10", "method": "cash", "reason": "x", "form": "item"})
        if response.status_code not in (403, 404):
            failures.append(f"POST {path}: {response.status_code}")
    assert not failures, failures
    with in_company(company_a):
        assert Payment.objects.filter(account=world.account).count() == 1


def test_the_front_desk_sees_only_its_sections(company_a: CompanyFixture, world: World, company_client) -> None:
    desk = _user(company_a, "cs_staff", world.project)
    client = _client(company_client, company_a, desk)
    text = client.get(f"/fees/accounts/{world.account.pk}/").content.decode()
    assert "Take a payment" in text and "One-off charge" in text
    assert "Reverse a charge" not in text and "Refund" not in text  # finance's
    nav = re.search(r'<nav class="subnav".*?</nav>', text, re.S)
    assert nav and "Meter readings" in nav.group(0) and "Arrears" not in nav.group(0)
    assert client.get("/fees/collection/").status_code == 403
    assert client.get("/fees/settings/").status_code == 403


def test_the_desk_takes_a_payment_and_shows_the_receipt(
    company_a: CompanyFixture, world: World, company_client
) -> None:
    client = _client(company_client, company_a, world.admin)
    page = client.get(f"/fees/accounts/{world.account.pk}/").content.decode()
    assert f'value="{world.bill.pk}"' in page  # the open October bill, to tick
    response = client.post(
        f"/fees/accounts/{world.account.pk}/pay/",
        {
            "amount": "150.00",
            "method": "wechat",
            "bills": [str(world.bill.pk)],
            "payer_name": "王芳",
            "reference": "WX1",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with in_company(company_a):
        payment = Payment.objects.filter(account=world.account).order_by("-received_at").first()
        assert payment.amount == Decimal("150.00") and payment.method == "wechat" and payment.payer_name == "王芳"
        # The ticked bill is paid first (200.00 owed, 50.00 of it paid before): the rest is prepayment.
        paid = LedgerEntry.objects.filter(payment=payment, line__bill=world.bill).values_list("amount", flat=True)
        assert sum(paid) == Decimal("-150.00")
    assert response["Location"] == f"/fees/payments/{payment.pk}/"
    receipt = client.get(response["Location"])
    text = receipt.content.decode()
    assert receipt.status_code == 200
    assert payment.receipt_number in text and "Alpha 物业" in text and "150.00" in text
    assert "window.print()" in text and f"/fees/payments/{payment.pk}/pdf/" in text
    assert f"Payment recorded: receipt {payment.receipt_number}." in text


def test_a_zero_payment_is_refused_on_the_form_and_changes_nothing(
    company_a: CompanyFixture, world: World, company_client
) -> None:
    client = _client(company_client, company_a, world.admin)
    with in_company(company_a):
        before = (Payment.objects.count(), LedgerEntry.objects.count(), list(ReceiptCounter.objects.values()))
    response = client.post(f"/fees/accounts/{world.account.pk}/pay/", {"amount": "0", "method": "cash"})
    assert response.status_code == 200
    text = response.content.decode()
    form = re.search(r'<form[^>]*data-action="pay".*?</form>', text, re.S)
    assert form and "The amount must be more than zero." in form.group(0)
    assert 'value="0"' in form.group(0)  # what was typed is kept
    with in_company(company_a):
        after = (Payment.objects.count(), LedgerEntry.objects.count(), list(ReceiptCounter.objects.values()))
    assert after == before


def test_company_b_does_not_find_company_a_records(
    company_a: CompanyFixture, company_b: CompanyFixture, world: World, company_client
) -> None:
    with in_company(company_b):
        other_admin = company_b.admin()
    client = _client(company_client, company_b, other_admin)
    for path in (
        f"/fees/accounts/{world.account.pk}/",
        f"/fees/payments/{world.payment.pk}/",
        f"/fees/payments/{world.payment.pk}/pdf/",
        f"/fees/runs/{world.run.pk}/",
        f"/fees/runs/{world.run.pk}/progress/",
    ):
        assert client.get(path).status_code == 404, path
    for path, data in (
        (f"/fees/accounts/{world.account.pk}/pay/", {"amount": "10", "method": "cash"}),
        (f"/fees/payments/{world.payment.pk}/", {"reason": "wrong"}),
        (f"/fees/runs/{world.run.pk}/post/", {}),
    ):
        assert client.post(path, data).status_code == 404, path
    with in_company(company_a):
        assert Payment.objects.filter(account=world.account).count() == 1


def test_a_zone_manager_of_another_zone_does_not_find_the_account(
    company_a: CompanyFixture, world: World, company_client
) -> None:
    with in_company(company_a):
        other_zone = estate_support.zone(world.admin, project=world.project)
    manager = _user(company_a, "zone_manager", world.project, zones=[other_zone])
    client = _client(company_client, company_a, manager)
    assert client.get(f"/fees/accounts/{world.account.pk}/").status_code == 404
    assert client.get(f"/fees/payments/{world.payment.pk}/").status_code == 404
    listing = client.get("/fees/").content.decode()
    assert world.account.label not in listing


def _workbook(response: Any) -> Any:
    from openpyxl import load_workbook

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(response.content), read_only=True)


def _rows(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_exports_open_in_excel_with_the_rows(company_a: CompanyFixture, world: World, company_client) -> None:
    client = _client(company_client, company_a, world.admin)
    with in_company(company_a):
        second = fees_support.owned_unit(world.admin, building=world.building, area="50.00")
        fees_support.account(second)
        second_label = fees_support.account(second).label

    accounts = _rows(_workbook(client.get("/fees/", {"format": "xlsx", "project": world.project.pk})).active)
    assert accounts[0] == ["Account", "Project", "Owed", "Prepaid", "Balance"]
    by_label = {row[0]: row for row in accounts[1:]}
    assert set(by_label) == {world.account.label, second_label}
    # September 200.00 + October 200.00, 50.00 paid.
    assert by_label[world.account.label][1:] == [world.project.name, 350, 0, 350]
    owing = _rows(_workbook(client.get("/fees/", {"format": "xlsx", "owing": "1"})).active)
    assert second_label not in [row[0] for row in owing]

    arrears = _rows(_workbook(client.get("/fees/arrears/", {"format": "xlsx", "project": world.project.pk})).active)
    assert arrears[0][0] == "Account" and arrears[0][-3:] == ["Total", "Oldest due", "Last chase"]
    assert [row[0] for row in arrears[1:]] == [world.account.label]
    assert arrears[1][-3] == 150  # September's 200.00 less the 50.00 paid (oldest first)

    workbook = _workbook(client.get("/fees/collection/", {"format": "xlsx", "from": "2026-09", "to": "2026-10"}))
    assert workbook.sheetnames == ["Collection rate", "Totals"]
    rows = _rows(workbook["Collection rate"])
    assert rows[0][:4] == ["Month", "Project", "Billed", "Collected in period"]
    mine = [row for row in rows[1:] if row[1] == world.project.name]
    assert [(row[0], row[2]) for row in mine] == [("2026-09", 200), ("2026-10", 200)]

    weekly = _workbook(client.get("/fees/weekly/", {"format": "xlsx"}))
    assert weekly.sheetnames == ["Weekly collection", "By charge item"]
    weeks = _rows(weekly["Weekly collection"])
    assert weeks[0] == ["Week from", "Week to", "Payments", "Collected"] and len(weeks) == 13
    assert weeks[-1][2] >= 1 and weeks[-1][3] >= 50  # this week's payment


def test_the_collection_page_draws_the_monthly_rate(company_a: CompanyFixture, world: World, company_client) -> None:
    client = _client(company_client, company_a, world.admin)
    text = client.get("/fees/collection/", {"from": "2026-09", "to": "2026-10"}).content.decode()
    svg = re.search(r"<svg class=\"chart\".*?</svg>", text, re.S)
    assert svg, "no chart"
    assert svg.group(0).count("<rect") >= 2 and "2026-09" in svg.group(0) and "100%" in svg.group(0)
    assert "<script" not in text  # no chart library


# ------------------------------------------------------------------------------------------ account actions
def _post(client: Any, world: World, action: str, data: dict[str, Any]) -> Any:
    return client.post(f"/fees/accounts/{world.account.pk}/{action}/", data)


def test_the_account_page_actions(company_a: CompanyFixture, world: World, company_client) -> None:
    client = _client(company_client, company_a, world.admin)
    with in_company(company_a):
        service = fees_support.item("special-service")
        line = world.bill.lines.get()

    charged = _post(
        client, world, "charge", {"charge_item": service.pk, "quantity": "2", "unit_price": "30", "note": "疏通"}
    )
    assert charged.status_code == 302, charged.content.decode()[:3000]
    reversed_ = _post(client, world, "reverse", {"line": line.pk, "amount": "20.00", "reason": "面积更正"})
    assert reversed_.status_code == 302, reversed_.content.decode()[:3000]
    chased = _post(client, world, "chase", {"channel": "phone", "result": "答应下周交", "promised_on": "2026-12-31"})
    assert chased.status_code == 302, chased.content.decode()[:3000]
    asked = _post(client, world, "write-off", {"line": line.pk, "amount": "10.00", "reason": "协商减免"})
    assert asked.status_code == 302, asked.content.decode()[:3000]
    advance = _post(client, world, "advance", {"months": "2", "method": "cash", "prepayment": "100.00"})
    assert advance.status_code == 302, advance.content.decode()[:3000]
    assert advance["Location"].startswith("/fees/payments/")
    refund = _post(client, world, "refund", {"payment": "", "amount": "30.00", "method": "cash", "reason": "退预存"})
    assert refund.status_code == 302, refund.content.decode()[:3000]

    page = client.get(f"/fees/accounts/{world.account.pk}/").content.decode()
    assert "疏通" in page and "面积更正" in page and "答应下周交" in page
    with in_company(company_a):
        kinds = set(LedgerEntry.objects.filter(account=world.account).values_list("kind", flat=True))
        assert {"charge", "charge_reversal", "payment", "prepayment", "refund"} <= kinds
        assert WriteOff.objects.filter(line=line, status="requested").count() == 1

    # A line of another account is not this page's to act on.
    with in_company(company_a):
        other = fees_support.account(fees_support.owned_unit(world.admin, building=world.building))
        overdue_bills(world.project, dt.date(2026, 8, 1))
        other_line = Bill.objects.get(account=other, period=dt.date(2026, 8, 1)).lines.get()
    assert _post(client, world, "reverse", {"line": other_line.pk, "reason": "x"}).status_code == 200  # not a choice
    assert _post(client, world, "nonsense", {}).status_code == 404


def test_using_the_prepayment_and_a_refused_refund(company_a: CompanyFixture, world: World, company_client) -> None:
    client = _client(company_client, company_a, world.admin)
    with in_company(company_a):
        services.payment_record(
            by=world.admin, account=world.account, amount="500.00", method="cash", bills=[world.bill]
        )
    used = _post(client, world, "use-credit", {})
    assert used.status_code == 302
    followed = client.get(used["Location"]).content.decode()
    assert "of the prepayment paid open bills." in followed
    too_much = _post(client, world, "refund", {"payment": "", "amount": "99999.00", "method": "cash", "reason": "x"})
    assert too_much.status_code == 200
    assert "At most the prepayment of" in too_much.content.decode()


def test_voiding_a_receipt_stamps_it(company_a: CompanyFixture, world: World, company_client) -> None:
    client = _client(company_client, company_a, world.admin)
    path = f"/fees/payments/{world.payment.pk}/"
    assert "Void this receipt" in client.get(path).content.decode()
    refused = client.post(path, {"reason": ""})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    voided = client.post(path, {"reason": "收错户"})
    assert voided.status_code == 302
    text = client.get(path).content.decode()
    assert 'class="void-stamp"' in text and "收错户" in text and "Void this receipt" not in text
    account_page = client.get(f"/fees/accounts/{world.account.pk}/").content.decode()
    assert re.search(r'<tr class="voided">.*?' + world.payment.receipt_number, account_page, re.S)


def test_the_receipt_pdf(company_a: CompanyFixture, world: World, company_client) -> None:
    pytest.importorskip("modules.fees.documents")
    client = _client(company_client, company_a, world.admin)
    response = client.get(f"/fees/payments/{world.payment.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")


# ------------------------------------------------------------------------------------------ write-offs
def test_a_write_off_is_approved_by_someone_else(company_a: CompanyFixture, world: World, company_client) -> None:
    clerk = _user(company_a, "finance", world.project)
    with in_company(company_a):
        line = world.bill.lines.get()
        asked = services.write_off_request(by=clerk, line=line, amount="15.00", reason="困难户")
    as_clerk = _client(company_client, company_a, clerk)
    page = as_clerk.get("/fees/write-offs/").content.decode()
    assert "困难户" in page and "Approve" not in page  # finance asks; it does not approve
    as_admin = _client(company_client, company_a, world.admin)
    assert "Approve" in as_admin.get("/fees/write-offs/").content.decode()
    decided = as_admin.post(f"/fees/write-offs/{asked.pk}/decide/", {"decision": "approve"})
    assert decided.status_code == 302
    with in_company(company_a):
        asked.refresh_from_db()
        assert asked.status == "approved"
        assert LedgerEntry.objects.filter(write_off=asked, amount=Decimal("-15.00")).exists()
    assert "Write-off approved." in as_admin.get("/fees/write-offs/").content.decode()


# ------------------------------------------------------------------------------------------ readings
def test_the_reading_sheet_records_one_row_and_shows_errors_inline(
    company_a: CompanyFixture, world: World, company_client
) -> None:
    client = _client(company_client, company_a, world.admin)
    path = f"/fees/readings/?project={world.project.pk}&month=2026-10"
    sheet = client.get(path).content.decode()
    assert world.meter.serial in sheet and "First reading: it is the baseline." in sheet
    saved = client.post(path, {"meter": world.meter.pk, "reading": "120.5"})
    assert saved.status_code == 302 and saved["Location"].endswith(f"#m-{world.meter.pk}")
    november = f"/fees/readings/?project={world.project.pk}&month=2026-11"
    assert "Previous: 120.5 (2026-10)" in client.get(november).content.decode()
    below = client.post(november, {"meter": world.meter.pk, "reading": "100"})
    assert below.status_code == 200
    text = below.content.decode()
    row = re.search(rf'<form[^>]*id="m-{world.meter.pk}".*?</form>', text, re.S)
    assert row and "The reading is below the previous one" in row.group(0) and 'value="100"' in row.group(0)
    replaced = client.post(
        november, {"meter": world.meter.pk, "reading": "10", "replaced": "on", "old_final": "130", "new_start": "0"}
    )
    assert replaced.status_code == 302
    with in_company(company_a):
        reading = MeterReading.objects.get(meter=world.meter, period=dt.date(2026, 11, 1))
        assert reading.consumption == Decimal("19.5") and reading.replaced


# ------------------------------------------------------------------------------------------ runs
def test_a_run_is_previewed_posted_and_its_progress_polled(
    company_a: CompanyFixture, world: World, company_client, django_capture_on_commit_callbacks
) -> None:
    with in_company(company_a):
        fees_support.tariff(world.admin, world.project, "water", "3.50")  # so the meter is billed by reading
    client = _client(company_client, company_a, world.admin)
    created = client.post("/fees/runs/", {"project": world.project.pk, "period": "2026-11"})
    assert created.status_code == 302, created.content.decode()[:2000]
    detail = client.get(created["Location"]).content.decode()
    assert "Preview" in detail and "Bills to post" in detail and "Post the bills" in detail
    assert 'data-figure="total">200.00<' in detail
    # The water meter has no reading for November: listed before posting.
    assert "Meters without a reading for the period" in detail and world.meter.serial in detail
    again = client.post("/fees/runs/", {"project": world.project.pk, "period": "2026-11"})
    assert again.status_code == 200 and "already has a bill run" in again.content.decode()
    run_id = created["Location"].rstrip("/").rsplit("/", 1)[-1]
    with django_capture_on_commit_callbacks(execute=False):
        posted = client.post(f"/fees/runs/{run_id}/post/")
    assert posted.status_code == 302
    page = client.get(f"/fees/runs/{run_id}/").content.decode()
    assert 'id="run-progress"' in page and f"/fees/runs/{run_id}/progress/" in page
    progress = client.get(f"/fees/runs/{run_id}/progress/").json()
    assert progress["status"] == "posting"
    with in_company(company_a):
        services.run_execute(run_id=run_id)
    assert client.get(f"/fees/runs/{run_id}/progress/").json() == {
        "status": "posted",
        "done": 1,
        "total": 1,
        "percent": 100,
    }


# ------------------------------------------------------------------------------------------ tariffs, settings
def test_tariffs_and_charge_items_are_managed_on_their_page(
    company_a: CompanyFixture, world: World, company_client
) -> None:
    client = _client(company_client, company_a, world.admin)
    with in_company(company_a):
        water = fees_support.item("water")
    created = client.post(
        "/fees/tariffs/",
        {
            "form": "tariff",
            "project": world.project.pk,
            "charge_item": water.pk,
            "applies_to": "",
            "unit_price": "3.5",
            "valid_from": "2026-01-01",
            "tier1_above": "20",
            "tier1_price": "4.2",
            "tier2_above": "40",
        },
    )
    assert created.status_code == 200  # the second tier has no price
    assert "Give both the quantity and the price of the tier, or neither." in created.content.decode()
    created = client.post(
        "/fees/tariffs/",
        {
            "form": "tariff",
            "project": world.project.pk,
            "charge_item": water.pk,
            "unit_price": "3.5",
            "valid_from": "2026-01-01",
            "tier1_above": "20",
            "tier1_price": "4.2",
        },
    )
    assert created.status_code == 302, created.content.decode()[:3000]
    text = client.get(created["Location"]).content.decode()
    assert "above 20: 4.2" in text
    overlap = client.post(
        "/fees/tariffs/",
        {
            "form": "tariff",
            "project": world.project.pk,
            "charge_item": water.pk,
            "unit_price": "3",
            "valid_from": "2026-06-01",
        },
    )
    assert overlap.status_code == 200 and "Another tariff of this item already applies" in overlap.content.decode()
    with in_company(company_a):
        tariff = Tariff.objects.get(project=world.project, charge_item=water)
    ended = client.post(f"/fees/tariffs/{tariff.pk}/end/", {"on": "2026-12-01", "project": world.project.pk})
    assert ended.status_code == 302
    with in_company(company_a):
        tariff.refresh_from_db()
        assert tariff.valid_until == dt.date(2026, 12, 1)

    item = client.post(
        "/fees/tariffs/",
        {
            "form": "item",
            "code": "garbage",
            "name": "垃圾清运费",
            "category": "other",
            "basis": "item",
            "sort_order": "90",
        },
    )
    assert item.status_code == 302, item.content.decode()[:3000]
    with in_company(company_a):
        made = fees_support.item("garbage")
    assert client.post(f"/fees/charge-items/{made.pk}/", {"name": "垃圾清运"}).status_code == 302
    assert client.post(f"/fees/charge-items/{made.pk}/", {"archived": "1"}).status_code == 302
    with in_company(company_a):
        made.refresh_from_db()
        assert made.name == "垃圾清运" and made.archived_at is not None


def test_the_settings_form(company_a: CompanyFixture, world: World, company_client) -> None:
    client = _client(company_client, company_a, world.admin)
    saved = client.post(
        "/fees/settings/", {"run_day": "5", "due_days": "20", "auto_run": "on", "reminder_text": "请按时缴费"}
    )
    assert saved.status_code == 302
    with in_company(company_a):
        current = services.fee_settings()
        assert (current.run_day, current.due_days, current.auto_run, current.auto_apply_prepayment) == (
            5,
            20,
            True,
            False,
        )
    wrong = client.post("/fees/settings/", {"run_day": "31", "due_days": "20"})
    assert wrong.status_code == 200 and "Ensure this value is less than or equal to 28." in wrong.content.decode()


# ------------------------------------------------------------------------------------------ owners
def test_an_owner_sees_their_open_bills_and_receipts(company_a: CompanyFixture, world: World, company_client) -> None:
    from modules.households.models import Ownership

    with in_company(company_a):
        person = Ownership.objects.get(unit=world.unit).person
        owner = account_services.user_create(
            email="owner@fees-pages.test", name=person.name, password=PASSWORD, kind="owner"
        )
        person.user = owner
        person.save(update_fields=["user"])
        neighbour_unit = fees_support.owned_unit(world.admin, building=world.building)
        neighbour = fees_support.account(neighbour_unit)
        theirs = services.payment_record(by=world.admin, account=neighbour, amount="9.00", method="cash")
    client = _client(company_client, company_a, owner)
    text = client.get("/fees/my/").content.decode()
    assert world.account.label in text and "2026-09" in text and "2026-10" in text
    assert world.payment.receipt_number in text and theirs.receipt_number not in text
    receipt = client.get(f"/fees/my/payments/{world.payment.pk}/")
    assert receipt.status_code == 200 and world.payment.receipt_number in receipt.content.decode()
    assert "Void this receipt" not in receipt.content.decode()
    assert client.get(f"/fees/my/payments/{theirs.pk}/").status_code == 404
    assert client.get(f"/fees/payments/{world.payment.pk}/").status_code == 403  # the staff page
    assert client.get("/fees/").status_code == 403
    # Staff without a household of their own are told so.
    admin = _client(company_client, company_a, world.admin)
    assert admin.get("/fees/my/").status_code == 404


def test_arrears_page_sends_reminders_and_prints_letters(
    company_a: CompanyFixture, company_b: CompanyFixture, world: World, company_client
) -> None:
    from modules.fees.models import ChaseRecord

    client = _client(company_client, company_a, world.admin)
    page = client.get("/fees/arrears/")
    assert f'value="{world.account.pk}"' in page.content.decode()
    letter = client.get(f"/fees/accounts/{world.account.pk}/reminder.pdf")
    assert letter.status_code == 200
    assert letter["Content-Type"] == "application/pdf" and letter.content.startswith(b"%PDF")
    response = client.post("/fees/arrears/remind/", {"account": [str(world.account.pk)]})
    assert response.status_code == 302
    with in_company(company_a):
        chase = ChaseRecord.objects.get(account=world.account)
    # September's 200.00 is overdue (October's is not due yet); the chase keeps all that was owed then.
    assert chase.channel in ("email", "letter") and chase.owed > 0
    with in_company(company_b):
        other = _client(company_client, company_b, company_b.admin())
    assert other.get(f"/fees/accounts/{world.account.pk}/reminder.pdf").status_code == 404
    assert other.post("/fees/arrears/remind/", {"account": [str(world.account.pk)]}).status_code == 404
