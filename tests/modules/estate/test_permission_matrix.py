"""Every role × every estate API route × an object in the role's scope and one outside it.

The expected answer comes from the roles' grants (accounts.roles, the policy data) and the scope rules
written out here: a company-wide role sees every project; a project role its project; a zone role its
zones (and the names of their project). The enforcement under test is in the selectors and services."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from modules.staff import services as staff_services
from tests.support import estate
from wuye.accounts import roles
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company

ROLE_CODES = sorted(roles.names())
# route prefix -> the permission codename's model name
ENTITY = {
    "projects": "project",
    "zones": "zone",
    "buildings": "building",
    "units": "unit",
    "parking-spaces": "parkingspace",
    "meters": "meter",
    "facilities": "facility",
}


@dataclass
class World:
    inside: dict[str, Any]  # prefix -> a record in project P1, zone Z1
    outside: dict[str, Any]  # prefix -> a record in project P2
    p1: Any
    z1: Any
    b1: Any
    p2: Any
    b2: Any


def _records(admin: Any, project: Any, zone: Any) -> tuple[dict[str, Any], Any]:
    building = estate.building(admin, project=project, zone=zone)
    unit = estate.unit(admin, building=building)
    return {
        "projects": project,
        "zones": zone,
        "buildings": building,
        "units": unit,
        "parking-spaces": estate.parking_space(admin, project=project, zone=zone),
        "meters": estate.meter(admin, project=project, unit=unit),
        "facilities": estate.facility(admin, project=project, zone=zone),
    }, building


def _create_payload(prefix: str, project: Any, zone: Any, building: Any, n: int) -> dict[str, Any]:
    return {
        "projects": {"name": f"新项目{n}", "code": f"new{n}"},
        "zones": {"project": str(project.pk), "name": f"新分区{n}"},
        "buildings": {"project": str(project.pk), "zone": str(zone.pk), "name": f"新楼{n}"},
        "units": {"building": str(building.pk), "number": f"N{n}", "floor": 3, "floor_area": "80.00"},
        "parking-spaces": {"project": str(project.pk), "zone": str(zone.pk), "number": f"N{n}"},
        "meters": {"project": str(project.pk), "kind": "electricity", "serial": f"N{n}"},
        "facilities": {"project": str(project.pk), "zone": str(zone.pk), "kind": "lift", "name": f"新电梯{n}"},
    }[prefix]


@pytest.fixture
def world(company_a: CompanyFixture) -> World:
    with in_company(company_a):
        admin = company_a.admin()
        p1, p2 = estate.project(admin), estate.project(admin)
        z1 = estate.zone(admin, project=p1)
        estate.zone(admin, project=p1)  # a second zone in P1, outside a Z1 manager's scope
        inside, b1 = _records(admin, p1, z1)
        outside, b2 = _records(admin, p2, estate.zone(admin, project=p2))
        return World(inside=inside, outside=outside, p1=p1, z1=z1, b1=b1, p2=p2, b2=b2)


def _user_with_role(company: CompanyFixture, world: World, code: str) -> str:
    with in_company(company):
        admin = company.admin()
        user = account_services.user_create(
            email=f"{code}@matrix.test", name=code, password="matrix-password-9", roles=[code]
        )
        zones = [world.z1] if roles.reach_of(code) == "zone" else []
        staff_services.staff_member_set(by=admin, user=user, project=world.p1, zones=zones)
        return account_services.api_token_create(user=user, name="matrix")[1]


@pytest.mark.parametrize("code", ROLE_CODES)
def test_role_against_every_estate_route(code: str, company_a: CompanyFixture, world: World, api_client) -> None:
    client = api_client(company_a, _user_with_role(company_a, world, code))
    granted = set(roles.permissions_of(code))
    reach = roles.reach_of(code)
    failures: list[str] = []

    def check(label: str, response: Any, expected: int) -> None:
        if response.status_code != expected:
            failures.append(f"{label}: {response.status_code}, expected {expected}")

    for n, (prefix, entity) in enumerate(ENTITY.items()):
        may = {action: f"estate.{action}_{entity}" in granted for action in ("view", "add", "change")}
        base = f"/api/v1/estate/{prefix}/"
        inside, outside = world.inside[prefix], world.outside[prefix]

        listing = client.get(base, {"page_size": 200})
        check(f"GET {base}", listing, 200 if may["view"] else 403)
        if listing.status_code == 200:
            ids = {row["id"] for row in listing.json()["results"]}
            if str(inside.pk) not in ids:
                failures.append(f"GET {base}: the in-scope record is missing")
            if (str(outside.pk) in ids) != (reach == "company"):
                failures.append(
                    f"GET {base}: the out-of-scope record is {'listed' if str(outside.pk) in ids else 'missing'}"
                )

        out_of_reach = 200 if reach == "company" else 404
        check(f"GET {base}<inside>", client.get(f"{base}{inside.pk}/"), 200 if may["view"] else 403)
        check(f"GET {base}<outside>", client.get(f"{base}{outside.pk}/"), out_of_reach if may["view"] else 403)

        # A change that changes nothing still goes through the permission and the scope.
        in_change = 200 if may["view"] and may["change"] else 403
        # A zone role may read its project's record but not change it: changing a project needs the project.
        if prefix == "projects" and reach == "zone" and may["change"]:
            in_change = 403
        check(f"PATCH {base}<inside>", client.patch(f"{base}{inside.pk}/", {}, format="json"), in_change)
        # Out of reach, the record is not found before any question of changing it.
        if not may["view"]:
            out_change = 403
        elif reach != "company":
            out_change = 404
        else:
            out_change = 200 if may["change"] else 403
        check(f"PATCH {base}<outside>", client.patch(f"{base}{outside.pk}/", {}, format="json"), out_change)

        created = client.post(base, _create_payload(prefix, world.p1, world.z1, world.b1, n), format="json")
        if prefix == "projects":
            expected = 201 if may["add"] and reach == "company" else 403
        elif prefix == "units":
            expected = 201 if may["add"] and "estate.view_building" in granted else 403
        else:
            expected = 201 if may["add"] and "estate.view_project" in granted else 403
        check(f"POST {base} in P1", created, expected)
        if prefix != "projects":
            foreign = client.post(
                base, _create_payload(prefix, world.p2, world.outside["zones"], world.b2, n + 50), format="json"
            )
            if reach == "company":
                check(f"POST {base} in P2", foreign, 201 if may["add"] else 403)
            elif foreign.status_code not in (403, 404):
                failures.append(f"POST {base} in P2: {foreign.status_code}, expected 403 or 404")

    assert not failures, f"role {code}:\n" + "\n".join(failures)


def test_every_platform_role_is_in_the_matrix() -> None:
    """A role added later is covered without touching this file; this guards the list's source."""
    assert {"company_admin", "project_manager", "zone_manager", "cs_staff"} <= set(ROLE_CODES)


