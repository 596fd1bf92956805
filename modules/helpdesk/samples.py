"""Sample requests for the demo company of `make dev`: an engineer (engineer@demo.localhost /
wuye-engineer-2026), a repair being worked on, a complaint not yet dispatched, the demo owner's own
request, and a night shift in the duty log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from modules.estate.models import Unit
from modules.staff import selectors as staff_selectors
from modules.staff import services as staff_services
from wuye.accounts import services as account_services
from wuye.accounts.models import User

from . import services

ENGINEER = ("engineer@demo.localhost", "wuye-engineer-2026", "赵师傅")


def helpdesk_sample(admin: Any) -> None:
    units = list(Unit.objects.filter(project__code="sfhy", status="occupied").order_by("building__name", "number")[:3])
    if not units:
        return
    project = units[0].project
    email, password, name = ENGINEER
    engineer = account_services.user_create(email=email, name=name, password=password, roles=["engineering"])
    staff_services.staff_member_set(
        by=admin, user=engineer, position=staff_selectors.position_by_code("engineer"), project=project
    )
    engineering = staff_selectors.department_by_code("engineering")
    repair = services.request_raise(
        by=admin, kind="repair", grade="urgent", title="厨房下水管漏水", unit=units[0], department=engineering,
        assignee=engineer, contact_name="业主", channel="phone",
    )  # fmt: skip
    services.request_accept(by=engineer, request=repair)
    services.request_raise(by=admin, kind="complaint", grade="serious", title="楼上夜间装修噪音", unit=units[1])
    owner = User.objects.filter(kind="owner").order_by("date_joined").first()
    owner_units = services.owner_unit_ids(owner) if owner else set()
    if owner is not None and owner_units:
        unit = Unit.objects.get(pk=next(iter(owner_units)))
        services.request_submit(owner=owner, unit=unit, kind="repair", title="阳台灯不亮", description="开关无反应")
    now = timezone.now()
    services.duty_log_write(
        by=admin, project=project, shift_start=now - dt.timedelta(hours=10), shift_end=now - dt.timedelta(hours=2),
        events="夜班：巡查两次，3栋地库照明一处损坏已报修；无其他异常。", handover="地库照明待工程部处理",
    )  # fmt: skip
