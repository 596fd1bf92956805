"""The arithmetic of fees, with no database: months, proration by days, tiers, rounding.

Rounding is half-up to the fen, once, at the line level (ARCHITECTURE.md, Money): every intermediate
value is exact (Decimal), only the line's amount is rounded.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


def fen(value: Decimal) -> Decimal:
    """Half-up to the fen: 0.005 -> 0.01, 1.2349 -> 1.23, 2.675 -> 2.68."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_after(period: dt.date, months: int = 1) -> dt.date:
    index = period.year * 12 + period.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def days_in_month(period: dt.date) -> int:
    return calendar.monthrange(period.year, period.month)[1]


def covered_days(period: dt.date, spans: Sequence[tuple[dt.date, dt.date | None]]) -> int:
    """Days of the month `period` that fall in at least one half-open span [start, end) (end None: open).
    Two owners of one unit, or an owner who sold and bought back, count each day once."""
    first, after = period, month_after(period)
    if len(spans) == 1:  # most units: one owner, nothing to merge (a bill run asks 100,000 times)
        start, end = spans[0]
        return max((min(end or after, after) - max(start, first)).days, 0)
    days: set[int] = set()
    for start, end in spans:
        lo = max(start, first)
        hi = min(end or after, after)
        if lo < hi:
            days.update(range(lo.toordinal(), hi.toordinal()))
    return len(days)


def prorated(quantity: Decimal, unit_price: Decimal, days: int, month_days: int) -> Decimal:
    """A monthly charge for `days` of a month of `month_days` days: quantity × price × days / month_days."""
    if days >= month_days:
        return fen(quantity * unit_price)
    return fen(quantity * unit_price * days / month_days)


def tiered(quantity: Decimal, base_price: Decimal, tiers: Sequence[tuple[Decimal, Decimal]]) -> Decimal:
    """A tiered (阶梯) charge for `quantity`: up to the first threshold at `base_price`, each band above a
    threshold at its own price. `tiers` are (starts_above, unit_price), in any order."""
    total = Decimal(0)
    bands = sorted(tiers)
    lower, price = Decimal(0), base_price
    for threshold, next_price in bands:
        if quantity <= threshold:
            break
        total += (threshold - lower) * price
        lower, price = threshold, next_price
    total += (quantity - lower) * price
    return fen(total)


# A reading whose consumption is more than ABNORMAL_FACTOR times the meter's average over its last
# AVERAGE_OF consumptions waits for someone to review it before it is billed.
ABNORMAL_FACTOR = Decimal(3)
AVERAGE_OF = 6
QUANTITY_STEP = Decimal("0.0001")


def metered(used: Decimal, multiplier: Decimal) -> Decimal:
    """What a meter's dials moved by, times its multiplier, kept to four places (the column's: a reading
    and a multiplier carry four places each, and their product eight)."""
    return (used * multiplier).quantize(QUANTITY_STEP, rounding=ROUND_HALF_UP)


def abnormal(consumption: Decimal | None, recent: Sequence[Decimal]) -> bool:
    """Whether `consumption` is more than ABNORMAL_FACTOR × the average of `recent` (the meter's last
    consumptions); a baseline, a zero consumption or a meter with no history is never abnormal."""
    if consumption is None or consumption == 0 or not recent:
        return False
    average = sum(recent, Decimal(0)) / len(recent)
    return average > 0 and consumption > ABNORMAL_FACTOR * average
