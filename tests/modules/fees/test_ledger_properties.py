"""Property-based tests of the ledger (hypothesis), on the real PostgreSQL database through the real services.

Hypothesis draws a sequence of operations on two household accounts — bill runs, one-off bills, payments
(oldest first, to a chosen bill, or to a chosen line), using prepayment, reversing charges, refunds (from
prepayment or against a payment), voiding receipts, write-offs asked for and decided by a second person —
with amounts that are random, or exactly at, one fen above or one fen below what the operation allows.

After every operation, the invariants are worked out again from the ledger's rows (not from the services'
own sums) and compared with what the selectors say:

- an account's balance (owed − prepaid credit) is the sum of all its entries; owed and credit likewise
  (account_list after every step, the account's statement at the end of each example);
- no line's entries sum below zero, nor above what the line still charges (net of reversals);
- no prepaid credit is below zero;
- each bill's status (unpaid, part-paid, paid, cancelled) follows from the sums of its lines;
- every line has exactly its one charge entry; a bill's amount is the sum of its lines;
- a payment's entries sum to the payment, a refund's to the refund, an approved write-off's to it;
- receipt numbers are distinct and consecutive;
- each operation moves the accounts' total by exactly what it should (a payment of X by −X, …);
- posting a posted month again (run_execute, or a new plan written again) adds nothing.

An operation the services refuse must raise ServiceError and change nothing at all: the test compares a
snapshot of every money table before and after.

Each example runs in a savepoint that is rolled back (the world of two accounts is made once per test).
50 examples by default; WUYE_LEDGER_EXAMPLES=500 hunts longer (about four minutes). `pytest
--hypothesis-show-statistics` shows which operations the examples reached and how often each was refused."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Max, Sum
from django.db.models.functions import TruncMonth
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from modules.fees import runs, selectors, services
from modules.fees.models import (
    Account,
    Bill,
    BillLine,
    BillRun,
    CollectionSum,
    EntryKind,
    FeeSettings,
    LedgerEntry,
    Payment,
    Refund,
    RunStatus,
    WriteOff,
    WriteOffStatus,
)
from tests.support import estate as estate_support
from tests.support import fees as fees_support
from wuye.accounts import services as account_services
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.testing.plugin import CompanyFixture, in_company

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
MONTHS = [dt.date(2026, month, 1) for month in (1, 2, 3, 4)]


# ------------------------------------------------------------------------------------------ the world
@dataclass
class World:
    admin: Any
    approver: Any  # a second administrator: the four eyes of a write-off
    project: Any
    accounts: list[Account]


@pytest.fixture
def world(company_a: CompanyFixture) -> Any:
    with in_company(company_a):
        admin = company_a.admin()
        approver = account_services.user_create(
            email="approver@ledger.test", name="审批人", password="approver-password-9", roles=["company_admin"]
        )
        project = estate_support.project(admin)
        fees_support.tariff(admin, project, "property", "2.50")
        building = estate_support.building(admin, project=project)
        # Monthly: 89.50 × 2.50 = 223.75 and 60.00 × 2.50 = 150.00.
        units = [
            fees_support.owned_unit(admin, building=building, area=area, owner_from=dt.date(2025, 1, 1))
            for area in ("89.50", "60.00")
        ]
        # January is posted before the examples (each starts with a bill on each account); the operations
        # post February to April.
        fees_support.post_month(admin, project, MONTHS[0])
        yield World(admin, approver, project, [fees_support.account(unit) for unit in units])


# ------------------------------------------------------------------------------------------ operations
# An amount: "all" (exactly what is allowed), "over" (one fen more), "under" (one fen less), or fen.
amount = st.one_of(st.sampled_from(["all", "over", "under"]), st.integers(min_value=1, max_value=40000))
side = st.integers(min_value=0, max_value=1)  # account A or B
pick = st.integers(min_value=0, max_value=15)  # the n-th (modulo how many there are) bill, line, payment...

# Records are picked as (account, n): the n-th of that account's bills, lines or payments, by id (uuid7, so
# in the order they were made). A payment or a credit may name the other account's bill: a refusal.
whose = st.sampled_from(["own", "own", "own", "other"])  # mostly the account's own bill; at times the other's

operation = st.one_of(
    st.tuples(st.just("pay"), side, st.just("oldest"), whose, pick, amount, st.just(0)),
    st.tuples(st.just("pay"), side, st.just("bill"), whose, pick, amount, st.just(0)),
    st.tuples(st.just("pay"), side, st.just("line"), whose, pick, amount, st.one_of(st.just(0), amount)),
    st.tuples(st.just("reverse"), side, pick, st.one_of(st.none(), amount)),
    st.tuples(st.just("refund_payment"), side, pick, amount, whose),
    st.tuples(st.just("void"), side, pick),
    st.tuples(st.just("credit_apply"), side, st.booleans(), whose, pick),
    st.tuples(st.just("refund_credit"), side, amount),
    st.tuples(st.just("write_off"), side, pick, amount),
    st.tuples(st.just("decide"), pick, st.booleans(), st.booleans()),
    st.tuples(st.just("one_off"), side, st.integers(min_value=1, max_value=50000)),
    st.tuples(st.just("run"), st.integers(min_value=1, max_value=len(MONTHS) - 1)),
)
SKIPPED = object()  # nothing to pick (no bill, line or payment yet)


def _resolve(spec: Any, allowed: Decimal) -> Decimal:
    if spec == "all":
        return allowed
    if spec == "over":
        return allowed + FEN
    if spec == "under":
        return allowed - FEN
    return Decimal(spec) / 100


def _nth(items: list[Any], index: int) -> Any:
    return items[index % len(items)] if items else None


# ------------------------------------------------------------------------------------------ the ledger, read raw
@dataclass
class Ledger:
    """Sums worked out here from the rows (one query), independently of the services and selectors."""

    total: dict[Any, Decimal]  # account -> sum of all its entries
    owed: dict[Any, Decimal]  # account -> sum of its entries on lines
    credit: dict[Any, Decimal]  # account -> minus the sum of its entries without a line
    line: dict[Any, Decimal]  # line -> sum of its entries
    charged: dict[Any, Decimal]  # line -> charges + reversals
    charges: dict[Any, list[Decimal]]  # line -> its charge entries
    by_payment: dict[Any, Decimal]  # payment -> sum of its entries
    voided: dict[Any, Decimal]  # payment -> sum of the entries voiding it
    by_refund: dict[Any, Decimal]
    by_write_off: dict[Any, Decimal]


def _ledger(world: World) -> Ledger:
    ledger = Ledger(
        *(defaultdict(lambda: ZERO) for _ in range(5)),
        defaultdict(list),
        *(defaultdict(lambda: ZERO) for _ in range(4)),
    )  # type: ignore[arg-type]
    rows = LedgerEntry.objects.filter(account__in=world.accounts).values_list(
        "account_id", "line_id", "kind", "amount", "payment_id", "reverses__payment_id", "refund_id", "write_off_id"
    )
    for account_id, line_id, kind, value, payment_id, voided_id, refund_id, write_off_id in rows:
        ledger.total[account_id] += value
        if line_id is None:
            ledger.credit[account_id] -= value
        else:
            ledger.owed[account_id] += value
            ledger.line[line_id] += value
            if kind in (EntryKind.CHARGE, EntryKind.CHARGE_REVERSAL):
                ledger.charged[line_id] += value
            if kind == EntryKind.CHARGE:
                ledger.charges[line_id].append(value)
        if payment_id is not None:
            ledger.by_payment[payment_id] += value
        if kind == EntryKind.VOID and voided_id is not None:
            ledger.voided[voided_id] += value
        if refund_id is not None:
            ledger.by_refund[refund_id] += value
        if write_off_id is not None:
            ledger.by_write_off[write_off_id] += value
    return ledger


SNAPSHOT_SQL = """
SELECT
    (SELECT count(*) FROM fees_ledgerentry),
    (SELECT count(*) FROM fees_bill),
    (SELECT count(*) FROM fees_billline),
    (SELECT count(*) FROM fees_payment),
    (SELECT count(*) FROM fees_paymentvoid),
    (SELECT count(*) FROM fees_refund),
    (SELECT string_agg(id::text || status, ',' ORDER BY id) FROM fees_writeoff),
    (SELECT string_agg(year || ':' || last, ',' ORDER BY year) FROM fees_receiptcounter),
    (SELECT string_agg(id::text || status || bill_count || ':' || total, ',' ORDER BY id) FROM fees_billrun),
    (SELECT string_agg(account_id::text || ':' || t, ',' ORDER BY account_id)
       FROM (SELECT account_id, sum(amount) AS t FROM fees_ledgerentry GROUP BY account_id) a),
    (SELECT string_agg(line_id::text || ':' || t, ',' ORDER BY line_id)
       FROM (SELECT line_id, sum(amount) AS t FROM fees_ledgerentry WHERE line_id IS NOT NULL GROUP BY line_id) l),
    (SELECT string_agg(account_id::text || ':' || t, ',' ORDER BY account_id)
       FROM (SELECT account_id, sum(amount) AS t FROM fees_ledgerentry WHERE line_id IS NULL GROUP BY account_id) c)
