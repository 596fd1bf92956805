"""Every role × the API routes not covered by the estate and household matrices: staff members, staff
accounts, roles, and the household actions (ownership, transfer, occupancy, vehicles, invitations).

For each route the table names the permissions it needs (the policy data says which roles hold them)
and whether the object is inside the role's scope. Inside: the answer is the success status when the
role holds every permission, 403 otherwise. Outside (another project): "not found" for a role that may
read the records but not reach them, 403 for a role that may not read them at all, success for a
company-wide role."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from modules.households import services as households_services
from modules.staff import services as staff_services
from tests.support import estate, households
from wuye.accounts import roles
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company

_n = itertools.count(1)


@dataclass(frozen=True)
class Route:
    label: str
    method: str
    path: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], dict[str, Any]]
    needs: frozenset[str]  # permissions, all required
    success: int
    scoped: bool = True  # the object lies in a project (inside: P1, outside: P2)


def _world(admin: Any, project: Any, zone: Any) -> dict[str, Any]:
    unit = estate.unit(admin, building=estate.building(admin, project=project, zone=zone))
    spare_unit = estate.unit(admin, building=estate.building(admin, project=project, zone=zone))
    ownership = households.owner(admin, unit, on=dt.date(2020, 1, 1), email=f"o{next(_n)}@matrix.test")
    occupancy = households.occupant(admin, unit, who=ownership.person, on=dt.date(2020, 1, 1))
    vehicle = households_services.vehicle_add(by=admin, person=ownership.person, plate=f"沪B{next(_n):05d}")
    member = account_services.user_create(email=f"m{next(_n)}@matrix.test", name="员工", password="member-pass-99")
    staff_services.staff_member_set(by=admin, user=member, project=project)
    role = account_services.role_create(
        by=admin, name=f"矩阵{next(_n)}", reach="project", permissions=["estate.view_unit"]
    )
    return {
        "role": role,
        "unit": unit,
        "spare_unit": spare_unit,
        "person": ownership.person,
        "ownership": ownership,
        "occupancy": occupancy,
        "vehicle": vehicle,
        "member": member,
        "project": project,
    }


ROUTES = [
    Route("GET staff member", "get", lambda w: f"/api/v1/staff/members/{w['member'].pk}/", lambda w: {},
          frozenset({"staff.view_staffmember"}), 200),
    Route("PUT staff member", "put", lambda w: f"/api/v1/staff/members/{w['member'].pk}/",
          lambda w: {"project": str(w["project"].pk)},
          frozenset({"accounts.view_user", "staff.change_staffmember", "staff.add_staffmember",
                     "estate.view_project"}), 200),
    Route("POST ownership", "post", lambda w: "/api/v1/households/ownerships/",
          lambda w: {"unit": str(w["spare_unit"].pk), "person": str(w["person"].pk), "starts_on": "2021-01-01"},
          frozenset({"households.add_ownership", "households.view_person", "estate.view_unit"}), 201),
    Route("POST ownership end", "post", lambda w: f"/api/v1/households/ownerships/{w['ownership'].pk}/end/",
          lambda w: {"on": "2024-01-01"},
          frozenset({"households.change_ownership", "households.view_ownership"}), 200),
    Route("POST transfer", "post", lambda w: f"/api/v1/households/units/{w['unit'].pk}/transfer/",
          lambda w: {"on": "2024-06-01", "owners": [{"person": str(w["person"].pk), "share": "100"}]},
          frozenset({"households.change_ownership", "households.add_ownership", "households.view_person",
                     "estate.view_unit"}), 201),
    Route("POST move-in", "post", lambda w: "/api/v1/households/occupancies/",
          lambda w: {"unit": str(w["spare_unit"].pk), "person": str(w["person"].pk), "on": "2021-01-01"},
          frozenset({"households.add_occupancy", "households.view_person", "estate.view_unit"}), 201),
    Route("POST move-out", "post", lambda w: f"/api/v1/households/occupancies/{w['occupancy'].pk}/move-out/",
          lambda w: {"on": "2024-01-01"},
          frozenset({"households.change_occupancy", "households.view_occupancy"}), 200),
    Route("POST vehicle remove", "post", lambda w: f"/api/v1/households/vehicles/{w['vehicle'].pk}/remove/",
          lambda w: {},
          frozenset({"households.change_vehicle", "households.view_vehicle", "households.view_person"}), 200),
    Route("POST invite", "post", lambda w: f"/api/v1/households/people/{w['person'].pk}/invite/",
          lambda w: {"channel": "email"}, frozenset({"households.invite_owner", "households.view_person"}), 200),
]  # fmt: skip
COMPANY_ROUTES = [
    Route("GET users", "get", lambda w: "/api/v1/users/", lambda w: {}, frozenset({"accounts.view_user"}), 200, False),
    Route("GET roles", "get", lambda w: "/api/v1/roles/", lambda w: {}, frozenset({"auth.view_group"}), 200, False),
    Route("POST role", "post", lambda w: "/api/v1/roles/",
          lambda w: {"name": f"矩阵角色{next(_n)}", "reach": "project", "permissions": ["estate.view_unit"]},
          frozenset({"auth.change_group"}), 201, False),
    Route("GET departments", "get", lambda w: "/api/v1/staff/departments/", lambda w: {},
          frozenset({"staff.view_department"}), 200, False),
    Route("GET user", "get", lambda w: f"/api/v1/users/{w['member'].pk}/", lambda w: {},
          frozenset({"accounts.view_user"}), 200, False),
    Route("POST user deactivate", "post", lambda w: f"/api/v1/users/{w['member'].pk}/deactivate/", lambda w: {},
          frozenset({"accounts.view_user", "accounts.deactivate_user"}), 200, False),
    Route("PUT user roles", "put", lambda w: f"/api/v1/users/{w['member'].pk}/roles/", lambda w: {"roles": []},
          frozenset({"accounts.view_user", "accounts.change_user"}), 200, False),
    Route("GET role", "get", lambda w: f"/api/v1/roles/{w['role'].pk}/", lambda w: {},
          frozenset({"auth.view_group"}), 200, False),
    Route("PATCH role", "patch", lambda w: f"/api/v1/roles/{w['role'].pk}/", lambda w: {"description": "改"},
          frozenset({"auth.view_group", "auth.change_group"}), 200, False),
    Route("GET imports", "get", lambda w: "/api/v1/imports/", lambda w: {},
          frozenset({"imports.add_importbatch"}), 200, False),
]  # fmt: skip


def _reading_permission(route: Route) -> set[str]:
    """The permissions that decide whether the object may be looked up at all (before scope)."""
    return {name for name in route.needs if ".view_" in name}


@pytest.mark.parametrize("code", sorted(roles.names()))
def test_role_against_the_remaining_routes(code: str, company_a: CompanyFixture, api_client) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        p1, p2 = estate.project(admin), estate.project(admin)
        z1 = estate.zone(admin, project=p1)
        user = account_services.user_create(
            email=f"{code}@role-matrix.test", name=code, password="matrix-pass-99", roles=[code]
        )
        staff_services.staff_member_set(
            by=admin, user=user, project=p1, zones=[z1] if roles.reach_of(code) == "zone" else []
        )
        token = account_services.api_token_create(user=user, name="m")[1]
    client = api_client(company_a, token)
    granted = set(roles.permissions_of(code))
    company_wide = roles.reach_of(code) == "company"
    failures: list[str] = []
    for route in ROUTES + COMPANY_ROUTES:
        with in_company(company_a):
            inside = _world(admin, p1, z1)
            outside = _world(admin, p2, estate.zone(admin, project=p2))
        allowed = route.needs <= granted
        response = getattr(client, route.method)(route.path(inside), route.body(inside), format="json")
        expected = route.success if allowed else 403
        # Staff members are placed by project: a zone role holds no project to reach its colleagues.
        if response.status_code != expected and not (
            allowed and response.status_code == 404 and not company_wide and roles.reach_of(code) == "zone"
        ):
            failures.append(f"{route.label} inside: {response.status_code}, expected {expected}")
        if not route.scoped:
            continue
        response = getattr(client, route.method)(route.path(outside), route.body(outside), format="json")
        may_read = _reading_permission(route) <= granted
        if company_wide:
            expected_out = {route.success} if allowed else {403}
        elif may_read:
            expected_out = {404, 403}  # not found, or refused before the lookup by a missing write permission
        else:
            expected_out = {403}
        if response.status_code not in expected_out:
            failures.append(f"{route.label} outside: {response.status_code}, expected one of {sorted(expected_out)}")
    assert not failures, f"role {code}:\n" + "\n".join(failures)
