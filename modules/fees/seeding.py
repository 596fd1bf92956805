"""A new company's standard charge items (DOMAIN.md §3): the fees every Chinese property company levies.
Prices are per project (tariffs): a company sets them when it sets up a project."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from .models import ChargeBasis, ChargeCategory, ChargeItem, FeeSettings

# The reminder letter's default text (催缴通知书); a company changes it in its fee settings.
REMINDER_TEXT = gettext_noop(
    "According to our records the fees listed below are overdue. Please pay them at the "
    "service centre or online at your earliest convenience. If you have already paid, please disregard "
    "this letter. Thank you for your support."
)

# (code, category, basis, name in Chinese, name in English)
STANDARD_ITEMS = [
    ("property", ChargeCategory.PROPERTY, ChargeBasis.AREA, "物业服务费", "Property service fee"),
    ("parking", ChargeCategory.PARKING, ChargeBasis.SPACE, "车位服务费", "Parking service fee"),
    ("water", ChargeCategory.WATER, ChargeBasis.METER, "水费", "Water"),
    ("electricity", ChargeCategory.ELECTRICITY, ChargeBasis.METER, "电费", "Electricity"),
    ("gas", ChargeCategory.GAS, ChargeBasis.METER, "燃气费", "Gas"),
    ("special-service", ChargeCategory.SERVICE, ChargeBasis.ITEM, "特约服务费", "Special service"),
    # DOMAIN.md §10: cards beyond the free three cost 50 yuan each (the price is a tariff of the project).
    ("owner-card", ChargeCategory.CARD, ChargeBasis.ITEM, "业主卡工本费", "Owner card"),
    ("certificate", ChargeCategory.OTHER, ChargeBasis.ITEM, "证明办理费", "Certificate"),
    ("renovation-deposit", ChargeCategory.DEPOSIT, ChargeBasis.ITEM, "装修押金", "Renovation deposit"),
]


def fees_seed(context: Any) -> None:
    chinese = str(getattr(context, "language", "zh-hans")).lower().startswith("zh")
    ChargeItem.objects.bulk_create(
        [
            ChargeItem(code=code, category=category, basis=basis, name=zh if chinese else en, sort_order=10 * (n + 1))
            for n, (code, category, basis, zh, en) in enumerate(STANDARD_ITEMS)
        ],
        ignore_conflicts=True,
    )
    with override("zh-hans" if chinese else "en"):
        FeeSettings.objects.get_or_create(id=1, defaults={"reminder_text": _(REMINDER_TEXT)})