"""


def _snapshot() -> tuple[Any, ...]:
    """Everything an operation could change, in one query: the number of rows of each money table, the
    state of write-offs, receipt counters and runs, and the sums of every account, line and credit."""
    with connection.cursor() as cursor:
        cursor.execute(SNAPSHOT_SQL)
        return tuple(cursor.fetchone())


def _status(charged: Decimal, balance: Decimal) -> str:
    if charged <= 0:
        return "cancelled"
    if balance <= 0:
        return "paid"
    if balance < charged:
        return "part_paid"
    return "unpaid"


def _check_invariants(world: World) -> Ledger:
    ledger = _ledger(world)
    by_bill: dict[Any, list[BillLine]] = defaultdict(list)
    for line in BillLine.objects.filter(account__in=world.accounts):
        by_bill[line.bill_id].append(line)
        balance, charged = ledger.line[line.pk], ledger.charged[line.pk]
        assert ledger.charges[line.pk] == [line.amount], f"line {line.pk}: one charge entry, of its amount"
        assert balance >= 0, f"line {line.pk} is paid beyond what it owes: {balance}"
        assert charged >= 0, f"line {line.pk} is reversed beyond its charge"
        assert balance <= charged, f"line {line.pk} owes {balance}, more than it still charges ({charged})"
    listed = {account.pk: account for account in selectors.account_list(viewer=world.admin, project=world.project.pk)}
    for account in world.accounts:
        key = account.pk
        assert ledger.credit[key] >= 0, f"negative prepaid credit {ledger.credit[key]}"
        seen = listed[key]
        assert (seen.owed, seen.credit, seen.balance) == (ledger.owed[key], ledger.credit[key], ledger.total[key]), (
            "account_list disagrees with the ledger"
        )
    for bill in selectors.bill_list(viewer=world.admin, project=world.project.pk):
        bill_lines = by_bill[bill.pk]
        assert bill.amount == sum((line.amount for line in bill_lines), ZERO)
        charged = sum((ledger.charged[line.pk] for line in bill_lines), ZERO)
        balance = sum((ledger.line[line.pk] for line in bill_lines), ZERO)
        assert (bill.charged, bill.balance) == (charged, balance)
        assert bill.status == _status(charged, balance), f"bill {bill.pk}: {bill.status} with {charged}/{balance}"
    payments = Payment.objects.filter(account__in=world.accounts).values_list("pk", "amount", "receipt_number", "void")
    numbers = []
    for payment_id, value, number, void in payments:
        numbers.append(int(number))
        assert ledger.by_payment[payment_id] == -value, "a payment's entries add up to the payment"
        assert ledger.voided[payment_id] == (value if void else ZERO), "a void reverses all of it"
    numbers.sort()
    if numbers:
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), "receipt numbers with a gap"
    for refund_id, value in Refund.objects.filter(account__in=world.accounts).values_list("pk", "amount"):
        assert ledger.by_refund[refund_id] == value, "a refund's entries add up to the refund"
    write_offs = WriteOff.objects.filter(line__account__in=world.accounts).values_list("pk", "amount", "status")
    for write_off_id, value, status in write_offs:
        assert ledger.by_write_off[write_off_id] == (-value if status == WriteOffStatus.APPROVED else ZERO)
    _check_report_sums(world)
    return ledger


_SUM_KEY = ("zone", "building", "charge_item", "period", "kind", "booked_month")


def _check_report_sums(world: World) -> None:
    """The collection report's sums, kept by the ledger's trigger, are the line entries grouped by hand."""
    entries = LedgerEntry.objects.filter(project=world.project, line__isnull=False).annotate(
        booked_month=TruncMonth("booked_on")
    )
    expected = {
        tuple(row[k] for k in _SUM_KEY): (row["total"], row["last"])
        for row in entries.values(*_SUM_KEY).annotate(total=Sum("amount"), last=Max("booked_on"))
    }
    sums = CollectionSum.objects.filter(project=world.project).values(*_SUM_KEY)
    kept = {
        tuple(row[k] for k in _SUM_KEY): (row["total"], row["last"])
        for row in sums.annotate(total=Sum("amount"), last=Max("last_booked_on"))
    }
    assert kept == expected, "the report's sums disagree with the ledger"


def _check_statements(world: World, ledger: Ledger) -> None:
    """The account's page (its statement) says what the ledger says."""
    for account in world.accounts:
        statement = selectors.account_statement(viewer=world.admin, account=account)
        key = account.pk
        assert (statement.owed, statement.credit, statement.balance) == (
            ledger.owed[key],
            ledger.credit[key],
            ledger.total[key],
        ), "the statement disagrees with the ledger"


