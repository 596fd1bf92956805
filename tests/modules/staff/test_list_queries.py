"""The remaining lists — staff accounts, staff members, roles, vehicles, the audit log — cost the same
number of queries for 10 rows as for 100 (API and page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from modules.households import services as households_services
from modules.staff import services as staff_services
from tests.support import estate, households
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company

_n = iter(range(10_000))


def _staff(admin: Any) -> None:
    n = next(_n)
    user = account_services.user_invite(
        by=admin, email=f"s{n}@lists.test", name=f"员工{n}", roles=["cs_staff"], send=False
    )
    staff_services.staff_member_set(by=admin, user=user, project=estate.project(admin))


def _role(admin: Any) -> None:
    account_services.role_create(by=admin, name=f"角色{next(_n)}", reach="project", permissions=["estate.view_unit"])


def _vehicle(admin: Any) -> None:
    households_services.vehicle_add(by=admin, person=households.person(admin), plate=f"京A{next(_n):05d}")


def _audited(admin: Any) -> None:
    estate.project(admin)


CASES: dict[str, tuple[Callable[[Any], None], list[str]]] = {
    "staff": (_staff, ["/api/v1/users/", "/staff/", "/api/v1/staff/members/", "/organisation/members/"]),
    "roles": (_role, ["/api/v1/roles/", "/staff/roles/"]),
    "vehicles": (_vehicle, ["/api/v1/households/vehicles/"]),
    "audit": (_audited, ["/audit/"]),
}


def _counts(clients: tuple[Any, Any], paths: list[str]) -> list[int]:
    api, page = clients
    counts = []
    for path in paths:
        client = api if path.startswith("/api/") else page
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, {"page_size": 200})
        assert response.status_code == 200, (path, response.status_code)
        counts.append(len(captured))
    return counts


@pytest.mark.parametrize("case", list(CASES))
def test_list_queries_do_not_grow_with_rows(
    case: str, company_a: CompanyFixture, api_client, admin_token, company_client
) -> None:
    make, paths = CASES[case]
    clients = (api_client(company_a, admin_token(company_a)), company_client(company_a))
    with in_company(company_a):
        admin = company_a.admin()
        clients[1].force_login(admin)
        for _ in range(10):
            make(admin)
    _counts(clients, paths)  # warm-up: the token's last use is recorded once in a while
    before = _counts(clients, paths)
    with in_company(company_a):
        for _ in range(90):
            make(admin)
    after = _counts(clients, paths)
    assert after == before, f"{case}: queries {dict(zip(paths, before, strict=True))} with 10, {after} with 100"
