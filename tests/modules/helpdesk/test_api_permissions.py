"""Every role × the helpdesk API, inside the role's scope and outside it. Expected answers come from the
roles' grants (accounts.roles, filled by the modules' policies.py) and their reach, not from the views:
inside, the success status when the role holds every permission the route needs, 403 otherwise; outside
(another project), "not found" for a role that may read requests but not reach this one, 403 for a role
that may not read them at all, and the inside answer for a company-wide role."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from modules.helpdesk import policies, services
from modules.staff import services as staff_services
from tests.support import estate
from wuye.accounts import roles
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company

API = "/api/v1/helpdesk"
_n = itertools.count(1)


@dataclass(frozen=True)
class Route:
    label: str
    method: str
    path: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], dict[str, Any]]
    needs: frozenset[str]
    success: int
    scoped: bool  # names a request of a project (inside: P1, outside: P2)


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


ROUTES = [
    Route("list", "get", lambda w: f"{API}/requests/", lambda w: {}, _f(policies.VIEW), 200, False),
    Route("detail", "get", lambda w: f"{API}/requests/{w['request'].pk}/", lambda w: {}, _f(policies.VIEW), 200, True),
    Route(
        "raise", "post", lambda w: f"{API}/requests/",
        lambda w: {"kind": "consultation", "title": "停水?", "unit": str(w["unit"].pk)},
        _f(policies.RAISE, "estate.view_unit"), 201, True,
    ),
    Route(
        "dispatch", "post", lambda w: f"{API}/requests/{w['request'].pk}/dispatch/",
        lambda w: {"department": "engineering"}, _f(policies.VIEW, policies.DISPATCH), 200, True,
    ),
    Route("daily check", "get", lambda w: f"{API}/daily-check/", lambda w: {}, _f(policies.DUTY_CHECK), 200, False),
    Route("satisfaction", "get", lambda w: f"{API}/reports/satisfaction/", lambda w: {}, _f(policies.REPORT), 200,
          False),
    Route("ratings", "get", lambda w: f"{API}/ratings/", lambda w: {}, _f(policies.VIEW_RATINGS), 200, False),
    Route("deadlines", "get", lambda w: f"{API}/deadlines/", lambda w: {}, _f(policies.VIEW), 200, False),
    # Last: it takes the request out of the queues.
    Route(
        "withdraw", "post", lambda w: f"{API}/requests/{w['request'].pk}/withdraw/", lambda w: {"reason": "重复登记"},
        _f(policies.VIEW, policies.DISPATCH), 200, True,
    ),
]  # fmt: skip


def _world(admin: Any, project: Any, zone: Any) -> dict[str, Any]:
    unit = estate.unit(admin, building=estate.building(admin, project=project, zone=zone))
    request = services.request_raise(by=admin, kind="repair", title="漏水", unit=unit)
    return {"unit": unit, "request": request}


@pytest.mark.parametrize("code", sorted(roles.names()))
def test_role_against_the_helpdesk_api(code: str, company_a: CompanyFixture, api_client: Any) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        p1, p2 = estate.project(admin), estate.project(admin)
        z1, z2 = estate.zone(admin, project=p1), estate.zone(admin, project=p2)
        inside, outside = _world(admin, p1, z1), _world(admin, p2, z2)
        user = account_services.user_create(
            email=f"{code}-{next(_n)}@desk-matrix.test", name=code, password="matrix-pass-99", roles=[code]
        )
        zones = [z1] if roles.reach_of(code) == "zone" else []
        staff_services.staff_member_set(by=admin, user=user, project=p1, zones=zones)
        token = account_services.api_token_create(user=user, name="m")[1]
    client = api_client(company_a, token)
    granted = set(roles.permissions_of(code))
    company_wide = roles.reach_of(code) == "company"
    failures = []
    for route in ROUTES:
        holds = route.needs <= granted
        expected_inside = route.success if holds else 403
        for where, world in (("inside", inside), ("outside", outside)):
            if where == "outside" and not route.scoped:
                continue
            if where == "inside" or company_wide:
                expected = expected_inside
            else:
                # A role that reads requests (or units, to raise) finds nothing outside its reach.
                reads = policies.VIEW in granted if route.label != "raise" else "estate.view_unit" in granted
                expected = 404 if reads else 403
            answer = getattr(client, route.method)(route.path(world), route.body(world), format="json").status_code
            if answer != expected:
                failures.append(f"{route.label} {where}: {answer}, expected {expected}")
    assert not failures, f"role {code}:\n" + "\n".join(failures)
