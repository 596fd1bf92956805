"""The database itself keeps the rules of money (migration 0002 and the models' constraints), whatever code
writes: these tests go around the services, with raw SQL and the ORM, and expect PostgreSQL to refuse.

Each refused statement runs in a savepoint of its own (`transaction.atomic()`), so the test's transaction
carries on after the error and can check that nothing changed."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.utils import timezone

from modules.fees import services
from modules.fees.models import (
    Account,
    Bill,
    BillKind,
    BillLine,
    EntryKind,
    LedgerEntry,
    Payment,
    PaymentVoid,
    Refund,
    Tariff,
)
from tests.support import estate as estate_support
from tests.support import fees as fees_support
from wuye.testing.plugin import CompanyFixture, in_company

MAR = dt.date(2026, 3, 1)
REFUSED = (IntegrityError, InternalError)


@dataclass
class Books:
    admin: Any
    project: Any
    a: Account
    b: Account
    bill_a: Bill
    line_a: BillLine
    bill_b: Bill
    line_b: BillLine
    payment: Payment  # 100.00 on A: 100.00 paid on line_a (223.75 owed), so 123.75 still owed
    void_payment: Payment  # 5.00 on B, voided
    refund: Refund  # 10.00 from B's prepayment


@pytest.fixture
def books(company_a: CompanyFixture) -> Any:
    with in_company(company_a):
        admin = company_a.admin()
        project = estate_support.project(admin)
        fees_support.tariff(admin, project, "property", "2.50")
        building = estate_support.building(admin, project=project)
        unit_a = fees_support.owned_unit(admin, building=building, area="89.50")
        unit_b = fees_support.owned_unit(admin, building=building, area="60.00")
        fees_support.post_month(admin, project, MAR)
        a, b = fees_support.account(unit_a), fees_support.account(unit_b)
        bill_a, bill_b = Bill.objects.get(account=a), Bill.objects.get(account=b)
        line_a, line_b = BillLine.objects.get(bill=bill_a), BillLine.objects.get(bill=bill_b)
        # 89.50 m² × 2.50 = 223.75 and 60.00 m² × 2.50 = 150.00, whole months.
        assert (line_a.amount, line_b.amount) == (Decimal("223.75"), Decimal("150.00"))
        payment = services.payment_record(by=admin, account=a, amount="100.00", method="cash")
        # B pays its bill and 20.00 more (prepayment), then a 5.00 receipt that is voided, then 10.00 back.
        services.payment_record(by=admin, account=b, amount="170.00", method="cash")
        void_payment = services.payment_record(by=admin, account=b, amount="5.00", method="cash")
        services.payment_void(by=admin, payment=void_payment, reason="typed twice")
        refund = services.refund_record(by=admin, account=b, amount="10.00", reason="moved out", method="cash")
        yield Books(admin, project, a, b, bill_a, line_a, bill_b, line_b, payment, void_payment, refund)


def _counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count() for model in (LedgerEntry, Bill, BillLine, Payment, PaymentVoid, Refund, Tariff, Account)
    )


def _refused(sql: str, params: list[Any], *, before: str = "") -> str:
    """Run `sql` (after `before`, if given) in a savepoint; it must fail. Returns the database's message."""
    with pytest.raises(REFUSED) as caught, transaction.atomic(), connection.cursor() as cursor:
        if before:
            cursor.execute(before)
        cursor.execute(sql, params)
    return str(caught.value)


# ------------------------------------------------------------------------------------------ append-only
def _row_of(books: Books, table: str) -> Any:
    return {
        "fees_ledgerentry": lambda: LedgerEntry.objects.filter(account=books.a).first().pk,
        "fees_bill": lambda: books.bill_a.pk,
        "fees_billline": lambda: books.line_a.pk,
        "fees_payment": lambda: books.payment.pk,
        "fees_paymentvoid": lambda: PaymentVoid.objects.get(payment=books.void_payment).pk,
        "fees_refund": lambda: books.refund.pk,
    }[table]()


