"""Households are seen through units in scope; lists cost the same queries for 10 rows as for 100."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from modules.staff import services as staff_services
from tests.support import estate, households
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company


def test_a_zone_manager_sees_the_people_of_their_zones_only(company_a: CompanyFixture, api_client) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        mine = estate.zone(admin)
        theirs = estate.zone(admin, project=mine.project)
        inside = households.owner(admin, estate.unit(admin, building=estate.building(admin, zone=mine))).person
        outside = households.owner(admin, estate.unit(admin, building=estate.building(admin, zone=theirs))).person
        manager = account_services.user_create(
            email="zm@hh.test", name="分区经理", password="zm-password-99", roles=["zone_manager"]
        )
        staff_services.staff_member_set(by=admin, user=manager, project=mine.project, zones=[mine])
        token = account_services.api_token_create(user=manager, name="t")[1]
    client = api_client(company_a, token)
    names = {row["id"] for row in client.get("/api/v1/households/people/").json()["results"]}
    assert str(inside.pk) in names and str(outside.pk) not in names
    assert client.get(f"/api/v1/households/people/{outside.pk}/").status_code == 404
    assert (
        client.patch(
            f"/api/v1/households/people/{inside.pk}/", {"emergency_contact": "妻 13800000000"}, format="json"
        ).status_code
        == 200
    )


def _count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, {"page_size": 200})
    assert response.status_code == 200
    return len(captured)


def test_people_lists_do_not_grow_with_rows(company_a: CompanyFixture, api_client, admin_token, company_client) -> None:
    api = api_client(company_a, admin_token(company_a))
    page = company_client(company_a)
    with in_company(company_a):
        admin = company_a.admin()
        page.force_login(admin)
        building = estate.building(admin)

        def add(n: int) -> None:
            for _ in range(n):
                unit = estate.unit(admin, building=building)
                person = households.owner(admin, unit, on=dt.date(2024, 1, 1)).person
                households.occupant(admin, unit, who=person)

        add(10)
    _count(api, "/api/v1/households/people/")  # warm-up (the token's last use is recorded once)
    before = (_count(api, "/api/v1/households/people/"), _count(page, "/households/people/"))
    with in_company(company_a):
        add(90)
    after = (_count(api, "/api/v1/households/people/"), _count(page, "/households/people/"))
    assert after == before, f"queries with 10 people {before}, with 100 {after}"
