"""Every role × the fees API, inside the role's scope and outside it. Expected answers come from the roles'
grants (modules/fees/policies.py, the estate grants for the projects and meters a request names) and the
scope rules: company roles reach every project, project roles their project, zone roles their zones.

Inside: the success status when the role holds every permission the route needs, 403 otherwise. Outside
(another project): "not found" or 403 for a role that may read the records but not reach them, 403 for a
role that may not read them at all, and the inside answer for a company-wide role. Tariffs and bill runs
belong to a project, not to a zone: a zone role finds them outside its reach everywhere. A unit's meter
and its readings lie in the unit's zone."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from modules.fees import policies as fees
from modules.fees import services
from modules.staff import services as staff_services
from tests.support import estate
from tests.support import fees as fees_support
from wuye.accounts import roles
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company

API = "/api/v1/fees"
OWNED_SINCE = dt.date(2020, 1, 1)
VIEW_PROJECT, VIEW_METER = "estate.view_project", "estate.view_meter"
_n = itertools.count(1)


@dataclass(frozen=True)
class Route:
    label: str
    method: str
    path: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], dict[str, Any]]
    needs: frozenset[str]  # every permission the route needs
    reads: frozenset[str]  # those that decide whether its object may be looked up at all
    success: int
    reach: str = "zone"  # where its object lies: "zone" (an account's), "project", or "company" (not scoped)
    instead: frozenset[str] = frozenset()  # another set of permissions that is enough on its own


def _world(admin: Any, project: Any, zone: Any) -> dict[str, Any]:
    """Records of one project and zone, made by the company's administrator (who is not the role's user)."""
    building = estate.building(admin, project=project, zone=zone)
    units = [fees_support.owned_unit(admin, building=building, owner_from=OWNED_SINCE) for _ in range(2)]
    fees_support.tariff(admin, project, "property", "2.00", valid_from=OWNED_SINCE)
    tariff = fees_support.tariff(admin, project, "parking", "150.00", valid_from=OWNED_SINCE)
    certificate = fees_support.item("certificate")
    account, spare = (fees_support.account(unit) for unit in units)
    bill = services.one_off_charge(by=admin, account=account, charge_item=certificate, unit_price="100")
    other_bill = services.one_off_charge(by=admin, account=account, charge_item=certificate, unit_price="100")
    payment = services.payment_record(by=admin, account=account, amount="10", method="cash", bills=[bill])
    # The spare account holds prepaid credit and a bill it may pay.
    services.payment_record(by=admin, account=spare, amount="50", method="cash")
    services.one_off_charge(by=admin, account=spare, charge_item=certificate, unit_price="30")
    line = bill.lines.get()
    write_off = services.write_off_request(by=admin, line=other_bill.lines.get(), amount="1.00", reason="核销")
    meter = estate.meter(admin, project=project, unit=units[0])
    reading = services.reading_record(by=admin, project=project, meter=meter, period=dt.date(2026, 1, 1), reading="5")
    review_meter = estate.meter(admin, project=project, unit=units[1])
    for month, value in ((1, "100"), (2, "110"), (3, "200")):  # 90 used after 10: abnormal
        flagged = services.reading_record(
            by=admin, project=project, meter=review_meter, period=dt.date(2026, month, 1), reading=value
        )
    assert flagged.flagged
    run = services.run_create(by=admin, project=project, period=dt.date(2026, 1, 1))
    return {
        "project": project,
        "tariff": tariff,
        "account": account,
        "spare": spare,
        "bill": bill,
        "line": line,
        "payment": payment,
        "write_off": write_off,
        "meter": estate.meter(admin, project=project, unit=units[1], kind="electricity", serial=f"E{next(_n):06d}"),
        "reading": reading,
        "flagged": flagged,
        "run": run,
        "certificate": certificate,
    }


def _f(*names: str) -> frozenset[str]:
    return frozenset(names)


V, VT, VC = fees.VIEW, fees.VIEW_TARIFFS, fees.VIEW_COLLECTION
ROUTES = [
    Route("GET tariff", "get", lambda w: f"{API}/tariffs/{w['tariff'].pk}/", lambda w: {}, _f(VT), _f(VT), 200,
          "project"),
    Route("POST tariff", "post", lambda w: f"{API}/tariffs/",
          lambda w: {"project": str(w["project"].pk), "charge_item": str(w["certificate"].pk), "unit_price": "20",
                     "valid_from": "2026-01-01"},
          _f(fees.MANAGE_TARIFFS, VT, VIEW_PROJECT), _f(VIEW_PROJECT), 201, "project"),
    Route("POST tariff end", "post", lambda w: f"{API}/tariffs/{w['tariff'].pk}/end/", lambda w: {"on": "2027-01-01"},
          _f(fees.MANAGE_TARIFFS, VT), _f(VT), 200, "project"),
    Route("GET reading sheet", "get", lambda w: f"{API}/projects/{w['project'].pk}/readings/",
          lambda w: {"period": "2026-01"}, _f(fees.ENTER_READINGS, VIEW_PROJECT), _f(VIEW_PROJECT), 200, "zone"),
    Route("POST reading", "post", lambda w: f"{API}/projects/{w['project'].pk}/readings/",
          lambda w: {"meter": str(w["meter"].pk), "period": "2026-01", "reading": "7"},
          _f(fees.ENTER_READINGS, VIEW_PROJECT, VIEW_METER), _f(VIEW_PROJECT), 201, "zone"),
    # Readings are seen by who enters them or who reviews them; correcting and confirming is reviewing.
    Route("PATCH reading", "patch", lambda w: f"{API}/readings/{w['reading'].pk}/", lambda w: {"reading": "6"},
          _f(fees.REVIEW_READINGS), _f(), 200, "zone"),
    Route("POST reading review", "post", lambda w: f"{API}/readings/{w['flagged'].pk}/review/", lambda w: {},
          _f(fees.REVIEW_READINGS), _f(), 200, "zone"),
    Route("POST run", "post", lambda w: f"{API}/runs/",
          lambda w: {"project": str(w["project"].pk), "period": "2026-02"},
          _f(fees.RUN_BILLS, VIEW_PROJECT), _f(VIEW_PROJECT), 201, "project"),
    Route("GET run", "get", lambda w: f"{API}/runs/{w['run'].pk}/", lambda w: {}, _f(V), _f(V), 200, "project"),
    Route("GET run preview", "get", lambda w: f"{API}/runs/{w['run'].pk}/preview/", lambda w: {},
          _f(V, fees.RUN_BILLS), _f(V), 200, "project"),
    Route("POST run post", "post", lambda w: f"{API}/runs/{w['run'].pk}/post/", lambda w: {},
          _f(V, fees.RUN_BILLS), _f(V), 202, "project"),
    Route("GET account", "get", lambda w: f"{API}/accounts/{w['account'].pk}/", lambda w: {}, _f(V), _f(V), 200),
    Route("POST payment", "post", lambda w: f"{API}/accounts/{w['account'].pk}/payments/",
          lambda w: {"amount": "5", "method": "cash"}, _f(V, fees.TAKE_PAYMENTS), _f(V), 201),
    Route("POST apply prepayment", "post", lambda w: f"{API}/accounts/{w['spare'].pk}/apply-prepayment/",
          lambda w: {}, _f(V, fees.TAKE_PAYMENTS), _f(V), 200),
    Route("POST advance", "post", lambda w: f"{API}/accounts/{w['spare'].pk}/advance/",
          lambda w: {"months": 1, "method": "cash"}, _f(V, fees.TAKE_PAYMENTS), _f(V), 201),
    Route("POST refund", "post", lambda w: f"{API}/accounts/{w['spare'].pk}/refunds/",
          lambda w: {"amount": "1", "method": "cash", "reason": "退预存"}, _f(V, fees.REFUND), _f(V), 201),
    Route("POST one-off charge", "post", lambda w: f"{API}/accounts/{w['account'].pk}/charges/",
          lambda w: {"charge_item": str(w["certificate"].pk), "unit_price": "10"},
          _f(V, fees.CHARGE_ONE_OFF, VT), _f(V), 201),
    Route("GET chases", "get", lambda w: f"{API}/accounts/{w['account'].pk}/chases/", lambda w: {}, _f(V, VC), _f(V),
          200),
    Route("POST chase", "post", lambda w: f"{API}/accounts/{w['account'].pk}/chases/", lambda w: {"channel": "phone"},
          _f(V, fees.CHASE), _f(V), 201),
    Route("GET bill", "get", lambda w: f"{API}/bills/{w['bill'].pk}/", lambda w: {}, _f(V), _f(V), 200),
    Route("POST reverse", "post", lambda w: f"{API}/lines/{w['line'].pk}/reverse/",
          lambda w: {"amount": "1", "reason": "减免"}, _f(V, fees.REVERSE_CHARGES), _f(V), 201),
    Route("POST write-off", "post", lambda w: f"{API}/lines/{w['line'].pk}/write-offs/",
          lambda w: {"amount": "1", "reason": "核销"}, _f(V, fees.REQUEST_WRITE_OFF), _f(V), 201),
    Route("POST write-off decide", "post", lambda w: f"{API}/write-offs/{w['write_off'].pk}/decide/",
          lambda w: {"approve": True}, _f(V, fees.APPROVE_WRITE_OFF), _f(V), 200),
    Route("GET payment", "get", lambda w: f"{API}/payments/{w['payment'].pk}/", lambda w: {}, _f(V), _f(V), 200),
    Route("POST payment void", "post", lambda w: f"{API}/payments/{w['payment'].pk}/void/",
          lambda w: {"reason": "收错"}, _f(V, fees.VOID_RECEIPTS), _f(V), 200),
]  # fmt: skip
COMPANY_ROUTES = [
    Route("GET charge items", "get", lambda w: f"{API}/charge-items/", lambda w: {}, _f(VT), _f(), 200, "company"),
    Route("POST charge item", "post", lambda w: f"{API}/charge-items/",
          lambda w: {"code": f"matrix-{next(_n)}", "name": "矩阵", "category": "other", "basis": "item"},
          _f(fees.MANAGE_TARIFFS), _f(), 201, "company"),
    Route("GET tariffs", "get", lambda w: f"{API}/tariffs/", lambda w: {}, _f(VT), _f(), 200, "company"),
    Route("GET settings", "get", lambda w: f"{API}/settings/", lambda w: {}, _f(VT), _f(), 200, "company"),
    Route("PATCH settings", "patch", lambda w: f"{API}/settings/", lambda w: {"due_days": 20},
          _f(fees.MANAGE_SETTINGS), _f(), 200, "company"),
    Route("GET flagged readings", "get", lambda w: f"{API}/readings/flagged/", lambda w: {}, _f(fees.ENTER_READINGS),
          _f(), 200, "company", instead=_f(fees.REVIEW_READINGS)),
    Route("GET runs", "get", lambda w: f"{API}/runs/", lambda w: {}, _f(V), _f(), 200, "company"),
    Route("GET accounts", "get", lambda w: f"{API}/accounts/", lambda w: {}, _f(V), _f(), 200, "company"),
    Route("GET bills", "get", lambda w: f"{API}/bills/", lambda w: {}, _f(V), _f(), 200, "company"),
    Route("GET write-offs", "get", lambda w: f"{API}/write-offs/", lambda w: {}, _f(V), _f(), 200, "company"),
    Route("GET payments", "get", lambda w: f"{API}/payments/", lambda w: {}, _f(V), _f(), 200, "company"),
    Route("GET collection report", "get", lambda w: f"{API}/reports/collection/",
          lambda w: {"from": "2026-01", "to": "2026-03"}, _f(VC), _f(), 200, "company"),
    Route("GET arrears report", "get", lambda w: f"{API}/reports/arrears/", lambda w: {}, _f(VC), _f(), 200,
          "company"),
    Route("GET daily report", "get", lambda w: f"{API}/reports/daily/", lambda w: {}, _f(VC), _f(), 200, "company"),
    Route("GET weekly report", "get", lambda w: f"{API}/reports/weekly/", lambda w: {}, _f(VC), _f(), 200, "company"),
    Route("GET my bills", "get", lambda w: f"{API}/my/bills/", lambda w: {}, _f(), _f(), 200, "company"),
]  # fmt: skip


def _user(company: CompanyFixture, code: str, project: Any, zone: Any) -> Any:
    user = account_services.user_create(
        email=f"{code}-{next(_n)}@fees-matrix.test", name=code, password="matrix-pass-99", roles=[code]
    )
    zones = [zone] if roles.reach_of(code) == "zone" else []
    staff_services.staff_member_set(by=company.admin(), user=user, project=project, zones=zones)
    return user


def _call(client: Any, route: Route, world: dict[str, Any]) -> int:
    body = route.body(world)
    if route.method == "get":
        return int(client.get(route.path(world), body).status_code)
    return int(getattr(client, route.method)(route.path(world), body, format="json").status_code)


@pytest.mark.parametrize("code", sorted(roles.names()))
def test_role_against_the_fees_api(code: str, company_a: CompanyFixture, api_client: Any) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        p1, p2 = estate.project(admin), estate.project(admin)
        z1, z2 = estate.zone(admin, project=p1), estate.zone(admin, project=p2)
        inside, outside = _world(admin, p1, z1), _world(admin, p2, z2)
        user = _user(company_a, code, p1, z1)
        token = account_services.api_token_create(user=user, name="m")[1]
    client = api_client(company_a, token)
    granted = set(roles.permissions_of(code))
    reach = roles.reach_of(code)
    failures: list[str] = []
    for route in ROUTES + COMPANY_ROUTES:
        allowed = route.needs <= granted or bool(route.instead and route.instead <= granted)
        may_read = route.reads <= granted
        out_of_reach = {404, 403} if may_read else {403}
        if reach == "zone" and route.reach == "project":
            expected_in = out_of_reach  # a project's records are beyond any zone
        else:
            expected_in = {route.success if allowed else 403}
        status = _call(client, route, inside)
        if status not in expected_in:
            failures.append(f"{route.label} inside: {status}, expected one of {sorted(expected_in)}")
        if route.reach == "company":
            continue
        expected_out = ({route.success} if allowed else {403}) if reach == "company" else out_of_reach
        status = _call(client, route, outside)
        if status not in expected_out:
            failures.append(f"{route.label} outside: {status}, expected one of {sorted(expected_out)}")
    assert not failures, f"role {code}:\n" + "\n".join(failures)


# ------------------------------------------------------------------------------------------ named cases
@pytest.fixture
def estate_of_two_zones(company_a: CompanyFixture) -> dict[str, Any]:
    with in_company(company_a):
        admin = company_a.admin()
        project = estate.project(admin)
        mine, theirs = estate.zone(admin, project=project), estate.zone(admin, project=project)
        world = _world(admin, project, mine)
        their_unit = fees_support.owned_unit(
            admin, building=estate.building(admin, project=project, zone=theirs), owner_from=OWNED_SINCE
        )
        their_account = fees_support.account(their_unit)
        services.one_off_charge(by=admin, account=their_account, charge_item=world["certificate"], unit_price="80")
        their_meter = estate.meter(admin, project=project, unit=their_unit)
        return {**world, "mine": mine, "theirs": theirs, "their_account": their_account, "their_meter": their_meter}


def test_a_zone_manager_sees_only_the_accounts_of_their_zone(
    company_a: CompanyFixture, api_client: Any, estate_of_two_zones: dict[str, Any]
) -> None:
    world = estate_of_two_zones
    with in_company(company_a):
        user = _user(company_a, "zone_manager", world["project"], world["mine"])
        client = api_client(company_a, account_services.api_token_create(user=user, name="z")[1])
    listed = client.get(f"{API}/accounts/", {"project": str(world["project"].pk), "page_size": 200}).json()
    ids = {row["id"] for row in listed["results"]}
    assert str(world["account"].pk) in ids and str(world["their_account"].pk) not in ids
    assert client.get(f"{API}/accounts/{world['their_account'].pk}/").status_code == 404
    assert client.get(f"{API}/accounts/{world['account'].pk}/").status_code == 200
    bills = client.get(f"{API}/bills/", {"page_size": 200}).json()["results"]
    assert {row["account"] for row in bills} == {str(world["account"].pk), str(world["spare"].pk)}
    arrears = client.get(f"{API}/reports/arrears/", {"as_of": "2099-01-01"}).json()
    assert str(world["their_account"].pk) not in {row["account"]["id"] for row in arrears["rows"]}
    # The other zone's account is not found in a request body either.
    paid = client.post(
        f"{API}/accounts/{world['their_account'].pk}/payments/", {"amount": "80", "method": "cash"}, format="json"
    )
    assert paid.status_code == 404
    # Meters are read zone by zone: the sheet lists their zone's meters, and only those take a reading.
    readings = f"{API}/projects/{world['project'].pk}/readings/"
    sheet = client.get(readings, {"period": "2026-01"}).json()
    assert str(world["meter"].pk) in {row["meter"]["id"] for row in sheet}
    assert str(world["their_meter"].pk) not in {row["meter"]["id"] for row in sheet}
    entered = client.post(
        readings, {"meter": str(world["meter"].pk), "period": "2026-01", "reading": "3"}, format="json"
    )
    assert entered.status_code == 201, entered.json()
    elsewhere = client.post(
        readings, {"meter": str(world["their_meter"].pk), "period": "2026-01", "reading": "3"}, format="json"
    )
    assert elsewhere.status_code == 404


def test_finance_voids_receipts_and_cs_staff_may_not(
    company_a: CompanyFixture, api_client: Any, estate_of_two_zones: dict[str, Any]
) -> None:
    world = estate_of_two_zones
    with in_company(company_a):
        desk = api_client(
            company_a,
            account_services.api_token_create(user=_user(company_a, "cs_staff", world["project"], None), name="d")[1],
        )
        books = api_client(
            company_a,
            account_services.api_token_create(user=_user(company_a, "finance", world["project"], None), name="f")[1],
        )
    void = f"{API}/payments/{world['payment'].pk}/void/"
    refused = desk.post(void, {"reason": "收错"}, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    assert desk.get(f"{API}/payments/{world['payment'].pk}/").json()["receipt"]["voided"] is False
    assert desk.get(f"{API}/reports/collection/", {"from": "2026-01", "to": "2026-01"}).status_code == 403
    assert desk.get(f"{API}/reports/arrears/").status_code == 403
    # The desk takes the payment; finance voids it.
    assert (
        desk.post(f"{API}/accounts/{world['account'].pk}/payments/", {"amount": "5", "method": "pos"}).status_code
        == 201
    )
    voided = books.post(void, {"reason": "收错"}, format="json")
    assert voided.status_code == 200 and voided.json()["receipt"]["voided"] is True
    assert books.get(f"{API}/reports/collection/", {"from": "2026-01", "to": "2026-01"}).status_code == 200


def test_engineering_reads_meters_but_sees_no_accounts(
    company_a: CompanyFixture, api_client: Any, estate_of_two_zones: dict[str, Any]
) -> None:
    world = estate_of_two_zones
    with in_company(company_a):
        user = _user(company_a, "engineering", world["project"], None)
        client = api_client(company_a, account_services.api_token_create(user=user, name="e")[1])
    url = f"{API}/projects/{world['project'].pk}/readings/"
    entered = client.post(url, {"meter": str(world["meter"].pk), "period": "2026-01", "reading": "12"}, format="json")
    assert entered.status_code == 201, entered.json()
    sheet = client.get(url, {"period": "2026-01"})
    assert sheet.status_code == 200 and str(world["meter"].pk) in {row["meter"]["id"] for row in sheet.json()}
    # Entering is not correcting, nor confirming an abnormal reading.
    assert client.patch(f"{API}/readings/{entered.json()['id']}/", {"reading": "13"}, format="json").status_code == 403
    assert client.post(f"{API}/readings/{world['flagged'].pk}/review/").status_code == 403
    assert client.get(f"{API}/accounts/").status_code == 403
    assert client.get(f"{API}/accounts/{world['account'].pk}/").status_code == 403
    assert client.get(f"{API}/bills/").status_code == 403
    assert client.get(f"{API}/tariffs/").status_code == 403