APPEND_ONLY = {
    # table: a harmless-looking change
    "fees_ledgerentry": "amount = amount + 0",
    "fees_bill": "note = 'corrected'",
    "fees_billline": "description = 'corrected'",
    "fees_payment": "amount = amount - 0.01",
    "fees_paymentvoid": "reason = 'another reason'",
    "fees_refund": "reason = 'another reason'",
}


@pytest.mark.parametrize("table", sorted(APPEND_ONLY))
def test_money_rows_refuse_update_and_delete(books: Books, company_a: CompanyFixture, table: str) -> None:
    with in_company(company_a):
        pk = _row_of(books, table)
        before = _counts()
        message = _refused(f"UPDATE {table} SET {APPEND_ONLY[table]} WHERE id = %s", [pk])
        assert "append-only" in message and "UPDATE" in message
        message = _refused(f"DELETE FROM {table} WHERE id = %s", [pk])
        assert "append-only" in message and "DELETE" in message
        # Even a statement that changes nothing in value is refused: the trigger is per row, not per value.
        _refused(f"UPDATE {table} SET id = id WHERE id = %s", [pk])
        assert _counts() == before


def test_the_orm_cannot_edit_or_delete_money_either(books: Books, company_a: CompanyFixture) -> None:
    with in_company(company_a):
        before = _counts()
        with pytest.raises(REFUSED), transaction.atomic():
            Payment.objects.filter(pk=books.payment.pk).update(amount=Decimal("1.00"))
        with pytest.raises(REFUSED), transaction.atomic():
            LedgerEntry.objects.filter(account=books.a).delete()
        with pytest.raises(REFUSED), transaction.atomic():
            books.line_a.amount = Decimal("1.00")
            books.line_a.save()
        assert _counts() == before
        assert Payment.objects.get(pk=books.payment.pk).amount == Decimal("100.00")


# ------------------------------------------------------------------------------------------ balances
def _entry(account: Account, kind: str, amount: str, line: BillLine | None = None) -> LedgerEntry:
    """An entry made by hand, shaped as the model's check constraints want, with no service involved."""
    entry = LedgerEntry(
        account=account,
        kind=kind,
        amount=Decimal(amount),
        booked_on=timezone.localdate(),
        project_id=account.project_id,
        zone_id=account.zone_id,
        building_id=account.building_id,
    )
    if line is not None:
        entry.line, entry.charge_item_id, entry.period = line, line.charge_item_id, MAR
    return entry


def _line_balance(line: BillLine) -> Decimal:
    return sum((e.amount for e in LedgerEntry.objects.filter(line=line)), Decimal(0))


def _credit(account: Account) -> Decimal:
    return -sum((e.amount for e in LedgerEntry.objects.filter(account=account, line__isnull=True)), Decimal(0))