def _repost_adds_nothing(world: World, periods: list[dt.date]) -> None:
    """Posting the posted months again: the worker's task delivered twice (run_execute on a posted run), and
    a new plan written again for the run (what a resumed run does) add nothing."""
    before = _snapshot()
    for run in BillRun.objects.filter(project=world.project, period__in=periods, status=RunStatus.POSTED):
        again = services.run_execute(run_id=run.pk)
        assert (again.status, again.bill_count, again.total) == (run.status, run.bill_count, run.total)
        assert runs.plan_make(project_id=world.project.pk, period=run.period).bills == []
        assert runs.run_write(run, due_days=30) == []
    assert _snapshot() == before


# ------------------------------------------------------------------------------------------ running one operation
def _pick(queryset: Any, world: World, index: int, n: int) -> Any:
    """The n-th record of account `index`, or, if it has none, of the other account."""
    for account in (world.accounts[index], world.accounts[1 - index]):
        found = _nth(list(queryset.filter(account=account).order_by("id")), n)
        if found is not None:
            return found
    return None


def _bill(world: World, index: int, n: int) -> Bill | None:
    return _pick(Bill.objects.all(), world, index, n)


def _line(world: World, index: int, n: int) -> BillLine | None:
    return _pick(BillLine.objects.select_related("bill"), world, index, n)


