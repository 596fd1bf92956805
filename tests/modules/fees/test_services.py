"""The fee services on real schemas: what each does, and that bad input is refused with a clear error and
changes nothing. Amounts are worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from modules.fees import runs, selectors, services
from modules.fees.models import Bill, BillRun, ChargeItem, CollectionSum, FeeSettings, LedgerEntry, Payment
from tests.support import estate as estate_support
from tests.support import fees as fees_support
from wuye.accounts import services as account_services
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.testing.plugin import in_company

ZERO = Decimal("0.00")
MARCH = dt.date(2026, 3, 1)
APRIL = dt.date(2026, 4, 1)


@pytest.fixture
def admin(company_a):
    with in_company(company_a):
        yield company_a.admin()


@pytest.fixture
def project(admin):
    project = estate_support.project(admin)
    fees_support.tariff(admin, project, "property", "2.50")
    return project


def _counts() -> tuple[int, int, int]:
    return LedgerEntry.objects.count(), Bill.objects.count(), Payment.objects.count()


def test_a_new_company_has_the_standard_charge_items_and_settings(admin):
    codes = set(ChargeItem.objects.values_list("code", flat=True))
    assert {"property", "parking", "water", "electricity", "gas", "owner-card", "renovation-deposit"} <= codes
    assert ChargeItem.objects.get(code="property").name == "物业服务费"  # the company's language is zh-hans
    assert FeeSettings.objects.get().reminder_text


# ------------------------------------------------------------------------------------------ tariffs
def test_overlapping_tariffs_are_refused(admin, project):
    with pytest.raises(ServiceError) as refused:
        fees_support.tariff(admin, project, "property", "3.00", valid_from=dt.date(2026, 6, 1))
    assert refused.value.code == "tariff_overlap"
    # A different kind of unit may have its own price; ending the first lets a new price follow.
    fees_support.tariff(admin, project, "property", "6.00", applies_to="shop")
    first = selectors.tariff_list(viewer=admin, project=project.pk).get(applies_to="")
    services.tariff_end(by=admin, tariff=first, on=dt.date(2026, 6, 1))
    fees_support.tariff(admin, project, "property", "3.00", valid_from=dt.date(2026, 6, 1))


def test_tariff_for_a_kind_the_item_cannot_apply_to_is_refused(admin, project):
    with pytest.raises(ServiceError) as refused:
        fees_support.tariff(admin, project, "parking", "150", applies_to="shop")
    assert refused.value.code == "applies_to_invalid"
    with pytest.raises(ServiceError) as tiered:
        fees_support.tariff(admin, project, "parking", "150", tiers=[(Decimal(10), Decimal(1))])
    assert tiered.value.code == "tiers_not_metered"


# ------------------------------------------------------------------------------------------ readings
def test_readings_in_order_below_previous_and_replacement(admin, project):
    meter = estate_support.meter(admin, project=project, unit=fees_support.owned_unit(admin, project=project))
    services.reading_record(by=admin, project=project, meter=meter, period=MARCH, reading="100")
    with pytest.raises(ServiceError) as below:
        services.reading_record(by=admin, project=project, meter=meter, period=APRIL, reading="90")
    assert below.value.code == "reading_below_previous"
    with pytest.raises(ServiceError) as again:
        services.reading_record(by=admin, project=project, meter=meter, period=MARCH, reading="120")
    assert again.value.code == "reading_exists"
    # Replaced in April: the old meter ended at 130, the new one started at 0 and reads 5 -> 30 + 5 used.
    replaced = services.reading_record(
        by=admin, project=project, meter=meter, period=APRIL, reading="5", replaced=True, old_final="130", new_start="0"
    )
    assert replaced.consumption == Decimal("35")


def test_a_reading_for_a_meter_of_another_project_is_refused(admin, project):
    other = estate_support.project(admin)
    meter = estate_support.meter(admin, project=other)
    with pytest.raises(ServiceError) as refused:
        services.reading_record(by=admin, project=project, meter=meter, period=MARCH, reading="1")
    assert refused.value.code == "meter_other_project"


# ------------------------------------------------------------------------------------------ bill runs
def test_preview_lists_exceptions_and_post_bills_each_account_once(admin, project):
    owned = fees_support.owned_unit(admin, project=project, area="100.00")
    unowned = estate_support.unit(admin, building=owned.building)
    run = services.run_create(by=admin, project=project, period=MARCH)
    plan = services.run_preview(by=admin, run=run)
    assert [bill.amount for bill in plan.bills] == [Decimal("250.00")]  # 100 m² × 2.50
    assert plan.exceptions["no_owner"][0] == 1
    assert unowned.number in plan.exceptions["no_owner"][1][0]
    posted = services.run_execute(run_id=run.pk)
    assert (posted.status, posted.bill_count, posted.total) == ("posted", 1, Decimal("250.00"))
    before = _counts()
    # Posting the same run again, or executing it twice, adds nothing.
    with pytest.raises(ServiceError) as again:
        services.run_post(by=admin, run=posted)
    assert again.value.code == "run_already_posted"
    services.run_execute(run_id=run.pk)
    assert runs.run_write(posted, due_days=30) == []
    assert _counts() == before
    with pytest.raises(ServiceError) as second:
        services.run_create(by=admin, project=project, period=dt.date(2026, 3, 15))
    assert second.value.code == "run_already_posted"


def test_a_unit_added_after_posting_is_billed_by_posting_again_and_nothing_else(admin, project):
    first = fees_support.owned_unit(admin, project=project)
    run = services.run_create(by=admin, project=project, period=MARCH)
    services.run_execute(run_id=run.pk)
    fees_support.owned_unit(admin, building=first.building)
    BillRun.objects.filter(pk=run.pk).update(status="posting")  # a run left half-way (a worker died)
    services.run_execute(run_id=run.pk)
    assert Bill.objects.filter(period=MARCH, account__project=project).count() == 2


def test_meters_are_billed_on_reviewed_readings_with_tiers(admin, project):
    fees_support.tariff(
        admin, project, "water", "3.50", tiers=[(Decimal(15), Decimal("4.50")), (Decimal(25), Decimal(6))]
    )
    unit = fees_support.owned_unit(admin, project=project, area="50.00")
    meter = estate_support.meter(admin, project=project, unit=unit)
    services.reading_record(by=admin, project=project, meter=meter, period=dt.date(2026, 2, 1), reading="1000")
    services.reading_record(by=admin, project=project, meter=meter, period=MARCH, reading="1030")
    bill = fees_support.post_month(admin, project, MARCH).bills.get()
    # 50 m² × 2.50 = 125.00; water 30 m³ = 15 × 3.50 + 10 × 4.50 + 5 × 6.00 = 52.50 + 45.00 + 30.00 = 127.50
    assert sorted(line.amount for line in bill.lines.all()) == [Decimal("125.00"), Decimal("127.50")]
    assert bill.amount == Decimal("252.50")


def test_bills_written_in_copy_text_keep_every_field_as_drafted(admin, project):
    """bills_write builds COPY's text format by hand: tabs, backslashes and line ends in a description,
    empty zone and building, and every column land as drafted."""
    unit = fees_support.owned_unit(admin, project=project)
    account = fees_support.account(unit)
    item = fees_support.item("property")
    awkward = "M\\01\t→ 2\nnew\rline"
    drafts = [
        runs.BillDraft(
            account.pk,
            project.pk,
            None,
            unit.building_id,
            account.label,
            [runs.LineDraft(item.pk, awkward, Decimal("88.5000"), Decimal("2.5000"), Decimal("221.25"))],
        )
    ]
    [bill_id] = runs.bills_write(drafts, run_id=None, period=MARCH, issued_on=MARCH, due_on=APRIL)
    bill = Bill.objects.get(pk=bill_id)
    assert (bill.account_id, bill.period, bill.run_id, bill.issued_on, bill.due_on, bill.amount, bill.note) == (
        account.pk,
        MARCH,
        None,
        MARCH,
        APRIL,
        Decimal("221.25"),
        "",
    )
    line = bill.lines.get()
    assert (line.description, line.quantity, line.unit_price, line.amount, line.meter_reading_id) == (
        awkward,
        Decimal("88.5"),
        Decimal("2.5"),
        Decimal("221.25"),
        None,
    )
    entry = LedgerEntry.objects.get(line=line)
    assert (entry.kind, entry.amount, entry.booked_on, entry.period, entry.reason) == (
        "charge",
        Decimal("221.25"),
        MARCH,
        MARCH,
        "",
    )
    assert (entry.project_id, entry.zone_id, entry.building_id, entry.charge_item_id) == (
        project.pk,
        None,
        unit.building_id,
        item.pk,
    )
    assert runs.bills_write([], run_id=None, period=MARCH, issued_on=MARCH, due_on=APRIL) == []


def test_an_abnormal_reading_waits_for_review(admin, project):
    fees_support.tariff(admin, project, "water", "3.50")
    unit = fees_support.owned_unit(admin, project=project)
    meter = estate_support.meter(admin, project=project, unit=unit)
    for month, value in ((1, "0"), (2, "10"), (3, "20")):
        services.reading_record(by=admin, project=project, meter=meter, period=dt.date(2026, month, 1), reading=value)
    jump = services.reading_record(by=admin, project=project, meter=meter, period=APRIL, reading="60")  # 40 > 3 × 10
    assert jump.flagged
    run = services.run_create(by=admin, project=project, period=APRIL)
    assert services.run_preview(by=admin, run=run).exceptions["reading_abnormal"][0] == 1
    services.reading_review(by=admin, reading=jump)
    assert "reading_abnormal" not in services.run_preview(by=admin, run=run).exceptions


# ------------------------------------------------------------------------------------------ payments
@pytest.fixture
def billed(admin, project):
    """An account with March and April bills of 250.00 each."""
    unit = fees_support.owned_unit(admin, project=project, area="100.00")
    for period in (MARCH, APRIL):
        with time_machine.travel(dt.datetime.combine(period, dt.time(9), tzinfo=dt.UTC), tick=False):
            fees_support.post_month(admin, project, period)
    return fees_support.account(unit)


def test_payment_goes_oldest_first_and_the_rest_becomes_prepayment(admin, billed):
    payment = services.payment_record(by=admin, account=billed, amount="600.00", method="cash", payer_name="王先生")
    statuses = {bill.period: bill.status for bill in selectors.bill_list(viewer=admin, account=billed)}
    assert statuses == {MARCH: "paid", APRIL: "paid"}
    assert selectors.account_get(viewer=admin, account_id=billed.pk).credit == Decimal("100.00")
    assert payment.receipt_number.startswith(str(dt.date.today().year))


def test_part_payment_to_a_chosen_bill(admin, billed):
    april = Bill.objects.get(account=billed, period=APRIL)
    services.payment_record(by=admin, account=billed, amount="100.00", method="wechat", bills=[april])
    statuses = {bill.period: (bill.status, bill.balance) for bill in selectors.bill_list(viewer=admin, account=billed)}
    assert statuses == {MARCH: ("unpaid", Decimal("250.00")), APRIL: ("part_paid", Decimal("150.00"))}


@pytest.mark.parametrize("amount", ["0", "-5.00", "0.001", "abc"])
def test_a_payment_of_no_valid_amount_is_refused_and_changes_nothing(admin, billed, amount):
    before = _counts()
    with pytest.raises(ServiceError) as refused:
        services.payment_record(by=admin, account=billed, amount=amount, method="cash")
    assert refused.value.field == "amount"
    assert _counts() == before


def test_allocating_beyond_a_bill_balance_is_refused(admin, billed):
    line = Bill.objects.get(account=billed, period=MARCH).lines.get()
    before = _counts()
    with pytest.raises(ServiceError) as refused:
        services.payment_record(
            by=admin,
            account=billed,
            amount="300.00",
            method="cash",
            allocations=[services.Allocation(line, Decimal("260.00"))],
        )
    assert refused.value.code == "over_allocated"
    assert _counts() == before


def test_paying_a_bill_of_another_account_or_an_already_paid_bill_is_refused(admin, project, billed):
    other = fees_support.account(fees_support.owned_unit(admin, project=project))
    march = Bill.objects.get(account=billed, period=MARCH)
    with pytest.raises(ServiceError) as foreign:
        services.payment_record(by=admin, account=other, amount="10.00", method="cash", bills=[march])
    assert foreign.value.code == "bill_other_account"
    services.payment_record(by=admin, account=billed, amount="250.00", method="cash", bills=[march])
    with pytest.raises(ServiceError) as paid:
        services.payment_record(by=admin, account=billed, amount="250.00", method="cash", bills=[march])
    assert paid.value.code == "bill_paid"


def test_prepayment_is_applied_to_new_bills_when_the_company_turns_it_on(admin, project):
    unit = fees_support.owned_unit(admin, project=project, area="100.00")
    account = fees_support.account(unit)
    services.payment_record(by=admin, account=account, amount="300.00", method="cash")  # all prepayment
    services.settings_update(by=admin, auto_apply_prepayment=True)
    fees_support.post_month(admin, project, MARCH)
    march = selectors.bill_list(viewer=admin, account=account).get(period=MARCH)
    assert march.status == "paid"
    assert selectors.account_get(viewer=admin, account_id=account.pk).credit == Decimal("50.00")


@time_machine.travel(dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC), tick=False)
def test_collect_three_months_in_advance_plus_prepayment_and_later_runs_skip_them(admin, project):
    unit = fees_support.owned_unit(admin, project=project, area="80.00", owner_from=dt.date(2026, 3, 10))
    account = fees_support.account(unit)
    payment = services.advance_collect(by=admin, account=account, months=3, method="pos", prepayment="500.00")
    # March from the 10th: 80 × 2.50 × 22/31 = 141.935… -> 141.94; April and May 200.00 each; + 500 prepaid.
    assert payment.amount == Decimal("1041.94")
    assert selectors.account_get(viewer=admin, account_id=account.pk).credit == Decimal("500.00")
    run = fees_support.post_month(admin, project, APRIL)
    assert run.bill_count == 0  # April was billed at handover
    assert Bill.objects.filter(account=account).count() == 3


def test_void_reverses_the_payment_and_keeps_the_number(admin, billed):
    payment = services.payment_record(by=admin, account=billed, amount="250.00", method="cash")
    services.payment_void(by=admin, payment=payment, reason="收错户")
    assert selectors.account_get(viewer=admin, account_id=billed.pk).owed == Decimal("500.00")
    receipt = selectors.receipt(payment=payment)
    assert receipt.voided and receipt.void_reason == "收错户"
    with pytest.raises(ServiceError) as again:
        services.payment_void(by=admin, payment=payment, reason="again")
    assert again.value.code == "already_voided"
    nxt = services.payment_record(by=admin, account=billed, amount="1.00", method="cash")
    assert int(nxt.receipt_number) == int(payment.receipt_number) + 1


def test_void_is_refused_once_its_prepayment_is_used(admin, billed):
    services.payment_record(by=admin, account=billed, amount="500.00", method="cash")
    prepaid = services.payment_record(by=admin, account=billed, amount="100.00", method="cash")
    services.refund_record(by=admin, account=billed, amount="60.00", method="cash", reason="业主要求退预存")
    with pytest.raises(ServiceError) as refused:
        services.payment_void(by=admin, payment=prepaid, reason="x")
    assert refused.value.code == "credit_used"


def test_refund_above_what_was_paid_is_refused(admin, billed):
    payment = services.payment_record(by=admin, account=billed, amount="550.00", method="cash")  # 500 owed, 50 prepaid
    before = _counts()
    with pytest.raises(ServiceError) as refused:
        services.refund_record(by=admin, account=billed, payment=payment, amount="550.01", method="cash", reason="多收")
    assert refused.value.code == "refund_too_much"
    with pytest.raises(ServiceError) as credit:
        services.refund_record(by=admin, account=billed, amount="50.01", method="cash", reason="退预存")
    assert credit.value.code == "refund_too_much"
    assert _counts() == before
    # 50.00 of prepayment first, then 20.00 re-opens what the payment paid last (April).
    services.refund_record(by=admin, account=billed, payment=payment, amount="70.00", method="cash", reason="多收")
    statement = selectors.account_get(viewer=admin, account_id=billed.pk)
    assert (statement.owed, statement.credit) == (Decimal("20.00"), Decimal("0.00"))


def test_reversing_a_paid_charge_moves_the_excess_to_prepayment(admin, billed):
    march = Bill.objects.get(account=billed, period=MARCH)
    services.payment_record(by=admin, account=billed, amount="250.00", method="cash", bills=[march])
    services.charge_reverse(by=admin, line=march.lines.get(), amount="50.00", reason="面积更正")
    assert selectors.bill_list(viewer=admin, account=billed).get(period=MARCH).charged == Decimal("200.00")
    assert selectors.account_get(viewer=admin, account_id=billed.pk).credit == Decimal("50.00")
    with pytest.raises(ServiceError) as refused:
        services.charge_reverse(by=admin, line=march.lines.get(), amount="200.01", reason="x")
    assert refused.value.code == "reverse_too_much"


def test_write_off_needs_someone_else_to_approve(admin, company_a, billed):
    line = Bill.objects.get(account=billed, period=MARCH).lines.get()
    request = services.write_off_request(by=admin, line=line, amount="250.00", reason="业主失联五年")
    with pytest.raises(PolicyDenied):
        services.write_off_decide(by=admin, write_off=request, approve=True)
    manager = account_services.user_create(
        email="pm@alpha.test", name="项目经理", password=None, roles=["company_admin"]
    )
    services.write_off_decide(by=manager, write_off=request, approve=True)
    assert selectors.bill_list(viewer=admin, account=billed).get(period=MARCH).status == "paid"
    # Written off, not collected: the collection report does not count it as collected.
    report = selectors.collection_report(viewer=admin, period_from=MARCH, period_to=MARCH, as_of=dt.date(2026, 12, 31))
    assert (report.totals[0].collected, report.totals[0].written_off) == (Decimal("0"), Decimal("250.00"))


def test_one_off_charge_at_the_tariff_price(admin, project, billed):
    fees_support.tariff(admin, project, "owner-card", "50.00")
    bill = services.one_off_charge(by=admin, account=billed, charge_item=fees_support.item("owner-card"), quantity=2)
    assert (bill.kind, bill.amount) == ("one_off", Decimal("100.00"))
    with pytest.raises(ServiceError) as periodic:
        services.one_off_charge(by=admin, account=billed, charge_item=fees_support.item("property"))
    assert periodic.value.code == "item_periodic"


def test_chase_record_keeps_what_was_owed_then(admin, billed):
    chase = services.chase_record(
        by=admin, account=billed, channel="phone", result="答应月底交", promised_on=dt.date.today()
    )
    assert chase.owed == Decimal("500.00")
    with pytest.raises(ServiceError) as past:
        services.chase_record(by=admin, account=billed, channel="phone", promised_on=dt.date(2020, 1, 1))
    assert past.value.code == "promise_in_past"


def test_collection_rate_and_recovery_on_a_worked_example(admin, billed):
    """March 250 and April 250. Paid in March: 100 of March. Paid in April: 150 of March (recovery) and 200
    of April. March: billed 250, collected in March 100 -> 40.00 %; to date 250 -> 100 %. April: billed
    250, collected in April 200 -> 80.00 %; arrears at the start of April 150, recovered 150 -> 100 %."""
    march = Bill.objects.get(account=billed, period=MARCH)
    april = Bill.objects.get(account=billed, period=APRIL)
    with time_machine.travel(dt.datetime(2026, 3, 20, 9, tzinfo=dt.UTC), tick=False):
        services.payment_record(by=admin, account=billed, amount="100.00", method="cash", bills=[march])
    with time_machine.travel(dt.datetime(2026, 4, 20, 9, tzinfo=dt.UTC), tick=False):
        services.payment_record(by=admin, account=billed, amount="150.00", method="cash", bills=[march])
        services.payment_record(by=admin, account=billed, amount="200.00", method="cash", bills=[april])
    report = selectors.collection_report(viewer=admin, period_from=MARCH, period_to=APRIL, as_of=dt.date(2026, 5, 1))
    m, a = report.totals
    assert (m.billed, m.collected_in_period, m.rate_in_period, m.rate) == (
        Decimal("250.00"),
        Decimal("100.00"),
        Decimal("40.00"),
        Decimal("100.00"),
    )
    assert (a.billed, a.collected_in_period, a.rate_in_period) == (
        Decimal("250.00"),
        Decimal("200.00"),
        Decimal("80.00"),
    )
    assert (a.arrears_at_start, a.recovered, a.recovery_rate) == (
        Decimal("150.00"),
        Decimal("150.00"),
        Decimal("100.00"),
    )


def test_the_report_sums_follow_the_ledger_and_fold_into_one_row_per_group(admin, project, billed):
    """March and April billed 250.00 each (9:00 on the 1st). Two payments of 100.00 to March on 10 and
    20 May: each INSERT adds its own row to the group (March, payment, booked in May); folding leaves one
    row of -200.00 last booked on the 20th, and the report says the same before and after."""
    march = Bill.objects.get(account=billed, period=MARCH)
    for day in (10, 20):
        with time_machine.travel(dt.datetime(2026, 5, day, 9, tzinfo=dt.UTC), tick=False):
            services.payment_record(by=admin, account=billed, amount="100.00", method="cash", bills=[march])
    group = CollectionSum.objects.filter(project=project, period=MARCH, kind="payment")
    assert sorted(group.values_list("booked_month", "amount", "last_booked_on")) == [
        (dt.date(2026, 5, 1), Decimal("-100.00"), dt.date(2026, 5, 10)),
        (dt.date(2026, 5, 1), Decimal("-100.00"), dt.date(2026, 5, 20)),
    ]
    assert set(CollectionSum.objects.filter(project=project, kind="charge").values_list("period", "amount")) == {
        (MARCH, Decimal("250.00")),
        (APRIL, Decimal("250.00")),
    }

    def figures() -> list[tuple]:
        report = selectors.collection_report(
            viewer=admin, period_from=MARCH, period_to=APRIL, project=project.pk, as_of=dt.date(2026, 5, 31)
        )
        return [(r.period, r.billed, r.collected, r.arrears_at_start, r.recovered) for r in report.rows]

    before = figures()
    assert before == [
        (MARCH, Decimal("250.00"), Decimal("200.00"), ZERO, ZERO),
        (APRIL, Decimal("250.00"), ZERO, Decimal("250.00"), ZERO),
    ]
    assert services.collection_sums_compact() >= 1
    assert list(group.values_list("booked_month", "amount", "last_booked_on")) == [
        (dt.date(2026, 5, 1), Decimal("-200.00"), dt.date(2026, 5, 20)),
    ]
    assert services.collection_sums_compact() == 0
    assert figures() == before
    # As of 15 May (inside a month whose sums run to the 20th) only the first payment counts.
    mid_may = selectors.collection_report(
        viewer=admin, period_from=MARCH, period_to=MARCH, project=project.pk, as_of=dt.date(2026, 5, 15)
    )
    assert [(r.billed, r.collected) for r in mid_may.rows] == [(Decimal("250.00"), Decimal("100.00"))]


def test_a_zone_manager_cannot_take_payments_outside_their_zones(admin, project, billed):
    from modules.staff import services as staff_services

    zone = estate_support.zone(admin, project=project)
    user = account_services.user_create(email="zm@alpha.test", name="分区", password=None, roles=["zone_manager"])
    staff_services.staff_member_set(by=admin, user=user, project=project, zones=[zone])
    with pytest.raises(PolicyDenied):
        services.payment_record(by=user, account=billed, amount="10.00", method="cash")
    assert not selectors.account_list(viewer=user).filter(pk=billed.pk).exists()


def test_beat_starts_each_project_run_on_the_company_run_day_once(admin, project):
    from modules.fees import tasks

    fees_support.owned_unit(admin, project=project)
    services.settings_update(by=admin, run_day=5, auto_run=True)
    with time_machine.travel(dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC), tick=False):
        assert tasks.monthly_runs() == 0  # before the run day
    with time_machine.travel(dt.datetime(2026, 3, 5, 9, tzinfo=dt.UTC), tick=False):
        started = services.runs_due()
        assert [run.project_id for run in started if run.project_id == project.pk] == [project.pk]
        assert services.runs_due() == []  # the next tick finds the runs made
    run = BillRun.objects.get(project=project, period=MARCH)
    services.run_execute(run_id=run.pk)
    assert Bill.objects.filter(run=run).count() == 1


def test_no_automatic_runs_unless_the_company_turns_them_on(admin, project):
    with time_machine.travel(dt.datetime(2026, 3, 20, 9, tzinfo=dt.UTC), tick=False):
        assert services.runs_due() == []


def test_a_deposit_is_held_apart_and_returned_less_deductions(admin, project, billed):
    fees_support.tariff(admin, project, "renovation-deposit", "2000.00")
    deposit = services.one_off_charge(by=admin, account=billed, charge_item=fees_support.item("renovation-deposit"))
    line = deposit.lines.get()
    with pytest.raises(ServiceError) as unpaid:
        services.deposit_return(by=admin, line=line, method="cash", reason="装修完工")
    assert unpaid.value.code == "deposit_unpaid"
    services.payment_record(by=admin, account=billed, amount="2000.00", method="cash", bills=[deposit])
    assert [(held.pk, held.held) for held in selectors.deposits_held(viewer=admin)] == [(line.pk, Decimal("2000.00"))]
    # Deposits are not income: the collection report of the month does not count them.
    report = selectors.collection_report(viewer=admin, period_from=dt.date.today(), period_to=dt.date.today())
    assert report.totals[0].billed == Decimal("0")
    with pytest.raises(ServiceError) as too_much:
        services.deposit_return(by=admin, line=line, method="cash", reason="x", amount="2000.01")
    assert too_much.value.code == "refund_too_much"
    # 300.00 kept for a damaged lift car panel; 1,700.00 paid back.
    refund = services.deposit_return(
        by=admin, line=line, method="bank_transfer", reason="扣除电梯轿厢损坏", amount="1700.00"
    )
    assert refund.amount == Decimal("1700.00")
    assert list(selectors.deposits_held(viewer=admin)) == []
    account = selectors.account_get(viewer=admin, account_id=billed.pk)
    assert (account.owed, account.credit) == (Decimal("500.00"), Decimal("0.00"))  # March and April untouched


def test_making_accounts_leaves_the_planner_as_it_was(admin, project):
    """accounts_ensure turns nested loops off for its two statements only: inside a caller's transaction
    (a payment, a test) every later query would otherwise plan without them (a test went 11 s -> 6 min)."""
    from django.db import connection

    fees_support.owned_unit(admin, project=project)
    assert services.accounts_ensure(project_id=project.pk) == 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_nestloop")
        assert cursor.fetchone()[0] == "on"
