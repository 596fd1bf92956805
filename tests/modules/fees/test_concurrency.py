"""Two clerks at two desks, for real: threads, each with its own database connection (Django's connections
are per thread), on committed data.

- Two clerks pay the same bill at the same moment: one payment goes through, the other is refused, and
  the bill is paid once. Once as a race (a barrier lets both go together, several times over), and once
  with the interleaving forced: the first clerk's transaction is held open until the second is seen
  waiting for the account's row lock in pg_stat_activity.
- Receipt numbers stay gapless when clerks take payments at once, while some payments fail inside their
  transaction after their number was taken (the ledger refuses them, or what follows the payment in the
  same transaction fails): every number used is used once, with no hole, and no number is lost.

These tests commit; `committed_remove` takes away what they made (see tests/support/fees.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction

from modules.fees import services
from modules.fees.models import Bill, LedgerEntry, Payment, ReceiptCounter
from tests.support import fees as fees_support
from wuye.accounts.models import User
from wuye.core.errors import ServiceError
from wuye.testing.plugin import CompanyFixture, in_company

pytestmark = [pytest.mark.committed]

TIMEOUT = 30


@pytest.fixture
def alpha(committed_db: None, companies: dict[str, CompanyFixture]) -> CompanyFixture:
    return companies["alpha"]


@pytest.fixture
def site(alpha: CompanyFixture) -> Iterator[fees_support.CommittedSite]:
    made = fees_support.committed_site(alpha, units=4)
    try:
        yield made
    finally:
        fees_support.committed_remove(alpha, made)


def _one_off(company: CompanyFixture, account: Any, price: str) -> Bill:
    with in_company(company):
        return services.one_off_charge(
            by=company.admin(), account=account, charge_item=fees_support.item("special-service"), unit_price=price
        )


def _in_threads(company: CompanyFixture, work: list[Callable[[], Any]]) -> list[Any]:
    """Run each callable in a thread of its own (its own connection, in the company's schema), all released
    together by a barrier. Returns what each returned or raised."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(index: int) -> None:
        try:
            with in_company(company):
                barrier.wait(TIMEOUT)
                results[index] = work[index]()
        except BaseException as error:  # returned to the test, not lost in the thread
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    assert not any(thread.is_alive() for thread in threads), "a clerk never finished"
    return results


def _paid_lines(company: CompanyFixture, bill: Bill) -> Decimal:
    with in_company(company):
        return -sum(
            LedgerEntry.objects.filter(line__bill=bill, kind="payment").values_list("amount", flat=True), Decimal(0)
        )


def test_two_clerks_pay_the_same_bill_at_once(alpha: CompanyFixture, site: fees_support.CommittedSite) -> None:
    admin_id = alpha.admin_id
    for round_ in range(4):
        account = site.accounts[round_]
        bill = _one_off(alpha, account, "100.00")

        def pay(bill: Bill = bill, account: Any = account) -> Payment:
            # Each clerk reads the user and the account on their own connection, as a request would.
            return services.payment_record(
                by=User.objects.get(pk=admin_id), account=account, amount="100.00", method="cash", bills=[bill]
            )

        results = _in_threads(alpha, [pay, pay])
        payments = [r for r in results if isinstance(r, Payment)]
        refusals = [r for r in results if isinstance(r, ServiceError)]
        assert len(payments) == 1 and len(refusals) == 1, results
        assert refusals[0].code in ("bill_paid", "over_allocated"), refusals[0].code
        assert _paid_lines(alpha, bill) == Decimal("100.00"), "the bill is paid exactly once"
        with in_company(alpha):
            assert Payment.objects.filter(account=account).count() == 1
            assert list(LedgerEntry.objects.filter(account=account, line__isnull=True)) == [], "nothing prepaid"


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _wait_until_blocked(pid: int, by: int) -> None:
    """Wait until backend `pid` waits for a lock that backend `by` holds."""
    deadline = time.monotonic() + TIMEOUT
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT %s = ANY(pg_blocking_pids(%s))", [by, pid])
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "the second clerk never waited for the first"
            time.sleep(0.02)


def test_the_second_clerk_waits_for_the_first_and_then_sees_the_bill_paid(
    alpha: CompanyFixture, site: fees_support.CommittedSite
) -> None:
    """The interleaving a race only sometimes produces, forced: clerk 1 has recorded the payment but not
    committed; clerk 2 asks to pay the same bill. Clerk 2 must wait (the account's row lock), not read the
    bill as unpaid and pay it a second time; once clerk 1 commits, clerk 2 is told the bill is paid."""
    account = site.accounts[0]
    bill = _one_off(alpha, account, "100.00")
    admin_id = alpha.admin_id
    first_done, first_commit = threading.Event(), threading.Event()
    pids: dict[str, int] = {}
    results: dict[str, Any] = {}

    def clerk(name: str) -> None:
        try:
            with in_company(alpha):
                pids[name] = _backend_pid()
                by = User.objects.get(pk=admin_id)
                if name == "first":
                    with transaction.atomic():
                        results[name] = services.payment_record(
                            by=by, account=account, amount="100.00", method="cash", bills=[bill]
                        )
                        first_done.set()
                        assert first_commit.wait(TIMEOUT), "the test never let the first clerk commit"
                else:
                    assert first_done.wait(TIMEOUT)
                    results[name] = services.payment_record(
                        by=by, account=account, amount="100.00", method="cash", bills=[bill]
                    )
        except BaseException as error:
            results[name] = error
        finally:
            first_done.set()
            connection.close()

    first = threading.Thread(target=clerk, args=("first",))
    second = threading.Thread(target=clerk, args=("second",))
    first.start()
    assert first_done.wait(TIMEOUT)
    second.start()
    try:
        deadline = time.monotonic() + TIMEOUT
        while "second" not in pids:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        _wait_until_blocked(pids["second"], pids["first"])
        assert "second" not in results, f"the second clerk did not wait: {results.get('second')!r}"
    finally:
        first_commit.set()
        first.join(TIMEOUT)
        second.join(TIMEOUT)
    assert isinstance(results["first"], Payment), results["first"]
    assert isinstance(results["second"], ServiceError), results["second"]
    assert results["second"].code == "bill_paid"
    assert _paid_lines(alpha, bill) == Decimal("100.00")


CLERKS, PAYMENTS = 4, 10
POISONED = Decimal("13.13")  # the ledger refuses these (see `_poisoned_ledger`)
ROLLED_BACK = Decimal("17.17")  # paid, then what follows in the same transaction fails


class _AfterwardsFailed(Exception):
    """What comes after the payment in the same transaction (printing the receipt, say) failed."""


@pytest.fixture
def poisoned_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Payments of POISONED yuan try to take 20,000.00 more off their line than it owes, after their receipt
    number was taken: the database's trigger refuses the entries and payment_record raises ServiceError
    from inside its transaction. (Patched in this process: the clerks are threads of it.)"""
    real = services._entries_save

    def entries_save(entries: list[LedgerEntry]) -> None:
        if entries and entries[0].payment is not None and entries[0].payment.amount == POISONED:
            assert entries[0].payment.receipt_number, "the number is taken before the entries are written"
            entries[0].amount -= Decimal("20000.00")
        real(entries)

    monkeypatch.setattr(services, "_entries_save", entries_save)


def test_receipt_numbers_stay_gapless_under_concurrent_payments(
    alpha: CompanyFixture, site: fees_support.CommittedSite, poisoned_ledger: None
) -> None:
    admin_id = alpha.admin_id
    for account in site.accounts:
        _one_off(alpha, account, "10000.00")
    year, start = site.receipt_counter
    start = start or 0
    # Each clerk takes ten payments on their own account: the 3rd and 8th are refused by the ledger, the
    # 5th is rolled back by what follows it; the 10th over-allocates a line and is refused before any
    # number is taken.
    plan = [Decimal("11.00")] * PAYMENTS
    plan[2] = plan[7] = POISONED
    plan[4] = ROLLED_BACK

    def clerk(account: Any) -> Callable[[], list[Any]]:
        def work() -> list[Any]:
            by = User.objects.get(pk=admin_id)
            outcomes: list[Any] = []
            for n, value in enumerate(plan):
                try:
                    if n == PAYMENTS - 1:
                        line = Bill.objects.get(account=account).lines.get()
                        services.payment_record(
                            by=by,
                            account=account,
                            amount="20000.00",
                            method="cash",
                            allocations=[services.Allocation(line=line, amount="20000.00")],
                        )
                    elif value == ROLLED_BACK:
                        with transaction.atomic():
                            services.payment_record(by=by, account=account, amount=value, method="cash")
                            raise _AfterwardsFailed
                    else:
                        services.payment_record(by=by, account=account, amount=value, method="cash")
                    outcomes.append("paid")
                except ServiceError as error:
                    outcomes.append(error.code)
                except _AfterwardsFailed:
                    outcomes.append("rolled back")
            return outcomes

        return work

    results = _in_threads(alpha, [clerk(account) for account in site.accounts])
    expected = ["paid"] * PAYMENTS
    expected[2] = expected[7] = "ledger_refused"
    expected[4] = "rolled back"
    expected[9] = "over_allocated"
    assert results == [expected] * CLERKS, results
    paid = expected.count("paid")  # 6 a clerk
    with in_company(alpha):
        numbers = sorted(
            int(number[4:])
            for number in Payment.objects.filter(account__in=site.accounts).values_list("receipt_number", flat=True)
        )
        # The numbers used are exactly the next CLERKS × paid numbers of the year, each once, no gap.
        assert numbers == list(range(start + 1, start + 1 + CLERKS * paid))
        assert ReceiptCounter.objects.get(year=year).last == start + CLERKS * paid
        assert {number[:4] for number in Payment.objects.values_list("receipt_number", flat=True)} == {str(year)}
        for account in site.accounts:
            # 6 × 11.00 = 66.00 paid on each account's 10,000.00 bill; nothing of the refused ones.
            assert -sum(
                LedgerEntry.objects.filter(account=account).exclude(kind="charge").values_list("amount", flat=True),
                Decimal(0),
            ) == Decimal("66.00")


def test_the_same_provider_payment_delivered_twice_at_once_is_recorded_once(
    alpha: CompanyFixture, site: fees_support.CommittedSite
) -> None:
    """An online payment confirmed twice at the same moment (a webhook and the API's answer, or a delivery
    repeated): the account's lock serialises them and the second finds the first's payment."""
    account = site.accounts[0]
    bill = _one_off(alpha, account, "80.00")

    def confirm() -> Payment:
        return services.payment_record(
            by=None, account=account, amount="80.00", method="online", bills=[bill], external_id="pi_twice_at_once"
        )

    results = _in_threads(alpha, [confirm, confirm])
    assert all(isinstance(r, Payment) for r in results), results
    assert results[0].pk == results[1].pk
    assert _paid_lines(alpha, bill) == Decimal("80.00")