def _payment(world: World, index: int, n: int) -> Payment | None:
    return _pick(Payment.objects.select_related("account"), world, index, n)


def _apply(world: World, op: tuple[Any, ...], ledger: Ledger) -> Any:
    """Run the operation; returns by how much it should move the accounts' total, or SKIPPED."""
    admin, kind = world.admin, op[0]
    if kind == "run":
        period = MONTHS[op[1]]
        before = set(Bill.objects.filter(account__in=world.accounts).values_list("pk", flat=True))
        run = services.run_create(by=admin, project=world.project, period=period)
        services.run_execute(run_id=run.pk)
        run.refresh_from_db()
        fresh = Bill.objects.filter(account__in=world.accounts).exclude(pk__in=before)
        assert run.status == RunStatus.POSTED
        assert (run.bill_count, run.total) == (fresh.count(), sum((b.amount for b in fresh), ZERO))
        return sum((b.amount for b in fresh), ZERO)
    if kind == "one_off":
        account = world.accounts[op[1]]
        price = Decimal(op[2]) / 100
        bill = services.one_off_charge(
            by=admin, account=account, charge_item=fees_support.item("special-service"), unit_price=price
        )
        assert bill.amount == price
        return price
    if kind == "pay":
        _kind, index, target, owner, n, spec, extra = op
        account, owner = world.accounts[index], index if owner == "own" else 1 - index
        if target == "oldest":
            value = _resolve(spec, ledger.owed[account.pk])
            services.payment_record(by=admin, account=account, amount=value, method="cash")
        elif target == "bill":
            bill = _bill(world, owner, n)
            if bill is None:
                return SKIPPED
            owed = sum((ledger.line[line.pk] for line in BillLine.objects.filter(bill=bill)), ZERO)
            value = _resolve(spec, owed)
            services.payment_record(by=admin, account=account, amount=value, method="cash", bills=[bill])
        else:
            line = _line(world, owner, n)
            if line is None:
                return SKIPPED
            share = _resolve(spec, ledger.line[line.pk])
            value = share + (_resolve(extra, ZERO) if extra else ZERO)
            services.payment_record(
                by=admin,
                account=account,
                amount=value,
                method="cash",
                allocations=[services.Allocation(line=line, amount=share)],
            )
        return -value
    if kind == "credit_apply":
        _kind, index, to_bill, owner, n = op
        account, owner = world.accounts[index], index if owner == "own" else 1 - index
        bill = _bill(world, owner, n) if to_bill else None
        if to_bill and bill is None:
            return SKIPPED
        used = services.credit_apply(by=admin, account=account, bills=[bill] if bill is not None else None)
        assert 0 <= used <= ledger.credit[account.pk]
        return ZERO
    if kind == "reverse":
        line = _line(world, op[1], op[2])
        if line is None:
            return SKIPPED
        value = None if op[3] is None else _resolve(op[3], ledger.charged[line.pk])
        entries = services.charge_reverse(by=admin, line=line, reason="property test", amount=value)
        reversed_by = -sum((e.amount for e in entries if e.kind == EntryKind.CHARGE_REVERSAL), ZERO)
        assert reversed_by == (ledger.charged[line.pk] if value is None else value)
        return -reversed_by
    if kind == "refund_credit":
        account = world.accounts[op[1]]
        value = _resolve(op[2], ledger.credit[account.pk])
        services.refund_record(by=admin, account=account, amount=value, reason="property test", method="cash")
        return value
    if kind == "refund_payment":
        _kind, index, n, spec, whose_account = op
        payment = _payment(world, index, n)
        if payment is None:
            return SKIPPED
        refunded = sum(Refund.objects.filter(payment=payment).values_list("amount", flat=True), ZERO)
        value = _resolve(spec, payment.amount - refunded)
        account = payment.account if whose_account == "own" else _other(world, payment.account)
        services.refund_record(
            by=admin, account=account, amount=value, reason="property test", method="cash", payment=payment
        )
        return value
    if kind == "void":
        payment = _payment(world, op[1], op[2])
        if payment is None:
            return SKIPPED
        services.payment_void(by=admin, payment=payment, reason="property test")
        return payment.amount
    if kind == "write_off":
        line = _line(world, op[1], op[2])
        if line is None:
            return SKIPPED
        value = _resolve(op[3], ledger.line[line.pk])
        services.write_off_request(by=admin, line=line, amount=value, reason="property test")
        return ZERO
    if kind == "decide":
        _kind, n, approve, four_eyes = op
        write_off = _nth(list(WriteOff.objects.filter(line__account__in=world.accounts).order_by("id")), n)
        if write_off is None:
            return SKIPPED
        if not four_eyes:
            with pytest.raises(PolicyDenied) as denied:
                services.write_off_decide(by=admin, write_off=write_off, approve=approve)
            raise denied.value  # refused: nothing may have changed (checked by the caller)
        decided = services.write_off_decide(by=world.approver, write_off=write_off, approve=approve)
        return -decided.amount if approve else ZERO
    raise AssertionError(kind)