def test_an_entry_taking_a_line_below_zero_is_refused(books: Books, company_a: CompanyFixture) -> None:
    with in_company(company_a):
        # line_a: 223.75 charged − 100.00 paid = 123.75 owed.
        assert _line_balance(books.line_a) == Decimal("123.75")
        before = _counts()
        with pytest.raises(REFUSED, match="paid beyond what it owes"), transaction.atomic():
            LedgerEntry.objects.bulk_create([_entry(books.a, EntryKind.PAYMENT, "-123.76", books.line_a)])
        # Two entries that are each within the balance but together 0.01 beyond it: the check runs once
        # the whole statement is in (123.75 = 100.00 + 23.75; 23.76 is one fen too many).
        with pytest.raises(REFUSED, match="paid beyond what it owes"), transaction.atomic():
            LedgerEntry.objects.bulk_create(
                [
                    _entry(books.a, EntryKind.PAYMENT, "-100.00", books.line_a),
                    _entry(books.a, EntryKind.WRITE_OFF, "-23.76", books.line_a),
                ]
            )
        # One at a time: the second statement sees the first's row.
        with pytest.raises(REFUSED, match="paid beyond what it owes"), transaction.atomic():
            LedgerEntry.objects.bulk_create([_entry(books.a, EntryKind.PAYMENT, "-100.00", books.line_a)])
            LedgerEntry.objects.bulk_create([_entry(books.a, EntryKind.PAYMENT, "-23.76", books.line_a)])
        # A paid line (B's) takes nothing more, not even a fen, and not by a reversal either.
        assert _line_balance(books.line_b) == Decimal("0.00")
        with pytest.raises(REFUSED, match="paid beyond what it owes"), transaction.atomic():
            LedgerEntry.objects.bulk_create([_entry(books.b, EntryKind.CHARGE_REVERSAL, "-0.01", books.line_b)])
        assert _counts() == before
        # Exactly the balance is allowed: the line is then paid, at zero.
        with transaction.atomic():
            LedgerEntry.objects.bulk_create([_entry(books.a, EntryKind.PAYMENT, "-123.75", books.line_a)])
        assert _line_balance(books.line_a) == Decimal("0.00")


def test_a_prepaid_credit_going_negative_is_refused(books: Books, company_a: CompanyFixture) -> None:
    with in_company(company_a):
        # B: 170.00 paid on a 150.00 bill = 20.00 prepaid; the voided 5.00 came and went; 10.00 refunded.
        assert _credit(books.b) == Decimal("10.00")
        assert _credit(books.a) == Decimal("0.00")
        before = _counts()
        with pytest.raises(REFUSED, match="more prepayment than it has"), transaction.atomic():
            LedgerEntry.objects.bulk_create([_entry(books.b, EntryKind.CREDIT_USED, "10.01")])
        with pytest.raises(REFUSED, match="more prepayment than it has"), transaction.atomic():
            LedgerEntry.objects.bulk_create([_entry(books.b, EntryKind.REFUND, "10.01")])
        with pytest.raises(REFUSED, match="more prepayment than it has"), transaction.atomic():
            LedgerEntry.objects.bulk_create([_entry(books.a, EntryKind.CREDIT_USED, "0.01")])
        # A prepayment in the same statement covers what is used (the check sums the whole statement).
        with transaction.atomic():
            LedgerEntry.objects.bulk_create(
                [_entry(books.a, EntryKind.PREPAYMENT, "-5.00"), _entry(books.a, EntryKind.CREDIT_USED, "5.00")]
            )
        assert _counts()[0] == before[0] + 2
        with transaction.atomic():
            LedgerEntry.objects.bulk_create([_entry(books.b, EntryKind.REFUND, "10.00")])
        assert _credit(books.b) == Decimal("0.00")


def test_the_balance_rules_hold_whatever_the_search_path(books: Books, company_a: CompanyFixture) -> None:
    """The trigger reads the ledger of the schema it fired in, not the session's search_path: a statement
    written with the schema's name from a session pointed at public is checked all the same."""
    schema = company_a.schema_name
    with in_company(company_a):
        charge = LedgerEntry.objects.get(line=books.line_b, kind=EntryKind.CHARGE)
        before = _counts()
        message = _refused(
            f"""INSERT INTO "{schema}".fees_ledgerentry
                    (id, account_id, line_id, kind, amount, at, booked_on, "group", reason, project_id, zone_id,
                     building_id, charge_item_id, period)
                SELECT gen_random_uuid(), account_id, line_id, 'payment', -0.01, now(), booked_on,
                       gen_random_uuid(), '', project_id, zone_id, building_id, charge_item_id, period
                FROM "{schema}".fees_ledgerentry WHERE id = %s""",
            [charge.pk],
            before="SET LOCAL search_path TO public",
        )
        assert "paid beyond what it owes" in message
        assert _counts() == before


