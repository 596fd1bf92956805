"""What a bill charges, worked out by hand in the comments and compared with the engine: proration by days
of ownership, February, a sale in the middle of a month, tiered utilities, rounding half-up to the fen once
per line, meters with a multiplier, meter replacements, and abnormal readings held for review.

The pure arithmetic (modules.fees.calculation) is tested on its own first; then the same cases go through
the real plan of a bill run (runs.plan_make) and the real meter readings (services.reading_record)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from modules.estate.models import Meter
from modules.fees import calculation, runs, services
from modules.fees.models import Bill, BillLine, MeterReading
from modules.households import services as households_services
from modules.households.models import Ownership
from tests.support import estate as estate_support
from tests.support import fees as fees_support
from tests.support import households as households_support
from wuye.core.errors import ServiceError
from wuye.testing.plugin import CompanyFixture, in_company

D = Decimal
MAR = dt.date(2026, 3, 1)
WATER_TIERS = [(D("15"), D("4.50")), (D("25"), D("6.00"))]  # 0–15 at 3.50 (the tariff's own), 15–25, above 25


# ------------------------------------------------------------------------------------------ pure arithmetic
class TestRounding:
    def test_half_up_to_the_fen(self) -> None:
        assert calculation.fen(D("0.005")) == D("0.01")  # half a fen goes up
        assert calculation.fen(D("0.0049999")) == D("0.00")  # just under half goes down
        assert calculation.fen(D("1.2349")) == D("1.23")
        # 2.675 is exact in Decimal (a float would be 2.67499999... and round down): half-up gives 2.68.
        assert calculation.fen(D("2.675")) == D("2.68")
        assert calculation.fen(D("49.995")) == D("50.00")
        assert calculation.fen(D("7")) == D("7.00")

    def test_proration_rounds_once_not_per_day(self) -> None:
        # 89.50 m² × 2.50 yuan = 223.75 a month; 16 of 31 days: 223.75 × 16 / 31 = 3580 / 31 = 115.4838… → 115.48.
        # Rounding the daily rate first would give 223.75 / 31 = 7.2177… → 7.22, × 16 = 115.52: wrong.
        assert calculation.prorated(D("89.50"), D("2.50"), 16, 31) == D("115.48")
        # A whole month is the monthly charge itself, with no division at all.
        assert calculation.prorated(D("89.50"), D("2.50"), 31, 31) == D("223.75")
        # 100 m² × 2.50 × 15/29 (15 days of a leap February) = 3750 / 29 = 129.3103… → 129.31.
        assert calculation.prorated(D("100"), D("2.50"), 15, 29) == D("129.31")

    def test_tiers_round_once_for_the_whole_quantity(self) -> None:
        # Two bands with half-fen prices: 1 × 1.005 + 1 × 2.005 = 3.010 → 3.01. Rounding each band first
        # would give 1.01 + 2.01 = 3.02.
        assert calculation.tiered(D("2"), D("1.005"), [(D("1"), D("2.005"))]) == D("3.01")


class TestTiers:
    @pytest.mark.parametrize(
        ("used", "expected"),
        [
            # 30 m³: 15 × 3.50 + 10 × 4.50 + 5 × 6.00 = 52.50 + 45.00 + 30.00 = 127.50
            ("30", "127.50"),
            # 10 m³, all in the first band: 10 × 3.50 = 35.00
            ("10", "35.00"),
            # exactly 15: still all first band: 52.50
            ("15", "52.50"),
            # 15.001: 52.50 + 0.001 × 4.50 = 52.5045 → 52.50
            ("15.001", "52.50"),
            # exactly 25: 52.50 + 10 × 4.50 = 97.50
            ("25", "97.50"),
            # 17.25: 52.50 + 2.25 × 4.50 = 52.50 + 10.125 = 62.625 → 62.63 (half-up)
            ("17.25", "62.63"),
            # 0.333: 0.333 × 3.50 = 1.1655 → 1.17
            ("0.333", "1.17"),
        ],
    )
    def test_water_tiers(self, used: str, expected: str) -> None:
        assert calculation.tiered(D(used), D("3.50"), WATER_TIERS) == D(expected)

    def test_tiers_in_any_order(self) -> None:
        assert calculation.tiered(D("30"), D("3.50"), list(reversed(WATER_TIERS))) == D("127.50")

    def test_no_tiers_is_a_flat_price(self) -> None:
        # 371.1 kWh × 0.5683 = 210.89613 → 210.90
        assert calculation.tiered(D("371.1"), D("0.5683"), []) == D("210.90")


class TestDays:
    def test_days_of_months(self) -> None:
        assert calculation.days_in_month(dt.date(2026, 3, 1)) == 31
        assert calculation.days_in_month(dt.date(2026, 2, 1)) == 28
        assert calculation.days_in_month(dt.date(2028, 2, 1)) == 29  # leap year
        assert calculation.days_in_month(dt.date(2100, 2, 1)) == 28  # divisible by 100, not by 400
        assert calculation.days_in_month(dt.date(2000, 2, 1)) == 29  # divisible by 400
        assert calculation.month_after(dt.date(2026, 12, 1)) == dt.date(2027, 1, 1)

    def test_covered_days(self) -> None:
        # Owned from the 16th of March: the 16th to the 31st inclusive = 16 days.
        assert calculation.covered_days(MAR, [(dt.date(2026, 3, 16), None)]) == 16
        # Sold on the 16th: the seller's [1st, 16th) = 15 days and the buyer's [16th, …) = 16: all 31, once.
        spans = [(dt.date(2020, 5, 1), dt.date(2026, 3, 16)), (dt.date(2026, 3, 16), None)]
        assert calculation.covered_days(MAR, spans) == 31
        # Two co-owners from the same day count each day once: 16, not 32.
        assert calculation.covered_days(MAR, [(dt.date(2026, 3, 16), None)] * 2) == 16
        # A gap between owners: [1st, 10th) = 9 days and [20th, …) = 12 days = 21.
        spans = [(dt.date(2026, 1, 1), dt.date(2026, 3, 10)), (dt.date(2026, 3, 20), None)]
        assert calculation.covered_days(MAR, spans) == 21
        # Ended before the month, or starting after it: nothing.
        assert calculation.covered_days(MAR, [(dt.date(2026, 1, 1), MAR), (dt.date(2026, 4, 1), None)]) == 0
        # A leap February owned from the 15th: the 15th to the 29th = 15 days.
        assert calculation.covered_days(dt.date(2028, 2, 1), [(dt.date(2028, 2, 15), None)]) == 15
        # One owner alone (the short path): sold on the 10th = [1st, 10th) = 9 days; owned all month = 31;
        # ended before the month or starting after it = 0; no owner at all = 0.
        assert calculation.covered_days(MAR, [(dt.date(2026, 2, 1), dt.date(2026, 3, 10))]) == 9
        assert calculation.covered_days(MAR, [(dt.date(2020, 1, 1), None)]) == 31
        assert calculation.covered_days(MAR, [(dt.date(2026, 1, 1), dt.date(2026, 2, 1))]) == 0
        assert calculation.covered_days(MAR, [(dt.date(2026, 4, 2), None)]) == 0
        assert calculation.covered_days(MAR, []) == 0


# ------------------------------------------------------------------------------------------ through a bill run
def _lines(project: Any, period: dt.date, unit: Any) -> list[runs.LineDraft]:
    """The lines the run's plan bills the unit's account for the month."""
    plan = fees_support.plan(project, period)
    account = fees_support.account(unit)
    return [line for bill in plan.bills if bill.account_id == account.pk for line in bill.lines]


def _amounts(project: Any, period: dt.date, unit: Any) -> list[Decimal]:
    return [line.amount for line in _lines(project, period, unit)]


def test_proration_by_days_of_ownership(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        project = estate_support.project(admin)
        fees_support.tariff(admin, project, "property", "2.50")
        building = estate_support.building(admin, project=project)
        late = fees_support.owned_unit(admin, building=building, area="89.50", owner_from=dt.date(2026, 3, 16))
        whole = fees_support.owned_unit(admin, building=building, area="89.50", owner_from=dt.date(2026, 3, 1))
        nobody = estate_support.unit(admin, building=building)
        plan = fees_support.plan(project, MAR)
        # 89.50 × 2.50 × 16/31 = 3580 / 31 = 115.4838… → 115.48
        [line] = _lines(project, MAR, late)
        assert line.amount == D("115.48")
        assert line.quantity == D("89.50") and line.unit_price == D("2.50")
        assert "16/31" in line.description
        # Owned from the 1st: the whole month, 89.50 × 2.50 = 223.75.
        assert _amounts(project, MAR, whole) == [D("223.75")]
        # No owner in the month: not billed, listed as an exception.
        assert _amounts(project, MAR, nobody) == []
        assert plan.exceptions["no_owner"][0] == 1
        # Posted, the bill carries exactly the plan's amount.
        fees_support.post_month(admin, project, MAR)
        assert Bill.objects.get(account=fees_support.account(late)).amount == D("115.48")


def test_february_of_28_and_of_29_days(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        project = estate_support.project(admin)
        fees_support.tariff(admin, project, "property", "2.50")
        building = estate_support.building(admin, project=project)
        feb_2026, feb_2028 = dt.date(2026, 2, 1), dt.date(2028, 2, 1)
        from_15th = fees_support.owned_unit(admin, building=building, area="100.00", owner_from=dt.date(2026, 2, 15))
        # 2026 is not a leap year: the 15th to the 28th = 14 of 28 days: 100 × 2.50 × 14/28 = 125.00.
        assert _amounts(project, feb_2026, from_15th) == [D("125.00")]
        # Owned since then, February 2028 is whole: 250.00, though it has 29 days.
        assert _amounts(project, feb_2028, from_15th) == [D("250.00")]
        leap = fees_support.owned_unit(admin, building=building, area="100.00", owner_from=dt.date(2028, 2, 15))
        # 2028 is a leap year: the 15th to the 29th = 15 of 29 days: 250 × 15/29 = 3750/29 = 129.3103… → 129.31.
        assert _amounts(project, feb_2028, leap) == [D("129.31")]
        # Sold back with no buyer on the 29th: the 1st to the 28th = 28 of 29 days: 250 × 28/29 = 241.379… → 241.38.
        gone = fees_support.owned_unit(admin, building=building, area="100.00", owner_from=dt.date(2027, 6, 1))
        households_services.ownership_end(by=admin, ownership=Ownership.objects.get(unit=gone), on=dt.date(2028, 2, 29))
        assert _amounts(project, feb_2028, gone) == [D("241.38")]
        # And a whole February of 28 days is the whole monthly charge (not 28/31 of it).
        assert _amounts(project, feb_2026, gone) == []  # not owned yet in 2026
        assert _amounts(project, dt.date(2027, 6, 1), gone) == [D("250.00")]


def test_a_sale_in_the_middle_of_the_month_bills_the_month_once(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        project = estate_support.project(admin)
        fees_support.tariff(admin, project, "property", "2.50")
        building = estate_support.building(admin, project=project)
        sold = fees_support.owned_unit(admin, building=building, area="89.50", owner_from=dt.date(2025, 5, 1))
        households_services.ownership_transfer(
            by=admin, unit=sold, on=dt.date(2026, 3, 16), owners=[(households_support.person(admin), D("100"))]
        )
        assert Ownership.objects.filter(unit=sold).count() == 2
        # Seller 1st–15th (15 days) + buyer 16th–31st (16 days) = 31 days: one line for the whole month,
        # 89.50 × 2.50 = 223.75; not two prorated lines, and not 15/31 + 16/31 rounded separately.
        [line] = _lines(project, MAR, sold)
        assert line.amount == D("223.75")
        assert "/31" not in line.description
        # A gap between two owners: the seller leaves on the 10th, the buyer arrives on the 20th:
        # [1st, 10th) = 9 days + [20th, 1st of April) = 12 days = 21 days: 223.75 × 21/31 = 4698.75/31
        # = 151.5725… → 151.57.
        gap = fees_support.owned_unit(admin, building=building, area="89.50", owner_from=dt.date(2025, 5, 1))
        households_services.ownership_end(by=admin, ownership=Ownership.objects.get(unit=gap), on=dt.date(2026, 3, 10))
        households_support.owner(admin, gap, on=dt.date(2026, 3, 20))
        [line] = _lines(project, MAR, gap)
        assert line.amount == D("151.57")
        assert "21/31" in line.description
        fees_support.post_month(admin, project, MAR)
        account = fees_support.account(sold)
        assert [b.amount for b in Bill.objects.filter(account=account)] == [D("223.75")]
        assert BillLine.objects.filter(account=account).count() == 1


def _reading(admin: Any, project: Any, meter: Any, month: int, value: str, **replacement: Any) -> MeterReading:
    """Record a reading as the desk and the API do: with the meter as read from the database (its multiplier
    then carries the column's four decimal places, 30.0000, not the 30 it was made with)."""
    return services.reading_record(
        by=admin,
        project=project,
        meter=Meter.objects.get(pk=meter.pk),
        period=dt.date(2026, month, 1),
        reading=value,
        **replacement,
    )


def _water_project(admin: Any) -> Any:
    project = estate_support.project(admin)
    fees_support.tariff(admin, project, "water", "3.50", tiers=WATER_TIERS)
    return project


def test_tiered_water_through_a_real_meter(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        project = _water_project(admin)
        unit = estate_support.unit(admin, building=estate_support.building(admin, project=project))
        meter = estate_support.meter(admin, project=project, unit=unit)
        _reading(admin, project, meter, 1, "100.00")  # the baseline: nothing billed
        assert _amounts(project, dt.date(2026, 1, 1), unit) == []
        feb = _reading(admin, project, meter, 2, "130.00")
        # 130 − 100 = 30 m³: 15 × 3.50 + 10 × 4.50 + 5 × 6.00 = 52.50 + 45.00 + 30.00 = 127.50
        assert feb.consumption == D("30")
        [line] = _lines(project, dt.date(2026, 2, 1), unit)
        assert (line.quantity, line.amount, line.meter_reading_id) == (D("30"), D("127.50"), feb.pk)


def test_rounding_once_per_line_and_the_bill_is_the_sum_of_its_lines(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        project = _water_project(admin)
        fees_support.tariff(admin, project, "property", "1.50")
        unit = fees_support.owned_unit(admin, project=project, area="33.33", owner_from=dt.date(2025, 1, 1))
        meter = estate_support.meter(admin, project=project, unit=unit)
        _reading(admin, project, meter, 1, "10.000")
        _reading(admin, project, meter, 2, "10.333")
        feb = dt.date(2026, 2, 1)
        # Property: 33.33 × 1.50 = 49.995, exactly half a fen: up to 50.00.
        # Water: 0.333 m³ × 3.50 = 1.1655 → 1.17.
        assert sorted(_amounts(project, feb, unit)) == [D("1.17"), D("50.00")]
        fees_support.post_month(admin, project, feb)
        bill = Bill.objects.get(account=fees_support.account(unit), period=feb)
        # The bill is the sum of the rounded lines, 50.00 + 1.17 = 51.17, not re-rounded from the exact
        # values (49.995 + 1.1655 = 51.1605 → 51.16).
        assert bill.amount == D("51.17")
        assert sum(line.amount for line in BillLine.objects.filter(bill=bill)) == D("51.17")


def test_a_meter_with_a_multiplier(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        project = estate_support.project(admin)
        fees_support.tariff(admin, project, "electricity", "0.5683")
        unit = estate_support.unit(admin, building=estate_support.building(admin, project=project))
        meter = estate_support.meter(
            admin, project=project, unit=unit, kind="electricity", serial="E-CT30", multiplier=D("30")
        )
        _reading(admin, project, meter, 1, "1000.00")
        feb = _reading(admin, project, meter, 2, "1012.37")
        # (1012.37 − 1000.00) × 30 = 12.37 × 30 = 371.10 kWh; × 0.5683 = 210.89613 → 210.90
        assert feb.consumption == D("371.1")
        [line] = _lines(project, dt.date(2026, 2, 1), unit)
        assert (line.quantity, line.amount) == (D("371.1"), D("210.90"))
        # A consumption beyond four places is kept to four (the column's), half-up: 0 → 12.3457 on a
        # multiplier of 2.5 is 30.86425 → 30.8643; × 0.5683 = 17.54018169 → 17.54.
        odd = estate_support.meter(admin, project=project, unit=unit, kind="electricity", multiplier=D("2.5"))
        _reading(admin, project, odd, 1, "0")
        assert _reading(admin, project, odd, 2, "12.3457").consumption == D("30.8643")
        assert sorted(_amounts(project, dt.date(2026, 2, 1), unit)) == [D("17.54"), D("210.90")]


def test_a_meter_replacement(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        project = _water_project(admin)
        fees_support.tariff(admin, project, "electricity", "0.5683")
        building = estate_support.building(admin, project=project)
        unit = estate_support.unit(admin, building=building)
        water = estate_support.meter(admin, project=project, unit=unit)
        _reading(admin, project, water, 1, "980.00")
        _reading(admin, project, water, 2, "990.50")  # 10.50 m³
        # Refusals first (nothing is recorded): a lower reading without a replacement...
        with pytest.raises(ServiceError) as caught:
            _reading(admin, project, water, 3, "12.25")
        assert caught.value.code == "reading_below_previous"
        # ...an old meter's final reading below its previous reading...
        with pytest.raises(ServiceError) as caught:
            _reading(admin, project, water, 3, "12.25", replaced=True, old_final="990.00", new_start="0")
        assert (caught.value.code, caught.value.field) == ("reading_below_previous", "old_final")
        # ...and a reading below the new meter's start.
        with pytest.raises(ServiceError) as caught:
            _reading(admin, project, water, 3, "12.25", replaced=True, old_final="995.50", new_start="13")
        assert caught.value.code == "reading_below_start"
        assert MeterReading.objects.filter(meter=water).count() == 2
        # Replaced in March: the old meter ran from 990.50 to 995.50 (5.00), the new one from 0 to 12.25:
        # (995.50 − 990.50) + (12.25 − 0) = 5.00 + 12.25 = 17.25 m³.
        march = _reading(admin, project, water, 3, "12.25", replaced=True, old_final="995.50", new_start="0")
        assert (march.consumption, march.previous, march.flagged) == (D("17.25"), D("990.50"), False)
        # 17.25 m³: 15 × 3.50 + 2.25 × 4.50 = 52.50 + 10.125 = 62.625 → 62.63
        assert _amounts(project, dt.date(2026, 3, 1), unit) == [D("62.63")]
        # April follows the new meter: 20.00 − 12.25 = 7.75 m³ × 3.50 = 27.125 → 27.13
        april = _reading(admin, project, water, 4, "20.00")
        assert (april.previous, april.consumption) == (D("12.25"), D("7.75"))
        assert _amounts(project, dt.date(2026, 4, 1), unit) == [D("27.13")]

        # With a multiplier: ((old_final − previous) + (reading − new_start)) × multiplier.
        other = estate_support.unit(admin, building=building)
        power = estate_support.meter(
            admin, project=project, unit=other, kind="electricity", serial="E-X2.5", multiplier=D("2.5")
        )
        _reading(admin, project, power, 1, "500.0")
        swapped = _reading(admin, project, power, 2, "10.0", replaced=True, old_final="520.4", new_start="3.0")
        # ((520.4 − 500.0) + (10.0 − 3.0)) × 2.5 = (20.4 + 7.0) × 2.5 = 27.4 × 2.5 = 68.5 kWh;
        # × 0.5683 = 38.92855 → 38.93
        assert swapped.consumption == D("68.5")
        assert _amounts(project, dt.date(2026, 2, 1), other) == [D("38.93")]
        # A meter's first reading has nothing to replace.
        fresh = estate_support.meter(admin, project=project, unit=other)
        with pytest.raises(ServiceError) as caught:
            _reading(admin, project, fresh, 1, "5", replaced=True, old_final="1", new_start="0")
        assert caught.value.code == "replacement_without_previous"


def test_an_abnormal_reading_waits_for_review(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        project = _water_project(admin)
        building = estate_support.building(admin, project=project)
        over, at = estate_support.unit(admin, building=building), estate_support.unit(admin, building=building)
        meters = {
            "over": estate_support.meter(admin, project=project, unit=over),
            "at": estate_support.meter(admin, project=project, unit=at),
        }
        # Both meters: baseline 0 in January; then consumptions 100 (Feb), 10, 12, 8, 10, 14, 6 (Mar–Aug).
        history = ["0", "100", "110", "122", "130", "140", "154", "160"]
        for name, meter in meters.items():
            for month, value in enumerate(history, start=1):
                recorded = _reading(admin, project, meter, month, value)
                # February's 100 has no history to compare with, and March's 10 is far below 3 × 100.
                assert not recorded.flagged, (name, month)
        # The last six consumptions (Mar–Aug): 10 + 12 + 8 + 10 + 14 + 6 = 60, average 10; three times
        # that is 30. (All seven, with February's 100, would average 160/7 = 22.86, × 3 = 68.57.)
        sep = dt.date(2026, 9, 1)
        flagged = _reading(admin, project, meters["over"], 9, "191")  # 31 m³ > 30: abnormal
        normal = _reading(admin, project, meters["at"], 9, "190")  # 30 m³ is not above 30
        assert (flagged.consumption, flagged.flagged) == (D("31"), True)
        assert (normal.consumption, normal.flagged) == (D("30"), False)
        # The flagged reading is not billed until someone reviews it; the normal one is:
        # 30 m³ = 15 × 3.50 + 10 × 4.50 + 5 × 6.00 = 127.50.
        plan = fees_support.plan(project, sep)
        assert plan.exceptions["reading_abnormal"][0] == 1
        assert _amounts(project, sep, over) == []
        assert _amounts(project, sep, at) == [D("127.50")]
        services.reading_review(by=admin, reading=flagged)
        # Reviewed: 31 m³ = 52.50 + 45.00 + 6 × 6.00 = 133.50.
        assert _amounts(project, sep, over) == [D("133.50")]
        assert "reading_abnormal" not in fees_support.plan(project, sep).exceptions


def test_the_abnormal_average_counts_the_multiplier(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        project = estate_support.project(admin)
        unit = estate_support.unit(admin, building=estate_support.building(admin, project=project))
        meter = estate_support.meter(admin, project=project, unit=unit, kind="electricity", multiplier=D("10"))
        # Readings 0, 5, 10: consumptions (5 − 0) × 10 = 50 and (10 − 5) × 10 = 50; average 50, limit 150.
        for month, value in enumerate(["0", "5", "10"], start=1):
            _reading(admin, project, meter, month, value)
        # 10 → 25: 15 × 10 = 150, not above the limit; then 25 → 60: 35 × 10 = 350 > 3 × average(50, 50, 150)
        # = 3 × 83.33… = 250.
        assert _reading(admin, project, meter, 4, "25").flagged is False
        assert _reading(admin, project, meter, 5, "60").flagged is True