def _other(world: World, account: Account) -> Account:
    return world.accounts[1] if account.pk == world.accounts[0].pk else world.accounts[0]


def _event(text: str) -> None:
    """Counted in `--hypothesis-show-statistics` (what the examples reached); nothing outside hypothesis."""
    with contextlib.suppress(InvalidArgument):
        event(text)


def _play(world: World, auto_apply: bool, ops: list[tuple[Any, ...]]) -> list[str]:
    """Run the operations, checking everything after each; returns what became of each: "done", "skipped"
    or the code of the refusal."""
    FeeSettings.objects.update_or_create(id=1, defaults={"auto_apply_prepayment": auto_apply})
    ledger = _check_invariants(world)
    outcomes = []
    for step, op in enumerate(ops):
        before = _snapshot()
        try:
            moved = _apply(world, op, ledger)
        except ServiceError as error:
            assert _snapshot() == before, f"step {step} {op}: refused, but something changed"
            _event(f"{op[0]} refused: {error.code}")
            outcomes.append(error.code)
            continue
        if moved is SKIPPED:
            _event(f"{op[0]} skipped")
            assert _snapshot() == before
            outcomes.append("skipped")
            continue
        _event(f"{op[0]} done")
        outcomes.append("done")
        after = _check_invariants(world)
        total_before = sum(ledger.total.values(), ZERO)
        total_after = sum(after.total.values(), ZERO)
        assert total_after - total_before == moved, f"step {step} {op}: moved {total_after - total_before}"
        if op[0] == "run":
            _repost_adds_nothing(world, [MONTHS[op[1]]])
        ledger = after
    _check_statements(world, ledger)
    _repost_adds_nothing(world, MONTHS)
    services.collection_sums_compact()  # beat's folding changes no sum
    _check_report_sums(world)
    return outcomes


