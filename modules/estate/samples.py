"""Sample estate for the demo company of `make dev` (registered with wuye.core.seeding.register_sample)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import services


def estate_sample(admin: Any) -> None:
    """示范花园: two zones, four buildings of six floors with four flats each, shops, parking, meters and
    facilities — entered through the services, as a company would."""
    project = services.project_create(
        by=admin,
        name="示范花园",
        code="sfhy",
        address="上海市浦东新区示范路 88 号",
        total_floor_area=Decimal("52000.00"),
        committee_contact="业委会 王主任 13800000001",
        collection_rate_target=Decimal("95.00"),
    )
    for zone_name, building_names in (("东区", ("1栋", "2栋")), ("西区", ("3栋", "4栋"))):
        zone = services.zone_create(by=admin, project=project, name=zone_name)
        for building_name in building_names:
            building = services.building_create(
                by=admin, project=project, zone=zone, name=building_name, floors_above=6
            )
            for floor in range(1, 7):
                for door in range(1, 5):
                    services.unit_create(
                        by=admin,
                        building=building,
                        number=f"{floor}{door:02d}",
                        floor=floor,
                        floor_area=Decimal("89.50") + door * 10,
                        status="occupied" if (floor + door) % 5 else "vacant",
                    )
            services.facility_create(by=admin, project=project, zone=zone, building=building, kind="lift",
                                     name=f"{building_name}电梯", maintainer="示范电梯维保公司")  # fmt: skip
        for number in range(1, 11):
            services.parking_space_create(by=admin, project=project, zone=zone, number=f"{zone_name[0]}-{number:03d}")
    services.meter_create(by=admin, project=project, kind="electricity", serial="GG-0001", location="地下车库")
