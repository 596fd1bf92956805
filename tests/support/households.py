"""Households records for tests, made through the real services."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from modules.households import services
from modules.households.models import Occupancy, Ownership, Person

_numbers = itertools.count(1)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643
CHECK_CHARACTERS = "10X98765432"


def resident_id(body: str) -> str:
    """A resident ID number with its check character worked out by the standard's rule (not by the code
    under test)."""
    return body + CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def person(by: Any, **values: Any) -> Person:
    n = next(_numbers)
    return services.person_create(by=by, **({"name": f"业主{n}", "phone": f"1380013{n:04d}"} | values))


def owner(
    by: Any, unit: Any, *, share: Decimal = Decimal("100"), on: dt.date | None = None, **values: Any
) -> Ownership:
    return services.ownership_add(
        by=by,
        unit=unit,
        person=values.pop("who", None) or person(by, **values),
        share=share,
        starts_on=on or dt.date(2024, 1, 1),
    )


def occupant(by: Any, unit: Any, *, relation: str = "owner", on: dt.date | None = None, **values: Any) -> Occupancy:
    return services.occupancy_move_in(
        by=by,
        unit=unit,
        person=values.pop("who", None) or person(by, **values),
        relation=relation,
        on=on or dt.date(2024, 1, 1),
    )