@settings(
    max_examples=int(os.environ.get("WUYE_LEDGER_EXAMPLES", "50")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(auto_apply=st.booleans(), ops=st.lists(operation, min_size=3, max_size=12))
def test_the_ledger_keeps_its_invariants(world: World, company_a: CompanyFixture, auto_apply: bool, ops: list) -> None:
    with in_company(company_a), transaction.atomic():
        _play(world, auto_apply, ops)
        transaction.set_rollback(True)


# ------------------------------------------------------------------------------------------ fixed stories
# Stories that reach deep states at once, with what must become of each step; the same checks run after
# every step. A's bill for January is 223.75, B's 150.00. Lines and payments are picked as (account, n).
def _story(world: World, company: CompanyFixture, ops: list[tuple[Any, ...]], *, auto_apply: bool = False) -> Any:
    with in_company(company):
        outcomes = _play(world, auto_apply, ops)
        return outcomes, _ledger(world)


def test_a_receipt_whose_charge_was_reversed_since_cannot_be_voided(world: World, company_a: CompanyFixture) -> None:
    """Paid, then the charge reversed in full: the 223.75 paid moved to prepayment. Voiding the receipt
    would re-open a charge that no longer exists (owing 223.75 on a cancelled bill) and leave the 223.75 of
    prepayment there, which could then be paid out in cash for money never received. It is refused; the
    prepayment can be refunded."""
    a = world.accounts[0].pk
    outcomes, ledger = _story(
        world,
        company_a,
        [
            ("pay", 0, "oldest", "own", 0, "all", 0),  # 223.75 on January
            ("reverse", 0, 0, None),  # January reversed: 223.75 to prepayment
            ("void", 0, 0),
            ("refund_credit", 0, "all"),  # the 223.75 paid back
        ],
    )
    assert outcomes == ["done", "done", "charge_reversed", "done"]
    assert (ledger.owed[a], ledger.credit[a], ledger.total[a]) == (ZERO, ZERO, ZERO)


def test_a_refund_does_not_reopen_a_reversed_charge(world: World, company_a: CompanyFixture) -> None:
    a = world.accounts[0].pk
    outcomes, ledger = _story(
        world,
        company_a,
        [
            ("run", 1),  # February: 223.75 more
            ("pay", 0, "oldest", "own", 0, 50000, 0),  # 500.00: January and February paid, 52.50 prepaid
            ("reverse", 0, 0, None),  # January reversed: its 223.75 to prepayment (276.25)
            ("one_off", 0, 30000),  # a 300.00 special service...
            ("credit_apply", 0, False, "own", 0),  # ...paid 276.25 from the prepayment: 23.75 owed
            # 300.00 of the payment back: February's 223.75 could be re-opened, but January's 76.25 no
            # longer: its money paid the special service. Refused.
            ("refund_payment", 0, 0, 30000, "own"),
            ("refund_payment", 0, 0, 22375, "own"),  # 223.75: February re-opened
            ("write_off", 0, 1, "all"),  # February's 223.75 asked to be written off...
            ("decide", 0, True, True),  # ...and approved by the second person
            ("run", 1),  # February again: refused, it is posted
        ],
    )
    assert outcomes == [
        "done", "done", "done", "done", "done", "refund_too_much", "done", "done", "done", "run_already_posted",
    ]  # fmt: skip
    # Left: the special service's 23.75; no prepayment.
    assert (ledger.owed[a], ledger.credit[a]) == (Decimal("23.75"), ZERO)


def test_prepayment_pays_a_new_month_and_then_holds_its_receipt(world: World, company_a: CompanyFixture) -> None:
    b = world.accounts[1].pk
    outcomes, ledger = _story(
        world,
        company_a,
        [
            ("pay", 1, "oldest", "own", 0, 40000, 0),  # B: 400.00 = January's 150.00 + 250.00 prepaid
            ("run", 1),  # February's 150.00 paid from the prepayment when posted (auto-apply): 100.00 left
            ("void", 1, 0),  # the receipt's 250.00 of prepayment is partly used: refused
            ("reverse", 1, 1, "under"),  # February reversed but a fen: 149.99 back to prepayment
        ],
        auto_apply=True,
    )
    assert outcomes == ["done", "done", "credit_used", "done"]
    # Owed: February's last fen, paid from the prepayment already (0); prepayment 100.00 + 149.99.
    assert (ledger.owed[b], ledger.credit[b]) == (ZERO, Decimal("249.99"))
