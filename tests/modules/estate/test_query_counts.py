"""Every estate list, API and page, costs the same number of queries for 10 rows as for 100."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from modules.estate.api import RESOURCES
from tests.support import estate
from wuye.testing.plugin import CompanyFixture, in_company


def _makers(admin: Any) -> dict[str, Callable[[], Any]]:
    project = estate.project(admin)
    zone = estate.zone(admin, project=project)
    building = estate.building(admin, project=project, zone=zone)
    return {
        "projects": lambda: estate.project(admin),
        "zones": lambda: estate.zone(admin, project=project),
        "buildings": lambda: estate.building(admin, project=project, zone=zone),
        "units": lambda: estate.unit(admin, building=building),
        "parking-spaces": lambda: estate.parking_space(admin, project=project, zone=zone),
        "meters": lambda: estate.meter(admin, project=project, unit=estate.unit(admin, building=building)),
        "facilities": lambda: estate.facility(admin, project=project, zone=zone, building=building),
    }


def _queries(client: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, {"page_size": 200})
    assert response.status_code == 200, response.content[:300]
    return len(captured)


@pytest.mark.parametrize("prefix", list(RESOURCES))
def test_list_queries_do_not_grow_with_rows(
    prefix: str, company_a: CompanyFixture, api_client, admin_token, company_client
) -> None:
    token = admin_token(company_a)
    api = api_client(company_a, token)
    page = company_client(company_a)
    with in_company(company_a):
        admin = company_a.admin()
        page.force_login(admin)
        make = _makers(admin)[prefix]
        for _ in range(10):
            make()
    # One request first: signing in with a token records when it was last used, once in a while.
    _queries(api, f"/api/v1/estate/{prefix}/")
    counts_10 = (_queries(api, f"/api/v1/estate/{prefix}/"), _queries(page, f"/estate/{prefix}/"))
    with in_company(company_a):
        for _ in range(90):
            make()
    counts_100 = (_queries(api, f"/api/v1/estate/{prefix}/"), _queries(page, f"/estate/{prefix}/"))
    assert counts_100 == counts_10, f"{prefix}: API and page queries with 10 rows {counts_10}, with 100 {counts_100}"
