"""Sample fees for the demo company of `make dev`: tariffs of the sample project, a posted month, a payment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from modules.estate.models import Project

from . import services
from .models import ChargeItem


def fees_sample(admin: Any) -> None:
    project = Project.objects.get(code="sfhy")
    start = dt.date(timezone.localdate().year, 1, 1)
    items = {item.code: item for item in ChargeItem.objects.all()}
    services.tariff_create(
        by=admin, project=project, charge_item=items["property"], unit_price=Decimal("2.50"), valid_from=start
    )
    services.tariff_create(
        by=admin,
        project=project,
        charge_item=items["property"],
        unit_price=Decimal("6.00"),
        valid_from=start,
        applies_to="shop",
    )
    services.tariff_create(
        by=admin, project=project, charge_item=items["parking"], unit_price=Decimal("150.00"), valid_from=start
    )
    services.tariff_create(
        by=admin,
        project=project,
        charge_item=items["water"],
        unit_price=Decimal("3.50"),
        valid_from=start,
        tiers=[(Decimal("15"), Decimal("4.50")), (Decimal("25"), Decimal("6.00"))],
    )
    services.tariff_create(
        by=admin, project=project, charge_item=items["owner-card"], unit_price=Decimal("50.00"), valid_from=start
    )
    run = services.run_create(by=admin, project=project, period=timezone.localdate())
    services.run_execute(run_id=run.pk)