# ------------------------------------------------------------------------------------------ tariffs
def test_overlapping_tariffs_are_refused_by_the_database(books: Books, company_a: CompanyFixture) -> None:
    with in_company(company_a):
        item = fees_support.item("property")
        # In force: property 2.50 from 2026-01-01, open-ended (the fixture's, through the service).
        existing = Tariff.objects.get(project=books.project, charge_item=item, applies_to="")
        before = _counts()

        def tariff(**values: Any) -> Tariff:
            fields = {"charge_item": item, "project": books.project, "unit_price": Decimal("3.00")} | values
            return Tariff(**fields)

        for clash in (
            {"valid_from": dt.date(2026, 6, 1)},  # inside the open-ended period
            {"valid_from": dt.date(2025, 1, 1), "valid_until": dt.date(2026, 1, 2)},  # ends one day into it
            {"valid_from": dt.date(2025, 1, 1)},  # open-ended, starting before it
        ):
            with pytest.raises(REFUSED, match="overlaps"), transaction.atomic():
                tariff(**clash).save()
            with pytest.raises(REFUSED, match="overlaps"), transaction.atomic():
                Tariff.objects.bulk_create([tariff(**clash)])
        # Two new ones that overlap each other only, in one statement.
        with pytest.raises(REFUSED, match="overlaps"), transaction.atomic():
            Tariff.objects.bulk_create(
                [
                    tariff(valid_from=dt.date(2024, 1, 1), valid_until=dt.date(2024, 7, 1)),
                    tariff(valid_from=dt.date(2024, 6, 1), valid_until=dt.date(2025, 1, 1)),
                ]
            )
        assert _counts() == before
        # Periods are half-open: one that ends on the day the next starts does not overlap it.
        with transaction.atomic():
            Tariff.objects.bulk_create([tariff(valid_from=dt.date(2025, 1, 1), valid_until=dt.date(2026, 1, 1))])
        # Another kind of unit, another project: no clash.
        with transaction.atomic():
            tariff(valid_from=dt.date(2026, 6, 1), applies_to="shop").save()
            tariff(valid_from=dt.date(2026, 6, 1), project=estate_support.project(books.admin)).save()
        # An UPDATE that makes two overlap is refused too.
        earlier = Tariff.objects.get(
            project=books.project, charge_item=item, applies_to="", valid_from=dt.date(2025, 1, 1)
        )
        with pytest.raises(REFUSED, match="overlaps"), transaction.atomic():
            Tariff.objects.filter(pk=earlier.pk).update(valid_until=dt.date(2026, 2, 1))
        with pytest.raises(REFUSED, match="overlaps"), transaction.atomic():
            Tariff.objects.filter(pk=existing.pk).update(valid_from=dt.date(2025, 12, 1))


# ------------------------------------------------------------------------------------------ one bill a month
def test_a_second_monthly_bill_for_the_same_account_and_period_is_refused(
    books: Books, company_a: CompanyFixture
) -> None:
    with in_company(company_a):
        before = _counts()
        values = {"issued_on": MAR, "due_on": dt.date(2026, 3, 31), "amount": Decimal("1.00")}
        with pytest.raises(IntegrityError, match="fees_bill_one_per_period"), transaction.atomic():
            Bill.objects.create(account=books.a, kind=BillKind.PERIODIC, period=MAR, **values)
        # The run's COPY path is refused the same way (what keeps a resumed run from billing twice).
        with pytest.raises(IntegrityError, match="fees_bill_one_per_period"), transaction.atomic():
            Bill.objects.bulk_create([Bill(account=books.b, kind=BillKind.PERIODIC, period=MAR, **values)])
        assert _counts() == before
        # One-off bills in the month, and the next month's bill, are allowed.
        with transaction.atomic():
            Bill.objects.create(account=books.a, kind=BillKind.ONE_OFF, period=MAR, **values)
            Bill.objects.create(account=books.a, kind=BillKind.ONE_OFF, period=MAR, **values)
            Bill.objects.create(account=books.a, kind=BillKind.PERIODIC, period=dt.date(2026, 4, 1), **values)
        assert _counts()[1] == before[1] + 3


