"""Sample staff for the demo company of `make dev`: a zone customer manager and a front-desk clerk."""

from __future__ import annotations

from typing import Any

from modules.estate.models import Project, Zone
from wuye.accounts import services as account_services

from . import services
from .models import Position

ZONE_MANAGER = ("zone@demo.localhost", "wuye-zone-2026", "张分区", "zone_manager")
FRONT_DESK = ("desk@demo.localhost", "wuye-desk-2026", "李前台", "cs_staff")


def staff_sample(admin: Any) -> None:
    project = Project.objects.get(code="sfhy")
    for email, password, name, role in (ZONE_MANAGER, FRONT_DESK):
        user = account_services.user_create(email=email, name=name, password=password, roles=[role])
        zones = list(Zone.objects.filter(project=project, name="东区")) if role == "zone_manager" else []
        services.staff_member_set(
            by=admin, user=user, position=Position.objects.filter(code=role).first(), project=project, zones=zones
        )
