"""The fees API on real PostgreSQL: tariffs, readings, bill runs, the desk (payments, voids, refunds,
reversals, write-offs, one-off charges, advance collection, prepayment), the reports on small examples
worked out by hand, and the owner's own bills. Refused input changes nothing (the ledger is counted)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from modules.fees import services
from modules.fees.models import LedgerEntry, Payment, Refund
from modules.staff import services as staff_services
from tests.support import estate
from tests.support import fees as fees_support
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company

API = "/api/v1/fees"
SHANGHAI = ZoneInfo("Asia/Shanghai")
JAN, FEB = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
OWNED_SINCE = dt.date(2025, 6, 1)


@contextmanager
def on(day: dt.date) -> Iterator[None]:
    """Everything in the block happens at noon, Shanghai time, on `day` (entries are booked that day)."""
    with time_machine.travel(dt.datetime.combine(day, dt.time(12), tzinfo=SHANGHAI), tick=False):
        yield


def _error(response: Any) -> str:
    return str(response.json()["error"]["code"])


def _staff_client(company: CompanyFixture, api_client: Any, role: str, *, project: Any, zones: Any = ()) -> Any:
    user = account_services.user_create(
        email=f"{role}-{project.code}@fees-api.test", name=role, password="fees-api-pass-99", roles=[role]
    )
    staff_services.staff_member_set(by=company.admin(), user=user, project=project, zones=list(zones))
    return api_client(company, account_services.api_token_create(user=user, name="t")[1])


def _entries(account: Any) -> int:
    return LedgerEntry.objects.filter(account=account).count()


@pytest.fixture
def client(company_a: CompanyFixture, api_client: Any, admin_token: Any) -> Any:
    return api_client(company_a, admin_token(company_a))


@pytest.fixture
def billed(company_a: CompanyFixture) -> dict[str, Any]:
    """A project at 2.50 per m² with one owned unit of 100 m²: its January and February bills, 250.00 each."""
    with in_company(company_a):
        admin = company_a.admin()
        project = estate.project(admin)
        fees_support.tariff(admin, project, "property", "2.50")
        unit = fees_support.owned_unit(admin, project=project, area="100.00", owner_from=OWNED_SINCE)
        fees_support.post_month(admin, project, JAN)
        fees_support.post_month(admin, project, FEB)
        account = fees_support.account(unit)
        lines = {line.bill.period: line for line in account_lines(account)}
        return {"project": project, "unit": unit, "account": account, "jan": lines[JAN], "feb": lines[FEB]}


def account_lines(account: Any) -> list[Any]:
    from modules.fees.models import BillLine

    return list(BillLine.objects.filter(bill__account=account).select_related("bill"))


# ------------------------------------------------------------------------------------------ tariffs
def test_tariffs_are_set_ended_and_never_overlap(company_a: CompanyFixture, client: Any) -> None:
    with in_company(company_a):
        project = estate.project(company_a.admin())
        property_item, water = fees_support.item("property"), fees_support.item("water")

    def post(item: Any, price: str, valid_from: str, **more: Any) -> Any:
        body = {"project": str(project.pk), "charge_item": str(item.pk), "unit_price": price, "valid_from": valid_from}
        return client.post(f"{API}/tariffs/", body | more, format="json")

    made = post(property_item, "2.5", "2026-01-01")
    assert made.status_code == 201, made.json()
    assert made.json()["unit_price"] == "2.5000" and made.json()["valid_until"] is None
    clash = post(property_item, "2.80", "2026-06-01")
    assert clash.status_code == 400 and _error(clash) == "tariff_overlap"
    assert "valid_from" in clash.json()["error"]["fields"]
    tiered = post(
        water, "3.00", "2026-01-01",
        tiers=[{"starts_above": "20", "unit_price": "4.50"}, {"starts_above": "10", "unit_price": "3.80"}],
    )  # fmt: skip
    assert tiered.status_code == 201, tiered.json()
    assert tiered.json()["tiers"] == [
        {"starts_above": "10.0000", "unit_price": "3.8000"},
        {"starts_above": "20.0000", "unit_price": "4.5000"},
    ]
    not_metered = post(property_item, "2.80", "2030-01-01", tiers=[{"starts_above": "10", "unit_price": "3"}])
    assert not_metered.status_code == 400 and _error(not_metered) == "tiers_not_metered"

    ended = client.post(f"{API}/tariffs/{made.json()['id']}/end/", {"on": "2026-07-01"}, format="json")
    assert ended.status_code == 200 and ended.json()["valid_until"] == "2026-07-01"
    assert post(property_item, "2.80", "2026-07-01").status_code == 201

    def prices(day: str) -> list[tuple[str, str]]:
        found = client.get(f"{API}/tariffs/", {"project": str(project.pk), "on": day}).json()["results"]
        return sorted((row["charge_item_code"], row["unit_price"]) for row in found)

    assert prices("2026-03-01") == [("property", "2.5000"), ("water", "3.0000")]
    assert prices("2026-08-01") == [("property", "2.8000"), ("water", "3.0000")]
    assert client.get(f"{API}/tariffs/{made.json()['id']}/").json()["valid_until"] == "2026-07-01"


def test_charge_items_and_settings(client: Any) -> None:
    made = client.post(
        f"{API}/charge-items/",
        {"code": "garden-rent", "name": "花园租金", "category": "other", "basis": "item", "sort_order": 5},
        format="json",
    )
    assert made.status_code == 201, made.json()
    same_code = client.post(
        f"{API}/charge-items/", {"code": "garden-rent", "name": "又一个", "category": "other", "basis": "item"}
    )
    assert same_code.status_code == 400
    # Utilities are charged by meter, and only they are (a rule of the model).
    wrong_basis = client.post(
        f"{API}/charge-items/", {"code": "well-water", "name": "井水", "category": "water", "basis": "unit"}
    )
    assert wrong_basis.status_code == 400
    item_id = made.json()["id"]
    archived = client.patch(f"{API}/charge-items/{item_id}/", {"archived": True, "name": "花园租金(停)"}, format="json")
    assert archived.status_code == 200 and archived.json()["archived_at"] and archived.json()["name"] == "花园租金(停)"
    in_use = [row["code"] for row in client.get(f"{API}/charge-items/", {"page_size": 200}).json()["results"]]
    everything = [
        row["code"]
        for row in client.get(f"{API}/charge-items/", {"archived": "true", "page_size": 200}).json()["results"]
    ]
    assert "garden-rent" not in in_use and "garden-rent" in everything and "property" in in_use

    settings = client.get(f"{API}/settings/")
    assert settings.status_code == 200 and settings.json()["due_days"] == 30
    changed = client.patch(f"{API}/settings/", {"due_days": 15, "auto_apply_prepayment": True}, format="json")
    assert changed.status_code == 200
    assert changed.json()["due_days"] == 15 and changed.json()["auto_apply_prepayment"] is True
    assert client.patch(f"{API}/settings/", {"run_day": 29}, format="json").status_code == 400
    assert client.get(f"{API}/settings/").json()["run_day"] == 1


# ------------------------------------------------------------------------------------------ readings
def test_readings_are_entered_month_by_month_and_checked(company_a: CompanyFixture, client: Any) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        project, other = estate.project(admin), estate.project(admin)
        unit = estate.unit(admin, building=estate.building(admin, project=project))
        meter = estate.meter(admin, project=project, unit=unit)
        foreign_meter = estate.meter(admin, project=other)
    url = f"{API}/projects/{project.pk}/readings/"

    def post(period: str, reading: str, which: Any = meter) -> Any:
        return client.post(url, {"meter": str(which.pk), "period": period, "reading": reading}, format="json")

    baseline = post("2026-01", "100")
    assert baseline.status_code == 201, baseline.json()
    assert baseline.json()["period"] == "2026-01" and baseline.json()["consumption"] is None
    below = post("2026-02", "90")
    assert below.status_code == 400 and _error(below) == "reading_below_previous"
    assert "reading" in below.json()["error"]["fields"]
    elsewhere = post("2026-02", "120", foreign_meter)
    assert elsewhere.status_code == 400 and _error(elsewhere) == "meter_other_project"
    february = post("2026-02", "130")
    assert february.status_code == 201 and february.json()["consumption"] == "30.0000"
    assert post("2026-13", "140").status_code == 400

    sheet = client.get(url, {"period": "2026-02"})
    assert sheet.status_code == 200
    [row] = sheet.json()
    assert row["meter"]["id"] == str(meter.pk) and row["meter"]["unit_number"] == unit.number
    assert row["previous"] == {"reading": "100.0000", "period": "2026-01"}
    assert row["reading"]["id"] == february.json()["id"]

    corrected = client.patch(f"{API}/readings/{february.json()['id']}/", {"reading": "140"}, format="json")
    assert corrected.status_code == 200 and corrected.json()["consumption"] == "40.0000"
    # 260 is more than three times the 40 used before: it waits for review.
    jump = post("2026-03", "400")
    assert jump.status_code == 201 and jump.json()["flagged"] is True
    flagged = client.get(f"{API}/readings/flagged/", {"project": str(project.pk)}).json()["results"]
    assert [(r["id"], r["meter_serial"]) for r in flagged] == [(jump.json()["id"], meter.serial)]
    reviewed = client.post(f"{API}/readings/{jump.json()['id']}/review/")
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_at"]
    again = client.post(f"{API}/readings/{jump.json()['id']}/review/")
    assert again.status_code == 400 and _error(again) == "already_reviewed"
    assert client.get(f"{API}/readings/flagged/", {"project": str(project.pk)}).json()["results"] == []


# ------------------------------------------------------------------------------------------ bill runs
def test_a_bill_run_is_previewed_then_posted(
    company_a: CompanyFixture, client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        project = estate.project(admin)
        fees_support.tariff(admin, project, "property", "2.50")
        building = estate.building(admin, project=project)
        for area in ("100.00", "80.00"):
            fees_support.owned_unit(admin, building=building, area=area, owner_from=OWNED_SINCE)
        nobody_owns = estate.unit(admin, building=building)
        item_name = fees_support.item("property").name

    created = client.post(f"{API}/runs/", {"project": str(project.pk), "period": "2026-01"}, format="json")
    assert created.status_code == 201, created.json()
    run = created.json()
    assert (run["status"], run["period"], run["progress"]) == (
        "draft",
        "2026-01",
        {"status": "draft", "done": 0, "total": 0},
    )
    twice = client.post(f"{API}/runs/", {"project": str(project.pk), "period": "2026-01"}, format="json")
    assert twice.status_code == 400 and _error(twice) == "run_exists"

    preview = client.get(f"{API}/runs/{run['id']}/preview/")
    assert preview.status_code == 200
    body = preview.json()
    # 100 m² × 2.50 + 80 m² × 2.50 for a whole month.
    assert (body["bills"], body["total"], body["already_billed"]) == (2, "450.00", 0)
    assert [(i["name"], i["lines"], i["amount"]) for i in body["items"]] == [(item_name, 2, "450.00")]
    [exception] = body["exceptions"]
    assert exception["code"] == "no_owner" and exception["count"] == 1 and exception["label"]
    assert exception["examples"] == [f"{building.name} {nobody_owns.number}"]

    with django_capture_on_commit_callbacks(execute=True):
        posting = client.post(f"{API}/runs/{run['id']}/post/")
    assert posting.status_code == 202
    posted = client.get(f"{API}/runs/{run['id']}/").json()
    assert (posted["status"], posted["bill_count"], posted["total"]) == ("posted", 2, "450.00")
    assert posted["progress"] == {"status": "posted", "done": 2, "total": 2}
    again = client.post(f"{API}/runs/{run['id']}/post/")
    assert again.status_code == 400 and _error(again) == "run_already_posted"
    listed = client.get(f"{API}/runs/", {"project": str(project.pk)}).json()["results"]
    assert [r["id"] for r in listed] == [run["id"]]

    bills = client.get(f"{API}/bills/", {"project": str(project.pk), "period": "2026-01"}).json()
    assert bills["count"] == 2
    assert sorted((b["amount"], b["status"]) for b in bills["results"]) == [("200.00", "unpaid"), ("250.00", "unpaid")]
    detail = client.get(f"{API}/bills/{bills['results'][0]['id']}/").json()
    [line] = detail["lines"]
    assert line["charge_item_name"] == item_name and line["balance"] == line["amount"] == detail["amount"]
    assert client.get(f"{API}/bills/", {"project": str(project.pk), "status": "paid"}).json()["count"] == 0


# ------------------------------------------------------------------------------------------ the desk
def test_a_desk_payment_pays_the_oldest_first_and_keeps_the_rest_as_prepayment(
    company_a: CompanyFixture, client: Any, billed: dict[str, Any]
) -> None:
    account = billed["account"]
    with in_company(company_a):
        before = _entries(account)
        item_name = fees_support.item("property").name
    paid = client.post(
        f"{API}/accounts/{account.pk}/payments/",
        {"amount": "600", "method": "cash", "payer_name": "张三"},
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    receipt = paid.json()["receipt"]
    assert receipt["paid"] == [
        {"item": item_name, "period": "2026-01", "amount": "250.00"},
        {"item": item_name, "period": "2026-02", "amount": "250.00"},
    ]
    assert (receipt["prepaid"], receipt["voided"]) == ("100.00", False)
    assert paid.json()["payment"]["amount"] == "600.00" and paid.json()["payment"]["payer_name"] == "张三"
    with in_company(company_a):
        assert _entries(account) == before + 3  # two lines paid and one prepayment

    statement = client.get(f"{API}/accounts/{account.pk}/").json()
    assert (statement["owed"], statement["credit"], statement["balance"]) == ("0.00", "100.00", "-100.00")
    assert [b["status"] for b in statement["bills"]] == ["paid", "paid"]
    assert all(line["balance"] == "0.00" for b in statement["bills"] for line in b["lines"])
    assert [p["receipt_number"] for p in statement["payments"]] == [paid.json()["payment"]["receipt_number"]]
    owing = client.get(f"{API}/accounts/", {"project": str(billed["project"].pk), "owing": "1"}).json()
    assert owing["count"] == 0
    listed = client.get(f"{API}/accounts/", {"project": str(billed["project"].pk)}).json()["results"]
    assert [(a["id"], a["owed"], a["credit"]) for a in listed] == [(str(account.pk), "0.00", "100.00")]


def test_a_payment_on_chosen_lines_and_a_void(company_a: CompanyFixture, client: Any, billed: dict[str, Any]) -> None:
    account, jan, feb = billed["account"], billed["jan"], billed["feb"]
    paid = client.post(
        f"{API}/accounts/{account.pk}/payments/",
        {"amount": "100.00", "method": "wechat", "allocations": [{"line": str(feb.pk), "amount": "100.00"}]},
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    assert [row["period"] for row in paid.json()["receipt"]["paid"]] == ["2026-02"]
    statement = client.get(f"{API}/accounts/{account.pk}/").json()
    balances = {line["id"]: line["balance"] for bill in statement["bills"] for line in bill["lines"]}
    assert balances == {str(jan.pk): "250.00", str(feb.pk): "150.00"}

    payment_id = paid.json()["payment"]["id"]
    unexplained = client.post(f"{API}/payments/{payment_id}/void/", {}, format="json")
    assert unexplained.status_code == 400 and _error(unexplained) == "reason_required"
    voided = client.post(f"{API}/payments/{payment_id}/void/", {"reason": "收错户"}, format="json")
    assert voided.status_code == 200
    assert voided.json()["payment"]["voided"] is True and voided.json()["receipt"]["void_reason"] == "收错户"
    statement = client.get(f"{API}/accounts/{account.pk}/").json()
    assert (statement["owed"], statement["credit"]) == ("500.00", "0.00")
    # The number stays used; the receipt still shows what it paid.
    again = client.get(f"{API}/payments/{payment_id}/").json()
    assert again["payment"]["receipt_number"] == paid.json()["payment"]["receipt_number"]
    assert (
        client.post(f"{API}/payments/{payment_id}/void/", {"reason": "再次"}, format="json").json()["error"]["code"]
        == "already_voided"
    )


def test_refunds_are_at_most_what_was_paid(company_a: CompanyFixture, client: Any, billed: dict[str, Any]) -> None:
    account = billed["account"]
    paid = client.post(f"{API}/accounts/{account.pk}/payments/", {"amount": "600", "method": "cash"}, format="json")
    payment_id = paid.json()["payment"]["id"]
    assert paid.json()["receipt"]["prepaid"] == "100.00"
    url = f"{API}/accounts/{account.pk}/refunds/"
    with in_company(company_a):
        before = (_entries(account), Refund.objects.count())
    too_much = client.post(url, {"amount": "700", "method": "cash", "reason": "多收", "payment": payment_id})
    assert too_much.status_code == 400 and _error(too_much) == "refund_too_much"
    above_credit = client.post(url, {"amount": "150", "method": "cash", "reason": "退预存"}, format="json")
    assert above_credit.status_code == 400 and _error(above_credit) == "refund_too_much"
    bad_method = client.post(url, {"amount": "10", "method": "gold", "reason": "退预存"}, format="json")
    assert bad_method.status_code == 400 and "method" in bad_method.json()["error"]["fields"]
    with in_company(company_a):
        assert (_entries(account), Refund.objects.count()) == before
    from_credit = client.post(url, {"amount": "100", "method": "cash", "reason": "退预存"}, format="json")
    assert from_credit.status_code == 201 and from_credit.json()["payment"] is None
    # Against the payment: no credit is left, so it re-opens what the payment paid, latest first (February).
    against = client.post(
        url, {"amount": "100", "method": "bank_transfer", "reason": "多收", "payment": payment_id}, format="json"
    )
    assert against.status_code == 201, against.json()
    statement = client.get(f"{API}/accounts/{account.pk}/").json()
    assert (statement["owed"], statement["credit"]) == ("100.00", "0.00")
    assert [b["balance"] for b in statement["bills"]] == ["100.00", "0.00"]  # February, January
    assert client.get(f"{API}/payments/{payment_id}/").json()["receipt"]["refunded"] == "100.00"


def test_a_reversal_moves_what_was_overpaid_to_prepayment(
    company_a: CompanyFixture, client: Any, billed: dict[str, Any]
) -> None:
    account, jan = billed["account"], billed["jan"]
    client.post(
        f"{API}/accounts/{account.pk}/payments/",
        {"amount": "100", "method": "cash", "bills": [str(jan.bill_id)]},
        format="json",
    )
    url = f"{API}/lines/{jan.pk}/reverse/"
    unexplained = client.post(url, {"amount": "200"}, format="json")
    assert unexplained.status_code == 400 and _error(unexplained) == "reason_required"
    reversed_ = client.post(url, {"amount": "200", "reason": "空置减免"}, format="json")
    assert reversed_.status_code == 201, reversed_.json()
    # 250 charged − 200 reversed = 50 owed, 100 paid: 50 overpaid moves to prepayment.
    assert reversed_.json()["line"]["charged"] == "50.00" and reversed_.json()["line"]["balance"] == "0.00"
    assert sorted(e["kind"] for e in reversed_.json()["entries"]) == ["charge_reversal", "from_line", "to_credit"]
    too_much = client.post(url, {"amount": "60", "reason": "再减"}, format="json")
    assert too_much.status_code == 400 and _error(too_much) == "reverse_too_much"
    statement = client.get(f"{API}/accounts/{account.pk}/").json()
    assert (statement["owed"], statement["credit"]) == ("250.00", "50.00")


def test_a_write_off_is_approved_by_someone_else(
    company_a: CompanyFixture, client: Any, api_client: Any, billed: dict[str, Any]
) -> None:
    account, feb = billed["account"], billed["feb"]
    with in_company(company_a):
        manager = _staff_client(company_a, api_client, "project_manager", project=billed["project"])
        before = _entries(account)
    over = client.post(f"{API}/lines/{feb.pk}/write-offs/", {"amount": "300", "reason": "坏账"}, format="json")
    assert over.status_code == 400 and _error(over) == "over_allocated"
    asked = client.post(f"{API}/lines/{feb.pk}/write-offs/", {"amount": "50", "reason": "业主失联"}, format="json")
    assert asked.status_code == 201, asked.json()
    assert asked.json()["status"] == "requested" and asked.json()["account"] == str(account.pk)
    with in_company(company_a):
        assert _entries(account) == before  # asking books nothing
    write_off_id = asked.json()["id"]
    pending = client.get(f"{API}/write-offs/", {"pending": "1"}).json()["results"]
    assert write_off_id in [row["id"] for row in pending]

    own = client.post(f"{API}/write-offs/{write_off_id}/decide/", {"approve": True}, format="json")
    assert own.status_code == 403 and _error(own) == "permission_denied"
    assert manager.post(f"{API}/write-offs/{write_off_id}/decide/", {}, format="json").status_code == 400
    approved = manager.post(f"{API}/write-offs/{write_off_id}/decide/", {"approve": True}, format="json")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved" and approved.json()["decided_by_name"] == "project_manager"
    statement = client.get(f"{API}/accounts/{account.pk}/").json()
    assert statement["owed"] == "450.00"
    assert statement["entries"][0]["kind"] == "write_off"
    decided = manager.post(f"{API}/write-offs/{write_off_id}/decide/", {"approve": False}, format="json")
    assert decided.status_code == 400 and _error(decided) == "already_decided"
    assert write_off_id not in [r["id"] for r in client.get(f"{API}/write-offs/", {"pending": "1"}).json()["results"]]


def test_one_off_charges_advance_collection_prepayment_and_the_chase_log(
    company_a: CompanyFixture, client: Any, billed: dict[str, Any]
) -> None:
    account, project = billed["account"], billed["project"]
    with in_company(company_a):
        fees_support.tariff(company_a.admin(), project, "owner-card", "50.00")
        card, certificate = fees_support.item("owner-card"), fees_support.item("certificate")
    url = f"{API}/accounts/{account.pk}/charges/"
    cards = client.post(url, {"charge_item": str(card.pk), "quantity": "2", "note": "第4、5张卡"}, format="json")
    assert cards.status_code == 201, cards.json()
    assert (cards.json()["kind"], cards.json()["amount"], cards.json()["status"]) == ("one_off", "100.00", "unpaid")
    assert cards.json()["lines"][0]["unit_price"] == "50.0000"
    no_price = client.post(url, {"charge_item": str(certificate.pk)}, format="json")
    assert no_price.status_code == 400 and _error(no_price) == "price_required"
    periodic = client.post(
        url, {"charge_item": str(fees_support.item("property").pk), "unit_price": "9"}, format="json"
    )
    assert periodic.status_code == 400 and _error(periodic) == "item_periodic"

    # Three months ahead from this month, and 100.00 kept as prepayment; the open bills stay open.
    advance = client.post(
        f"{API}/accounts/{account.pk}/advance/",
        {"months": 3, "method": "pos", "prepayment": "100"},
        format="json",
    )
    assert advance.status_code == 201, advance.json()
    months = [row["period"] for row in advance.json()["receipt"]["paid"]]
    this_month = timezone.localdate().replace(day=1)
    assert months == [f"{m:%Y-%m}" for m in (this_month, _next(this_month), _next(_next(this_month)))]
    assert advance.json()["payment"]["amount"] == "850.00"  # 3 × 250.00 + 100.00
    assert advance.json()["receipt"]["prepaid"] == "100.00"
    bad_months = client.post(f"{API}/accounts/{account.pk}/advance/", {"months": 0, "method": "cash"}, format="json")
    assert bad_months.status_code == 400 and _error(bad_months) == "months_invalid"

    applied = client.post(f"{API}/accounts/{account.pk}/apply-prepayment/", {}, format="json")
    assert applied.status_code == 200, applied.json()
    # 100.00 of credit pays January's 250.00 in part (oldest first).
    assert applied.json()["used"] == "100.00"
    assert (applied.json()["account"]["owed"], applied.json()["account"]["credit"]) == ("500.00", "0.00")
    nothing = client.post(f"{API}/accounts/{account.pk}/apply-prepayment/", {}, format="json")
    assert nothing.status_code == 400 and _error(nothing) == "no_credit"

    chased = client.post(
        f"{API}/accounts/{account.pk}/chases/",
        {"channel": "phone", "result": "答应下周交", "promised_on": f"{timezone.localdate() + dt.timedelta(days=7)}"},
        format="json",
    )
    assert chased.status_code == 201 and chased.json()["owed"] == "500.00"
    past = client.post(
        f"{API}/accounts/{account.pk}/chases/", {"channel": "visit", "promised_on": "2020-01-01"}, format="json"
    )
    assert past.status_code == 400 and _error(past) == "promise_in_past"
    log = client.get(f"{API}/accounts/{account.pk}/chases/").json()["results"]
    assert [(row["channel"], row["result"]) for row in log] == [("phone", "答应下周交")]


def _next(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


# ------------------------------------------------------------------------------------------ refused input
@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"amount": "0", "method": "cash"}, "amount_not_positive", "amount"),
        ({"amount": "-5.00", "method": "cash"}, "amount_not_positive", "amount"),
        ({"amount": "abc", "method": "cash"}, "invalid", "amount"),
        ({"amount": "10.005", "method": "cash"}, "invalid", "amount"),
        ({"method": "cash"}, "invalid", "amount"),
        ({"amount": "10", "method": "bitcoin"}, "invalid", "method"),
        ({"amount": "10", "method": "online"}, "method_invalid", "method"),
        ({"amount": "300", "method": "cash", "allocations": [{"line": "JAN", "amount": "260"}]}, "over_allocated",
         "allocations"),
        ({"amount": "100", "method": "cash", "allocations": [{"line": "JAN", "amount": "150"}]}, "over_allocated",
         "allocations"),
        ({"amount": "10", "method": "cash", "allocations": [{"line": "JAN", "amount": "0"}]}, "amount_not_positive",
         "allocations"),
        ({"amount": "100", "method": "cash", "bills": ["JANBILL"], "allocations": [{"line": "JAN", "amount": "10"}]},
         "allocation_ambiguous", None),
    ],
)  # fmt: skip
def test_a_refused_payment_changes_nothing(
    company_a: CompanyFixture, client: Any, billed: dict[str, Any], body: dict[str, Any], code: str, field: str | None
) -> None:
    account, jan = billed["account"], billed["jan"]
    body = dict(body)
    if "allocations" in body:
        body["allocations"] = [{**row, "line": str(jan.pk)} for row in body["allocations"]]
    if "bills" in body:
        body["bills"] = [str(jan.bill_id)]
    with in_company(company_a):
        before = (_entries(account), Payment.objects.count())
    refused = client.post(f"{API}/accounts/{account.pk}/payments/", body, format="json")
    assert refused.status_code == 400, refused.json()
    assert _error(refused) == code
    if field:
        assert field in refused.json()["error"]["fields"]
    with in_company(company_a):
        assert (_entries(account), Payment.objects.count()) == before


def test_ids_in_a_body_are_looked_up_in_scope(
    company_a: CompanyFixture, company_b: CompanyFixture, client: Any, billed: dict[str, Any]
) -> None:
    with in_company(company_b):
        admin_b = company_b.admin()
        foreign = fees_support.account(fees_support.owned_unit(admin_b))
        foreign_bill = services.one_off_charge(
            by=admin_b, account=foreign, charge_item=fees_support.item("certificate"), unit_price="10"
        )
        foreign_line = foreign_bill.lines.get()
    with in_company(company_a):
        admin = company_a.admin()
        neighbour = fees_support.account(fees_support.owned_unit(admin, project=billed["project"]))
        neighbour_bill = services.one_off_charge(
            by=admin, account=neighbour, charge_item=fees_support.item("certificate"), unit_price="10"
        )
        before = (LedgerEntry.objects.count(), Payment.objects.count())
    url = f"{API}/accounts/{billed['account'].pk}/payments/"
    other_company_bill = client.post(url, {"amount": "10", "method": "cash", "bills": [str(foreign_bill.pk)]})
    assert other_company_bill.status_code == 404 and _error(other_company_bill) == "not_found"
    other_company_line = client.post(
        url, {"amount": "10", "method": "cash", "allocations": [{"line": str(foreign_line.pk), "amount": "10"}]}
    )
    assert other_company_line.status_code == 404 and _error(other_company_line) == "not_found"
    other_account = client.post(url, {"amount": "10", "method": "cash", "bills": [str(neighbour_bill.pk)]})
    assert other_account.status_code == 400 and _error(other_account) == "bill_other_account"
    refund = client.post(
        f"{API}/accounts/{billed['account'].pk}/refunds/",
        {"amount": "1", "method": "cash", "reason": "x", "payment": str(foreign_bill.pk)},
    )
    assert refund.status_code == 404
    with in_company(company_a):
        assert (LedgerEntry.objects.count(), Payment.objects.count()) == before


# ------------------------------------------------------------------------------------------ reports
def test_the_collection_rate_of_a_small_example_worked_out_by_hand(company_a: CompanyFixture, client: Any) -> None:
    """Two units at 2.00 per m²: A (100 m², 200.00 a month) and B (50 m², 100.00 a month).

    - 5 Jan: January posted (300.00).        20 Jan: A pays 200.00 (A's January).
    - 5 Feb: February posted (300.00).       10 Feb: B pays 150.00 (B's January 100.00, February 50.00).
    - 12 Feb: 20.00 of A's February reversed. 3 Mar: A pays 180.00 (the rest of A's February).

    January: billed 300; paid by 31 Jan 200 (66.67 %); paid by the report's date 300 (100 %).
    February: billed 300 − 20 = 280; paid in February 50 (17.86 %); by the report's date 50 + 180 = 230
    (82.14 %), 50 outstanding. Arrears when February began: B's January 100, all recovered in February.
    """
    with in_company(company_a):
        admin = company_a.admin()
        project = estate.project(admin, collection_rate_target=Decimal("95.00"))
        item_name = fees_support.item("property").name
        fees_support.tariff(admin, project, "property", "2.00")
        building = estate.building(admin, project=project)
        a = fees_support.owned_unit(admin, building=building, area="100.00", owner_from=OWNED_SINCE)
        b = fees_support.owned_unit(admin, building=building, area="50.00", owner_from=OWNED_SINCE)
        with on(dt.date(2026, 1, 5)):
            fees_support.post_month(admin, project, JAN)
        account_a, account_b = fees_support.account(a), fees_support.account(b)
        with on(dt.date(2026, 1, 20)):
            services.payment_record(by=admin, account=account_a, amount="200.00", method="cash")
        with on(dt.date(2026, 2, 5)):
            fees_support.post_month(admin, project, FEB)
        with on(dt.date(2026, 2, 10)):
            services.payment_record(by=admin, account=account_b, amount="150.00", method="cash")
        with on(dt.date(2026, 2, 12)):
            a_february = next(line for line in account_lines(account_a) if line.bill.period == FEB)
            services.charge_reverse(by=admin, line=a_february, reason="维修期间减免", amount="20.00")
        with on(dt.date(2026, 3, 3)):
            services.payment_record(by=admin, account=account_a, amount="180.00", method="cash")

    query = {"from": "2026-01", "to": "2026-02", "project": str(project.pk), "as_of": "2026-03-31"}
    report = client.get(f"{API}/reports/collection/", query)
    assert report.status_code == 200, report.json()
    body = report.json()
    assert body["group"] == "project" and body["periods"] == ["2026-01", "2026-02"]
    keys = ["period", "billed", "collected_in_period", "collected", "written_off", "arrears_at_start", "recovered",
            "rate_in_period", "rate", "recovery_rate", "outstanding", "target"]  # fmt: skip
    expected: list[list[str | None]] = [
        ["2026-01", "300.00", "200.00", "300.00", "0.00", "0.00", "0.00", "66.67", "100.00", None, "0.00", "95.00"],
        ["2026-02", "280.00", "50.00", "230.00", "0.00", "100.00", "100.00", "17.86", "82.14", "100.00", "50.00",
         "95.00"],
    ]  # fmt: skip
    assert [[row[k] for k in keys] for row in body["rows"]] == expected
    assert {row["key"] for row in body["rows"]} == {str(project.pk)}
    assert [[row[k] for k in keys[:-1]] for row in body["totals"]] == [values[:-1] for values in expected]
    # Before A's March payment, February had collected only B's 50.00.
    earlier = client.get(f"{API}/reports/collection/", {**query, "as_of": "2026-02-28"}).json()
    assert [(row["period"], row["collected"], row["outstanding"]) for row in earlier["rows"]] == [
        ("2026-01", "300.00", "0.00"),
        ("2026-02", "50.00", "230.00"),
    ]
    # As of 11 Feb: B's payment of the 10th counts, the reversal of the 12th not yet (February's sums run
    # to the 12th, so this one is read from the entries themselves); as of the 12th it counts.
    keys_now = ["period", "billed", "collected", "outstanding", "arrears_at_start", "recovered"]
    eleventh = client.get(f"{API}/reports/collection/", {**query, "as_of": "2026-02-11"}).json()
    assert [[row[k] for k in keys_now] for row in eleventh["rows"]] == [
        ["2026-01", "300.00", "300.00", "0.00", "0.00", "0.00"],
        ["2026-02", "300.00", "50.00", "250.00", "100.00", "100.00"],
    ]
    twelfth = client.get(f"{API}/reports/collection/", {**query, "as_of": "2026-02-12"}).json()
    assert [[row[k] for k in keys_now] for row in twelfth["rows"]] == [
        ["2026-01", "300.00", "300.00", "0.00", "0.00", "0.00"],
        ["2026-02", "280.00", "50.00", "230.00", "100.00", "100.00"],
    ]
    # Folding the sums changes no figure (test_services shows a fold of two rows).
    with in_company(company_a):
        services.collection_sums_compact()
    assert client.get(f"{API}/reports/collection/", query).json()["rows"] == body["rows"]
    assert client.get(f"{API}/reports/collection/", {**query, "as_of": "2026-02-11"}).json() == eleventh
    by_item = client.get(f"{API}/reports/collection/", {**query, "group": "charge_item"}).json()
    assert [(row["label"], row["billed"], row["collected"]) for row in by_item["rows"]] == [
        (item_name, "300.00", "300.00"),
        (item_name, "280.00", "230.00"),
    ]
    assert client.get(f"{API}/reports/collection/", {**query, "group": "nothing"}).status_code == 400
    assert client.get(f"{API}/reports/collection/", {"to": "2026-02"}).status_code == 400


def test_arrears_are_aged_from_the_due_date(company_a: CompanyFixture, client: Any) -> None:
    """A unit billed 200.00 a month for December, January, April and June (due 30 days after the month
    starts), 50.00 paid (on December, the oldest). On 15 July: December is 196 days overdue (over 180),
    January 165 (91–180), April 75 (31–90), June 14 (0–30). July's bill is not due yet."""
    with in_company(company_a):
        admin = company_a.admin()
        project = estate.project(admin)
        fees_support.tariff(admin, project, "property", "2.00", valid_from=dt.date(2025, 12, 1))
        unit = fees_support.owned_unit(admin, project=project, area="100.00", owner_from=OWNED_SINCE)
        for period in (dt.date(2025, 12, 1), JAN, dt.date(2026, 4, 1), dt.date(2026, 6, 1), dt.date(2026, 7, 1)):
            with on(period.replace(day=5)):
                fees_support.post_month(admin, project, period)
        account = fees_support.account(unit)
        with on(dt.date(2026, 7, 6)):
            services.payment_record(by=admin, account=account, amount="50.00", method="cash")
        # Another project's arrears are left out by the filter.
        elsewhere = estate.project(admin)
        fees_support.tariff(admin, elsewhere, "property", "2.00", valid_from=dt.date(2025, 12, 1))
        fees_support.owned_unit(admin, project=elsewhere, owner_from=OWNED_SINCE)
        with on(dt.date(2025, 12, 5)):
            fees_support.post_month(admin, elsewhere, dt.date(2025, 12, 1))
        services.chase_record(by=admin, account=account, channel="letter", result="催缴通知书已送达")

    report = client.get(f"{API}/reports/arrears/", {"project": str(project.pk), "as_of": "2026-07-15"})
    assert report.status_code == 200, report.json()
    body = report.json()
    assert [bucket["key"] for bucket in body["buckets"]] == ["0_30", "31_90", "91_180", "over_180"]
    [row] = body["rows"]
    assert row["account"]["id"] == str(account.pk)
    assert row["buckets"] == {"0_30": "200.00", "31_90": "200.00", "91_180": "200.00", "over_180": "150.00"}
    assert (row["total"], row["oldest_due"]) == ("750.00", "2025-12-31")
    assert row["last_chase"]["channel"] == "letter"
    assert body["totals"] == row["buckets"]


def test_the_daily_and_weekly_receivables(company_a: CompanyFixture, client: Any, billed: dict[str, Any]) -> None:
    project = billed["project"]
    client.post(f"{API}/accounts/{billed['account'].pk}/payments/", {"amount": "120.50", "method": "wechat"})
    client.post(f"{API}/accounts/{billed['account'].pk}/payments/", {"amount": "30", "method": "cash"})
    daily = client.get(f"{API}/reports/daily/", {"project": str(project.pk)}).json()
    assert daily["day"] == f"{timezone.localdate()}"
    assert daily["collected_by_method"] == [
        {"method": "cash", "count": 1, "amount": "30.00"},
        {"method": "wechat", "count": 1, "amount": "120.50"},
    ]
    # 500.00 billed for January and February, 150.50 paid; no prepayment.
    assert (daily["collected_total"], daily["outstanding"], daily["credit"]) == ("150.50", "349.50", "0.00")
    assert len(daily["payments"]) == 2
    weekly = client.get(f"{API}/reports/weekly/", {"project": str(project.pk), "weeks": 4}).json()
    assert len(weekly) == 4 and weekly[-1]["amount"] == "150.50" and weekly[-1]["count"] == 2
    assert all(week["amount"] == "0.00" for week in weekly[:-1])
    assert client.get(f"{API}/reports/weekly/", {"weeks": 0}).status_code == 400


# ------------------------------------------------------------------------------------------ the owner's bills
def test_an_owner_sees_only_their_own_bills(
    company_a: CompanyFixture, client: Any, api_client: Any, billed: dict[str, Any]
) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        neighbour_unit = fees_support.owned_unit(admin, project=billed["project"], owner_from=OWNED_SINCE)
        # The owner of the billed unit gets a sign-in; a neighbour's bill exists too.
        person = billed["unit"].ownerships.get().person
        user = account_services.user_create(
            email="owner@fees-api.test", name=person.name, password="owner-pass-909", kind="owner"
        )
        person.user = user
        person.save(update_fields=["user"])
        neighbour_bill = services.one_off_charge(
            by=admin, account=fees_support.account(neighbour_unit), charge_item=fees_support.item("certificate"),
            unit_price="10",
        )  # fmt: skip
        owner = api_client(company_a, account_services.api_token_create(user=user, name="app")[1])
    client.post(f"{API}/accounts/{billed['account'].pk}/payments/", {"amount": "300", "method": "cash"})

    mine = owner.get(f"{API}/my/bills/")
    assert mine.status_code == 200, mine.json()
    body = mine.json()
    # 300.00 paid January's 250.00 and 50.00 of February's: 200.00 still owed, no credit.
    assert (body["owed"], body["credit"], body["balance"]) == ("200.00", "0.00", "200.00")
    assert [a["id"] for a in body["accounts"]] == [str(billed["account"].pk)]
    assert [(b["period"], b["status"], b["balance"]) for b in body["bills"]] == [("2026-02", "part_paid", "200.00")]
    assert body["bills"][0]["lines"][0]["balance"] == "200.00"
    assert owner.get(f"{API}/my/bills/{body['bills'][0]['id']}/").status_code == 200
    assert owner.get(f"{API}/my/bills/{neighbour_bill.pk}/").status_code == 404
    assert owner.get(f"{API}/bills/").status_code == 403
    assert owner.get(f"{API}/accounts/{billed['account'].pk}/").status_code == 403
    # Staff own no units: an empty list, and no bill of anyone's.
    staff = client.get(f"{API}/my/bills/").json()
    assert (staff["bills"], staff["accounts"], staff["owed"]) == ([], [], "0.00")
    assert client.get(f"{API}/my/bills/{body['bills'][0]['id']}/").status_code == 404


# ------------------------------------------------------------------------------------------ query counts
def _queries(client: Any, path: str, **params: Any) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, {"page_size": 200, **params})
    assert response.status_code == 200
    return len(captured), response.json()["count"]


