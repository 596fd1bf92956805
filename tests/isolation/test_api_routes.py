"""Every API route that names an object: company A's object, asked for with company B's token and with
B's session, is not found. A new route whose URL names a new kind of object fails here until a maker
for that kind is added to MAKERS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from modules.fees import services as fees_services
from modules.fees.models import OnlinePayment
from modules.helpdesk import services as helpdesk_services
from modules.households import services as households_services
from tests.support import estate, fees, households
from tests.support import helpdesk as helpdesk_support
from wuye.accounts import services
from wuye.testing.plugin import CompanyFixture, in_company


def _make_user(company: CompanyFixture) -> Any:
    return services.user_invite(by=company.admin(), email="isolated@example.test", name="Isolated", send=False).pk


def _make_token(company: CompanyFixture) -> Any:
    return services.api_token_create(user=company.admin(), name="isolated")[0].pk


def _make_role(company: CompanyFixture) -> Any:
    return services.role_create(
        by=company.admin(), name="夜班保安", reach="project", permissions=["estate.view_unit"]
    ).pk


def _make_import(company: CompanyFixture) -> Any:
    from wuye.imports import services as imports

    # A rejected batch (an unknown column): it has a problem report, and nothing needs a worker.
    data = "项目编码,不存在的列\nnone,x\n".encode()
    return imports.batch_create(by=company.admin(), kind="buildings_units", file_name="bad.csv", data=data).pk


def _estate(maker: Callable[..., Any]) -> Callable[[CompanyFixture], Any]:
    return lambda company: maker(company.admin()).pk


def _fee_account(company: CompanyFixture) -> Any:
    return fees.account(fees.owned_unit(company.admin()))


def _fee_bill(company: CompanyFixture) -> Any:
    # A one-off bill at a given price: no tariff, no bill run needed.
    return fees_services.one_off_charge(
        by=company.admin(), account=_fee_account(company), charge_item=fees.item("certificate"), unit_price="20.00"
    )


def _fee_line(company: CompanyFixture) -> Any:
    return _fee_bill(company).lines.get()


def _fee_reading(company: CompanyFixture) -> Any:
    admin = company.admin()
    project = estate.project(admin)
    meter = estate.meter(
        admin, project=project, unit=estate.unit(admin, building=estate.building(admin, project=project))
    )
    return fees_services.reading_record(by=admin, project=project, meter=meter, period=fees.JAN, reading="10")


def _helpdesk_request(company: CompanyFixture) -> Any:
    return helpdesk_services.request_raise(
        by=company.admin(), kind="repair", title="隔离", unit=estate.unit(company.admin())
    )


def _helpdesk_photo(company: CompanyFixture) -> Any:
    admin = company.admin()
    unit = estate.unit(admin)
    owner = helpdesk_support.owner_account(admin, unit)
    request = helpdesk_services.request_submit(
        owner=owner, unit=unit, kind="repair", title="隔离", photos=[helpdesk_support.png()]
    )
    return request.photos.get()


def _duty_log_entry(company: CompanyFixture) -> Any:
    from django.utils import timezone

    now = timezone.now()
    return helpdesk_services.duty_log_write(
        by=company.admin(),
        project=estate.project(company.admin()),
        shift_start=now - dt.timedelta(hours=8),
        shift_end=now,
        events="隔离",
    )


# URL keyword -> how to make an object of that kind in the current company (returns its id).
MAKERS: dict[str, Callable[[CompanyFixture], Any]] = {
    "user_id": _make_user,
    "token_id": _make_token,
    "role_id": _make_role,
    "project_id": _estate(estate.project),
    "zone_id": _estate(estate.zone),
    "building_id": _estate(estate.building),
    "unit_id": _estate(estate.unit),
    "parking_space_id": _estate(estate.parking_space),
    "meter_id": _estate(estate.meter),
    "facility_id": _estate(estate.facility),
    "batch_id": _make_import,
    "person_id": _estate(households.person),
    "ownership_id": lambda company: households.owner(company.admin(), estate.unit(company.admin())).pk,
    "occupancy_id": lambda company: households.occupant(company.admin(), estate.unit(company.admin())).pk,
    "charge_item_id": lambda company: (
        fees_services.charge_item_create(
            by=company.admin(), code="isolated-item", name="隔离项目", category="other", basis="item"
        ).pk
    ),
    "tariff_id": lambda company: fees.tariff(company.admin(), estate.project(company.admin()), "property", "2.50").pk,
    "reading_id": lambda company: _fee_reading(company).pk,
    "run_id": lambda company: (
        fees_services.run_create(by=company.admin(), project=estate.project(company.admin()), period=fees.JAN).pk
    ),
    "account_id": lambda company: _fee_account(company).pk,
    "bill_id": lambda company: _fee_bill(company).pk,
    "line_id": lambda company: _fee_line(company).pk,
    "write_off_id": lambda company: (
        fees_services.write_off_request(by=company.admin(), line=_fee_line(company), amount="5.00", reason="隔离").pk
    ),
    "payment_id": lambda company: (
        fees_services.payment_record(
            by=company.admin(), account=_fee_account(company), amount="30.00", method="cash"
        ).pk
    ),
    # An online payment as the owner's start leaves it before the provider answered (no gateway needed).
    "online_id": lambda company: (
        OnlinePayment.objects.create(
            account=_fee_account(company), purpose="prepayment", amount="10.00", currency="CNY"
        ).pk
    ),
    "request_id": lambda company: _helpdesk_request(company).pk,
    "photo_id": lambda company: _helpdesk_photo(company).pk,
    "entry_id": lambda company: _duty_log_entry(company).pk,
    "notification_id": lambda company: helpdesk_services.notify([company.admin()], request=None, text="隔离")[0].pk,
    "vehicle_id": lambda company: (
        households_services.vehicle_add(
            by=company.admin(), person=households.person(company.admin()), plate="沪A00001"
        ).pk
    ),
}


def _api_routes() -> list[tuple[str, str]]:
    routes: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, text)
            elif isinstance(pattern, URLPattern) and text.startswith("api/v1/") and "<" in text:
                routes.append((text, pattern.name or text))

    walk(get_resolver("wuye.urls.tenant").url_patterns, "")
    return routes


ROUTES = _api_routes()


def test_the_route_list_is_not_empty() -> None:
    assert any("users/<uuid:user_id>/" in route for route, _name in ROUTES)


@pytest.mark.parametrize(("route", "name"), ROUTES, ids=[name for _r, name in ROUTES])
def test_an_object_of_a_is_not_found_at_b(
    route: str, name: str, company_a: CompanyFixture, company_b: CompanyFixture, api_client, admin_token, company_client
) -> None:
    import re

    kwargs = re.findall(r"<(?:\w+:)?(\w+)>", route)
    unknown = [kw for kw in kwargs if kw not in MAKERS]
    assert not unknown, f"{route}: add a maker for {unknown} to MAKERS"
    with in_company(company_a):
        values = {kw: MAKERS[kw](company_a) for kw in kwargs}
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)

    by_token = api_client(company_b, admin_token(company_b))
    session = company_client(company_b)
    session.post("/accounts/login/", {"username": company_b.admin_email, "password": company_b.admin_password})
    for method in ("get", "post", "patch", "delete"):
        for client in (by_token, session):
            response = getattr(client, method)(path)
            assert response.status_code in (404, 405), f"{method.upper()} {path} at B answered {response.status_code}"
            if response.status_code == 404 and response.headers.get("Content-Type", "").startswith("application/json"):
                assert response.json()["error"]["code"] == "not_found"