def test_a_zone_manager_sees_only_the_units_of_their_zones(company_a: CompanyFixture, world: World, api_client) -> None:
    client = api_client(company_a, _user_with_role(company_a, world, "zone_manager"))
    with in_company(company_a):
        admin = company_a.admin()
        other_zone_unit = estate.unit(
            admin, building=estate.building(admin, project=world.p1, zone=estate.zone(admin, project=world.p1))
        )
        no_zone_unit = estate.unit(admin, building=estate.building(admin, project=world.p1))
    ids = {row["id"] for row in client.get("/api/v1/estate/units/").json()["results"]}
    assert ids == {str(world.inside["units"].pk)}
    assert client.get(f"/api/v1/estate/units/{other_zone_unit.pk}/").status_code == 404
    assert client.get(f"/api/v1/estate/units/{no_zone_unit.pk}/").status_code == 404
    # They may change a unit's status in their zone, and nothing more about it.
    changed = client.patch(f"/api/v1/estate/units/{world.inside['units'].pk}/", {"status": "occupied"}, format="json")
    assert changed.status_code == 200 and changed.json()["status"] == "occupied"
    moved = client.patch(
        f"/api/v1/estate/units/{world.inside['units'].pk}/", {"floor_area": str(Decimal("1.00"))}, format="json"
    )
    assert moved.status_code == 200  # change_unit covers the unit's fields; the scope is what is limited
