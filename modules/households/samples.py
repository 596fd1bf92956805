"""Sample owners for the demo company of `make dev`, and one owner who can sign in to the owner portal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from modules.estate.models import Unit

from . import services

OWNER = ("owner@demo.localhost", "wuye-owner-2026")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"


def households_sample(admin: Any) -> None:
    from wuye.accounts.models import User

    units = list(Unit.objects.filter(project__code="sfhy", status="occupied").order_by("building__name", "number")[:40])
    for index, unit in enumerate(units):
        name = SURNAMES[index % len(SURNAMES)] + GIVEN[(index * 7) % len(GIVEN)]
        email = OWNER[0] if index == 0 else ""
        person = services.person_create(by=admin, name=name, phone=f"139{index:08d}", email=email)
        since = dt.date(2019 + index % 5, 1 + index % 12, 1)
        services.ownership_add(by=admin, unit=unit, person=person, share=Decimal("100"), starts_on=since)
        services.occupancy_move_in(by=admin, unit=unit, person=person, on=since)
        if index % 3 == 0:
            family = services.person_create(by=admin, name=name[0] + "小" + GIVEN[index % len(GIVEN)])
            services.occupancy_move_in(by=admin, unit=unit, person=family, relation="family", on=since)
        if index == 0:
            services.owner_invite(by=admin, person=person)
            user = User.objects.get(email=OWNER[0])
            user.set_password(OWNER[1])
            user.save(update_fields=["password"])