# ------------------------------------------------------------------------------------------ one account
def _deferred_refused(make: Any, constraint: str) -> None:
    """`make()` writes rows the composite keys refuse; the keys are deferred (checked at commit), so the
    insert itself goes through and the check is forced with `check_constraints()` (SET CONSTRAINTS ALL
    IMMEDIATE) in a savepoint, which is then rolled back."""
    before = _counts()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        make()
        assert _counts() != before, "the insert itself should be accepted until the keys are checked"
        connection.check_constraints()
    assert _counts() == before


def test_an_entry_on_a_line_of_another_account_is_refused_at_commit(books: Books, company_a: CompanyFixture) -> None:
    with in_company(company_a):
        # A's line, but B's account on the entry (B's project, so only the line key is wrong).
        _deferred_refused(
            lambda: LedgerEntry.objects.bulk_create([_entry(books.b, EntryKind.PAYMENT, "-1.00", books.line_a)]),
            "fees_entry_on_line_account",
        )
        # The same with SET CONSTRAINTS written out.
        with pytest.raises(IntegrityError, match="fees_entry_on_line_account"), transaction.atomic():
            LedgerEntry.objects.bulk_create([_entry(books.b, EntryKind.PAYMENT, "-1.00", books.line_a)])
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_an_entry_carries_its_lines_item_and_only_a_line_entry_has_one(books: Books, company_a: CompanyFixture) -> None:
    with in_company(company_a):
        other_item = fees_support.item("certificate")
        assert other_item.pk != books.line_a.charge_item_id

        def wrong_item() -> None:
            entry = _entry(books.a, EntryKind.PAYMENT, "-1.00", books.line_a)
            entry.charge_item_id = other_item.pk
            LedgerEntry.objects.bulk_create([entry])

        _deferred_refused(wrong_item, "fees_entry_on_line_account_item")
        # Without a line there is no item (nor period) to report it under: the row's own check refuses it.
        loose = _entry(books.a, EntryKind.PREPAYMENT, "-1.00")
        loose.charge_item_id = other_item.pk
        before = _counts()
        with pytest.raises(IntegrityError, match="fees_entry_line_dimensions"), transaction.atomic():
            LedgerEntry.objects.bulk_create([loose])
        assert _counts() == before


def test_a_line_on_a_bill_of_another_account_is_refused_at_commit(books: Books, company_a: CompanyFixture) -> None:
    with in_company(company_a):
        _deferred_refused(
            lambda: BillLine.objects.create(
                bill=books.bill_a,
                account=books.b,
                charge_item=fees_support.item("certificate"),
                quantity=Decimal(1),
                unit_price=Decimal("1.00"),
                amount=Decimal("1.00"),
                meter_reading=None,
                description="wrong account",
            ),
            "fees_line_on_bill_account",
        )


def test_an_entry_in_another_project_than_its_account_is_refused_at_commit(
    books: Books, company_a: CompanyFixture
) -> None:
    with in_company(company_a):
        elsewhere = estate_support.project(books.admin)

        def make() -> None:
            entry = _entry(books.a, EntryKind.PREPAYMENT, "-1.00")
            entry.project_id, entry.zone_id, entry.building_id = elsewhere.pk, None, None
            LedgerEntry.objects.bulk_create([entry])

        _deferred_refused(make, "fees_entry_in_account_project")


def test_an_account_of_a_unit_in_another_project_is_refused_at_commit(books: Books, company_a: CompanyFixture) -> None:
    with in_company(company_a):
        elsewhere = estate_support.project(books.admin)
        unit = estate_support.unit(books.admin, building=estate_support.building(books.admin, project=books.project))
        _deferred_refused(
            lambda: Account.objects.create(project=elsewhere, unit=unit, label=f"wrong {uuid.uuid4().hex[:4]}"),
            "fees_account_unit_in_project",
        )
