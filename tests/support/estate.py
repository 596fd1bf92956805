"""Estate records for tests, made through the real services by a company-wide administrator."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from modules.estate import services
from modules.estate.models import Building, Facility, Meter, ParkingSpace, Project, Unit, Zone

_numbers = itertools.count(1)


def project(by: Any, **values: Any) -> Project:
    n = next(_numbers)
    values = {"name": f"项目{n}", "code": f"p{n}"} | values
    return services.project_create(by=by, **values)


def zone(by: Any, *, project: Project | None = None, **values: Any) -> Zone:
    return services.zone_create(
        by=by, project=project or globals()["project"](by), **({"name": f"分区{next(_numbers)}"} | values)
    )


def building(by: Any, *, project: Project | None = None, zone: Zone | None = None, **values: Any) -> Building:
    if project is None:
        project = zone.project if zone is not None else globals()["project"](by)
    return services.building_create(by=by, project=project, zone=zone, **({"name": f"{next(_numbers)}栋"} | values))


def unit(by: Any, *, building: Building | None = None, **values: Any) -> Unit:
    values = {"number": f"{next(_numbers)}01", "floor": 1, "floor_area": Decimal("89.50")} | values
    return services.unit_create(by=by, building=building or globals()["building"](by), **values)


def parking_space(by: Any, *, project: Project | None = None, **values: Any) -> ParkingSpace:
    values = {"number": f"B-{next(_numbers)}"} | values
    return services.parking_space_create(by=by, project=project or globals()["project"](by), **values)


def meter(by: Any, *, project: Project | None = None, **values: Any) -> Meter:
    values = {"kind": "water", "serial": f"W{next(_numbers):06d}"} | values
    return services.meter_create(by=by, project=project or globals()["project"](by), **values)


def facility(by: Any, *, project: Project | None = None, **values: Any) -> Facility:
    values = {"kind": "lift", "name": f"电梯{next(_numbers)}"} | values
    return services.facility_create(by=by, project=project or globals()["project"](by), **values)
