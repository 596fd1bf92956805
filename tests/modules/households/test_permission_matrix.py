"""Every role × the households API × a person and a unit in the role's scope and outside it. Expected
answers come from the roles' grants (the policy data) and the scope rules: company roles see every
project, project roles their project, zone roles their zones."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from modules.staff import services as staff_services
from tests.support import estate, households
from wuye.accounts import roles
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company


@pytest.fixture
def world(company_a: CompanyFixture) -> dict[str, Any]:
    with in_company(company_a):
        admin = company_a.admin()
        p1, p2 = estate.project(admin), estate.project(admin)
        z1 = estate.zone(admin, project=p1)
        inside_unit = estate.unit(admin, building=estate.building(admin, project=p1, zone=z1))
        outside_unit = estate.unit(
            admin, building=estate.building(admin, project=p2, zone=estate.zone(admin, project=p2))
        )
        inside = households.owner(admin, inside_unit, on=dt.date(2022, 1, 1)).person
        outside = households.owner(admin, outside_unit, on=dt.date(2022, 1, 1)).person
        return {
            "p1": p1,
            "z1": z1,
            "inside": inside,
            "outside": outside,
            "inside_unit": inside_unit,
            "outside_unit": outside_unit,
        }


@pytest.mark.parametrize("code", sorted(roles.names()))
def test_role_against_the_households_api(code: str, company_a: CompanyFixture, world, api_client) -> None:
    with in_company(company_a):
        user = account_services.user_create(
            email=f"{code}@hh-matrix.test", name=code, password="matrix-password-9", roles=[code]
        )
        zones = [world["z1"]] if roles.reach_of(code) == "zone" else []
        staff_services.staff_member_set(by=company_a.admin(), user=user, project=world["p1"], zones=zones)
        client = api_client(company_a, account_services.api_token_create(user=user, name="m")[1])
    granted = set(roles.permissions_of(code))
    company_wide = roles.reach_of(code) == "company"
    view = "households.view_person" in granted
    change = "households.change_person" in granted
    view_unit = "estate.view_unit" in granted
    failures: list[str] = []

    def check(label: str, status: int, expected: int) -> None:
        if status != expected:
            failures.append(f"{label}: {status}, expected {expected}")

    listing = client.get("/api/v1/households/people/", {"page_size": 200})
    check("GET people", listing.status_code, 200 if view else 403)
    if listing.status_code == 200:
        ids = {row["id"] for row in listing.json()["results"]}
        if str(world["inside"].pk) not in ids:
            failures.append("GET people: the person in scope is missing")
        if (str(world["outside"].pk) in ids) != company_wide:
            failures.append("GET people: the person out of scope is wrongly listed or missing")
    out_of_reach = 200 if company_wide else 404
    inside, outside = world["inside"].pk, world["outside"].pk
    check("GET person inside", client.get(f"/api/v1/households/people/{inside}/").status_code, 200 if view else 403)
    check(
        "GET person outside",
        client.get(f"/api/v1/households/people/{outside}/").status_code,
        out_of_reach if view else 403,
    )
    patched = client.patch(f"/api/v1/households/people/{inside}/", {}, format="json").status_code
    check("PATCH person inside", patched, 200 if view and change else 403)
    patched_out = client.patch(f"/api/v1/households/people/{outside}/", {}, format="json").status_code
    check(
        "PATCH person outside",
        patched_out,
        403 if not view else (404 if not company_wide else (200 if change else 403)),
    )
    file_inside = client.get(f"/api/v1/households/units/{world['inside_unit'].pk}/").status_code
    check("GET household file inside", file_inside, 200 if view and view_unit else 403)
    file_outside = client.get(f"/api/v1/households/units/{world['outside_unit'].pk}/").status_code
    check("GET household file outside", file_outside, (out_of_reach if view_unit else 403) if view else 403)
    assert not failures, f"role {code}:\n" + "\n".join(failures)