def test_account_bill_and_payment_lists_cost_the_same_for_2_rows_as_for_10(
    company_a: CompanyFixture, client: Any
) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        project = estate.project(admin)
        building = estate.building(admin, project=project)

        def add(n: int) -> None:
            for _ in range(n):
                account = fees_support.account(fees_support.owned_unit(admin, building=building))
                services.one_off_charge(
                    by=admin, account=account, charge_item=fees_support.item("certificate"), unit_price="10"
                )
                services.payment_record(by=admin, account=account, amount="4", method="cash")

        add(2)
    paths = [f"{API}/accounts/", f"{API}/bills/", f"{API}/payments/"]
    _queries(client, paths[0], project=str(project.pk))  # warm-up (the token's last use is recorded once)
    before = [_queries(client, path, project=str(project.pk)) for path in paths]
    with in_company(company_a):
        add(8)
    after = [_queries(client, path, project=str(project.pk)) for path in paths]
    assert [rows for _q, rows in before] == [2, 2, 2] and [rows for _q, rows in after] == [10, 10, 10]
    assert [q for q, _rows in after] == [q for q, _rows in before], f"queries: 2 rows {before}, 10 rows {after}"


def test_a_statement_costs_the_same_for_more_bills(company_a: CompanyFixture, client: Any) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        account = fees_support.account(fees_support.owned_unit(admin))

        def add(n: int) -> None:
            for _ in range(n):
                services.one_off_charge(
                    by=admin, account=account, charge_item=fees_support.item("certificate"), unit_price="10"
                )
                services.payment_record(by=admin, account=account, amount="3", method="cash")

        add(2)
    path = f"{API}/accounts/{account.pk}/"

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    count()
    before = count()
    with in_company(company_a):
        add(8)
    assert count() == before
