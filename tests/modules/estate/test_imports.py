"""The estate's import kinds (buildings + units, parking spaces, meters): the rules each row is held to,
scope row by row, the templates (which import as they are) and the exports (the viewer's records)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from modules.estate import services
from modules.estate.models import Building, Meter, ParkingSpace, Unit, Zone
from tests.support import estate
from tests.support.imports import (
    UNIT_HEADERS_EN,
    UNIT_HEADERS_ZH,
    csv_bytes,
    read_csv,
    read_xlsx,
    run_queued,
    unit_rows,
    upload,
    user_with_role,
    xlsx,
)
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company

PARKING_HEADERS_ZH = ["项目编码", "分区", "车位号", "类型", "位置", "面积", "状态"]
PARKING_HEADERS_EN = ["Project code", "Zone", "Space number", "Kind", "Location", "Floor area", "Status"]
METER_HEADERS_ZH = ["项目编码", "表类", "表号", "倍率", "楼栋", "房号", "位置"]
METER_HEADERS_EN = ["Project code", "Meter kind", "Serial number", "Multiplier", "Building", "Unit number", "Location"]


@pytest.fixture
def admin(company_a: CompanyFixture) -> Any:
    with in_company(company_a):
        return company_a.admin()


@pytest.fixture
def project(company_a: CompanyFixture, admin: Any) -> Any:
    with in_company(company_a):
        return estate.project(admin, code="huating", name="华庭")


@pytest.fixture
def client(company_a: CompanyFixture, api_client, admin_token) -> Any:
    client = api_client(company_a, admin_token(company_a))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _token_client(company: CompanyFixture, user: Any, api_client: Any) -> Any:
    with in_company(company):
        client = api_client(company, account_services.api_token_create(user=user, name="t")[1])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _rejected(client: Any, kind: str, rows: list[list[Any]], headers: list[str]) -> list[tuple[int, str]]:
    response = upload(client, kind, "file.xlsx", xlsx([headers, *rows]))
    assert response.status_code == 400, response.content
    return [(p["row"], p["column"]) for p in response.json()["batch"]["problems"]]


def _reasons(client: Any, kind: str, rows: list[list[Any]], headers: list[str]) -> dict[tuple[int, str], str]:
    response = upload(client, kind, "file.xlsx", xlsx([headers, *rows]))
    assert response.status_code == 400, response.content
    return {(p["row"], p["column"]): p["reason"] for p in response.json()["batch"]["problems"]}


def _imported(company: CompanyFixture, client: Any, kind: str, content: bytes, name: str = "file.xlsx") -> None:
    response = upload(client, kind, name, content)
    assert response.status_code == 201, response.content
    run_queued(company, response.json()["id"])
    assert client.get(f"/api/v1/imports/{response.json()['id']}/").json()["status"] == "done"


# ------------------------------------------------------------------------------------------ units: row rules
def test_unit_values_are_held_to_the_models_rules(company_a: CompanyFixture, project: Any, client: Any) -> None:
    good = unit_rows("huating", 1)[0]

    def row(**changes: Any) -> list[Any]:
        columns = ["project", "zone", "building", "unit", "floor", "kind", "floor_area", "status"]
        values = dict(zip(columns, good, strict=True)) | changes
        return [values[column] for column in columns]

    rows = [
        row(unit="A1", floor_area="0"),
        row(unit="A2", floor_area="-5"),
        row(unit="A3", floor_area="100000.01"),
        row(unit="A4", floor_area="12.345"),
        row(unit="A5", floor_area="lots"),
        row(unit="A6", floor="201"),
        row(unit="A7", floor="2.5"),
        row(unit="A8", kind="villa"),
        row(unit="A9", status="sold"),
        row(unit=""),
        row(unit="B" * 31),
        row(unit="OK1", floor_area="100000"),  # the largest area there is: fine
        row(unit="OK2", floor="-20", floor_area="0.01"),
    ]
    reasons = _reasons(client, "buildings_units", rows, UNIT_HEADERS_ZH)
    assert set(reasons) == {
        (2, "floor_area"),
        (3, "floor_area"),
        (4, "floor_area"),
        (5, "floor_area"),
        (6, "floor_area"),
        (7, "floor"),
        (8, "floor"),
        (9, "kind"),
        (10, "status"),
        (11, "unit"),
        (12, "unit"),
    }
    assert "0.01" in reasons[(2, "floor_area")]
    assert "100000" in reasons[(4, "floor_area")]
    assert "decimal places" in reasons[(5, "floor_area")]
    assert "200" in reasons[(7, "floor")]
    assert "住宅/flat" in reasons[(9, "kind")]
    assert "30" in reasons[(12, "unit")]
    with in_company(company_a):
        assert not Unit.objects.filter(project=project).exists()


def test_duplicate_unit_numbers_in_the_file_and_in_the_database(
    company_a: CompanyFixture, admin: Any, project: Any, client: Any
) -> None:
    with in_company(company_a):
        zone = estate.zone(admin, project=project, name="一区")
        building = estate.building(admin, project=project, zone=zone, name="1栋")
        estate.unit(admin, building=building, number="1-01")
        archived = estate.unit(admin, building=building, number="1-02")
        services.unit_archive(by=admin, unit=archived)
        other = estate.building(admin, project=project, zone=zone, name="2栋")
        estate.unit(admin, building=other, number="1-03")
    rows = [*unit_rows("huating", 4), ["huating", "一区", "1栋", "1-04", 1, "住宅", "80", "未售"]]
    reasons = _reasons(client, "buildings_units", rows, UNIT_HEADERS_ZH)
    # 1-01 exists; 1-02 too, archived (the number stays taken); 1-03 is in another building: fine.
    assert set(reasons) == {(2, "unit"), (3, "unit"), (6, "unit")}
    assert reasons[(2, "unit")] == "The building already has a unit with this number."
    assert "row 5" in reasons[(6, "unit")]


def test_new_zones_and_buildings_are_made_once_and_existing_ones_reused(
    company_a: CompanyFixture, admin: Any, project: Any, client: Any
) -> None:
    with in_company(company_a):
        zone = estate.zone(admin, project=project, name="一区")
        existing = estate.building(admin, project=project, zone=zone, name="1栋")
    rows = [
        ["huating", "一区", "1栋", "1-01", 1, "住宅", "80", "未售"],
        ["huating", "", "1栋", "1-02", 1, "住宅", "80", "未售"],  # the zone left out: the building's own
        ["huating", "", "8栋", "8-01", 1, "住宅", "80", "未售"],
        ["huating", "八区", "8栋", "8-02", 1, "住宅", "80", "未售"],  # names the new building's zone
        ["huating", "八区", "9栋", "9-01", 1, "住宅", "80", "未售"],
    ]
    _imported(company_a, client, "buildings_units", xlsx([UNIT_HEADERS_ZH, *rows]))
    with in_company(company_a):
        assert Zone.objects.filter(project=project).count() == 2
        assert Building.objects.filter(project=project).count() == 3
        placed = dict(Unit.objects.filter(project=project).values_list("number", "zone__name"))
        assert placed == {"1-01": "一区", "1-02": "一区", "8-01": "八区", "8-02": "八区", "9-01": "八区"}
        assert Unit.objects.filter(building=existing).count() == 2
        assert set(Building.objects.filter(project=project).values_list("name", "zone__name")) == {
            ("1栋", "一区"),
            ("8栋", "八区"),
            ("9栋", "八区"),
        }


def test_a_building_in_two_zones_is_refused(company_a: CompanyFixture, admin: Any, project: Any, client: Any) -> None:
    with in_company(company_a):
        estate.building(admin, project=project, zone=estate.zone(admin, project=project, name="一区"), name="1栋")
    rows = [
        ["huating", "二区", "1栋", "1-01", 1, "住宅", "80", "未售"],  # 1栋 is in 一区
        ["huating", "三区", "7栋", "7-01", 1, "住宅", "80", "未售"],
        ["huating", "四区", "7栋", "7-02", 1, "住宅", "80", "未售"],  # the new 7栋 was put in 三区 by row 3
    ]
    reasons = _reasons(client, "buildings_units", rows, UNIT_HEADERS_ZH)
    assert set(reasons) == {(2, "zone"), (4, "zone")}
    assert "一区" in reasons[(2, "zone")]
    assert "Row 3" in reasons[(4, "zone")]


def test_archived_parents_are_refused(company_a: CompanyFixture, admin: Any, project: Any, client: Any) -> None:
    with in_company(company_a):
        building = estate.building(admin, project=project, name="旧楼")
        services.building_archive(by=admin, building=building)
        old = estate.project(admin, code="old")
        services.project_archive(by=admin, project=old)
    rows = [
        ["huating", "", "旧楼", "1", 1, "住宅", "80", "未售"],
        ["old", "", "1栋", "1", 1, "住宅", "80", "未售"],
    ]
    assert _rejected(client, "buildings_units", rows, UNIT_HEADERS_ZH) == [(2, "building"), (3, "project")]


# ------------------------------------------------------------------------------------------ units: who and where
def test_a_project_the_importer_does_not_work_in_is_an_error_row_by_row(
    company_a: CompanyFixture, admin: Any, project: Any, api_client
) -> None:
    with in_company(company_a):
        elsewhere = estate.project(admin, code="elsewhere")
    manager = user_with_role(company_a, "project_manager", project=project)
    client = _token_client(company_a, manager, api_client)
    rows = [
        *unit_rows("huating", 2),
        ["elsewhere", "", "1栋", "1-01", 1, "住宅", "80", "未售"],
        ["nowhere", "", "1栋", "1-01", 1, "住宅", "80", "未售"],
    ]
    reasons = _reasons(client, "buildings_units", rows, UNIT_HEADERS_ZH)
    assert set(reasons) == {(4, "project"), (5, "project")}
    # A project that exists elsewhere in the company reads the same as one that does not exist.
    assert reasons[(4, "project")] == reasons[(5, "project")]
    _imported(company_a, client, "buildings_units", xlsx([UNIT_HEADERS_ZH, *unit_rows("huating", 2)]))
    with in_company(company_a):
        assert Unit.objects.filter(project=project).count() == 2
        assert not Unit.objects.filter(project=elsewhere).exists()


def test_creating_zones_and_buildings_needs_their_own_permission(
    company_a: CompanyFixture, admin: Any, project: Any, api_client
) -> None:
    with in_company(company_a):
        zone = estate.zone(admin, project=project, name="一区")
    manager = user_with_role(company_a, "cs_manager", project=project)  # may add buildings and units, not zones
    client = _token_client(company_a, manager, api_client)
    rows = [
        ["huating", "一区", "1栋", "1-01", 1, "住宅", "80", "未售"],
        ["huating", "新区", "2栋", "2-01", 1, "住宅", "80", "未售"],
    ]
    reasons = _reasons(client, "buildings_units", rows, UNIT_HEADERS_ZH)
    assert list(reasons) == [(3, "zone")] and "may not create zones" in reasons[(3, "zone")]
    _imported(company_a, client, "buildings_units", xlsx([UNIT_HEADERS_ZH, rows[0]]))
    with in_company(company_a):
        assert Unit.objects.get(project=project).zone == zone


def test_the_import_page_and_api_refuse_roles_without_the_add_permission(
    company_a: CompanyFixture, project: Any, api_client
) -> None:
    with in_company(company_a):
        zone = estate.zone(company_a.admin(), project=project)
    zone_manager = user_with_role(company_a, "zone_manager", project=project, zones=[zone])
    client = _token_client(company_a, zone_manager, api_client)
    response = upload(client, "buildings_units", "u.xlsx", xlsx([UNIT_HEADERS_ZH, *unit_rows("huating", 1)]))
    assert response.status_code == 403


# ------------------------------------------------------------------------------------------ parking spaces
def test_parking_spaces(company_a: CompanyFixture, admin: Any, project: Any, client: Any) -> None:
    with in_company(company_a):
        estate.zone(admin, project=project, name="一区")
        estate.parking_space(admin, project=project, number="B1-001")
    bad = [
        ["huating", "", "B1-001", "", "", "", ""],  # taken
        ["huating", "无此区", "B1-002", "", "", "", ""],
        ["huating", "", "B1-003", "空中", "", "", ""],
        ["huating", "", "B1-004", "", "", "0", ""],
        ["huating", "", "B1-005", "", "", "", "sold"],
        ["huating", "", "B1-005", "", "", "", ""],
    ]
    assert _rejected(client, "parking_spaces", bad, PARKING_HEADERS_ZH) == [
        (2, "number"),
        (3, "zone"),
        (4, "kind"),
        (5, "floor_area"),
        (7, "number"),
    ]
    good = [
        ["huating", "一区", "B1-010", "地下", "负一层", "12.5", "已售"],
        ["huating", "", "A-1", "surface", "", "", "rented"],
        ["huating", "", "M-1", "机械", "", "", ""],
    ]
    _imported(company_a, client, "parking_spaces", xlsx([PARKING_HEADERS_ZH, *good]))
    with in_company(company_a):
        spaces = {
            s.number: (s.zone.name if s.zone else None, s.kind, s.status, s.floor_area)
            for s in ParkingSpace.objects.filter(project=project).select_related("zone")
        }
    assert spaces == {
        "B1-001": (None, "underground", "available", None),
        "B1-010": ("一区", "underground", "sold", Decimal("12.50")),
        "A-1": (None, "surface", "rented", None),
        "M-1": (None, "mechanical", "available", None),
    }


# ------------------------------------------------------------------------------------------ meters
def test_meters_on_units_and_common_meters(company_a: CompanyFixture, admin: Any, project: Any, client: Any) -> None:
    with in_company(company_a):
        building = estate.building(admin, project=project, name="1栋")
        unit = estate.unit(admin, building=building, number="1-101")
        estate.meter(admin, project=project, kind="water", serial="W-1")
    bad = [
        ["huating", "水", "W-1", "", "", "", ""],  # taken (water W-1)
        ["huating", "油", "X-1", "", "", "", ""],
        ["huating", "电", "E-1", "0", "", "", ""],
        ["huating", "电", "E-2", "", "1栋", "", ""],
        ["huating", "电", "E-3", "", "", "1-101", ""],
        ["huating", "电", "E-4", "", "1栋", "9-999", ""],
        ["huating", "气", "", "", "", "", ""],
    ]
    assert _rejected(client, "meters", bad, METER_HEADERS_ZH) == [
        (2, "serial"),
        (3, "kind"),
        (4, "multiplier"),
        (5, "unit"),
        (6, "building"),
        (7, "unit"),
        (8, "serial"),
    ]
    good = [
        ["huating", "电", "W-1", "40", "", "", "配电房"],  # the same serial as a water meter: another kind
        ["huating", "水表", "W-2", "", "1栋", "1-101", "管道井"],
        ["huating", "gas", "G-1", "1.5", "1栋", "1-101", ""],
    ]
    _imported(company_a, client, "meters", xlsx([METER_HEADERS_ZH, *good]))
    with in_company(company_a):
        meters = {
            (m.kind, m.serial): (m.unit_id, m.multiplier, m.location) for m in Meter.objects.filter(project=project)
        }
    assert meters == {
        ("water", "W-1"): (None, Decimal("1"), ""),
        ("electricity", "W-1"): (None, Decimal("40"), "配电房"),
        ("water", "W-2"): (unit.pk, Decimal("1"), "管道井"),
        ("gas", "G-1"): (unit.pk, Decimal("1.5"), ""),
    }


# ------------------------------------------------------------------------------------------ templates
TEMPLATES = {
    "buildings_units": (UNIT_HEADERS_ZH, UNIT_HEADERS_EN),
    "parking_spaces": (PARKING_HEADERS_ZH, PARKING_HEADERS_EN),
    "meters": (METER_HEADERS_ZH, METER_HEADERS_EN),
}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_templates_have_the_headers_of_the_language_and_two_examples_that_import(
    language: str, company_a: CompanyFixture, project: Any, client: Any
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for kind, (zh, en) in TEMPLATES.items():  # in this order: the meters' example unit comes from the first
        workbook = client.get(f"/api/v1/imports/templates/{kind}.xlsx")
        assert workbook.status_code == 200
        assert "attachment" in workbook["Content-Disposition"]
        lines = read_xlsx(workbook.content)
        assert lines[0] == (zh if language == "zh-hans" else en)
        assert len(lines) == 3, "a header and two example rows"
        instructions = read_xlsx(workbook.content, sheet=1)
        assert [line[0] for line in instructions[1:]] == lines[0]
        text = client.get(f"/api/v1/imports/templates/{kind}.csv")
        assert read_csv(text.content) == [[cell or "" for cell in line] for line in lines]
        _imported(company_a, client, kind, workbook.content, name=f"{kind}.xlsx")
    with in_company(company_a):
        assert Unit.objects.filter(project=project).count() == 2
        assert ParkingSpace.objects.filter(project=project).count() == 2
        assert Meter.objects.filter(project=project).count() == 2
        assert Meter.objects.filter(project=project, unit__isnull=False).count() == 1


# ------------------------------------------------------------------------------------------ exports
def test_exports_hold_the_viewers_records_in_the_import_columns(
    company_a: CompanyFixture, admin: Any, project: Any, client: Any, api_client
) -> None:
    rows = unit_rows("huating", 3, building="1栋", zone="一区") + unit_rows("huating", 2, building="2栋", zone="二区")
    _imported(company_a, client, "buildings_units", xlsx([UNIT_HEADERS_ZH, *rows]))
    with in_company(company_a):
        other = estate.project(admin, code="other")
        estate.unit(admin, building=estate.building(admin, project=other, name="X"), number="X-1")
        first_zone = Zone.objects.get(project=project, name="一区")

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    exported = read_xlsx(client.get("/api/v1/imports/exports/buildings_units.xlsx").content)
    assert exported[0] == UNIT_HEADERS_ZH
    found = {
        (code, zone or "", building, str(number), int(floor), kind, Decimal(str(area)), status)
        for code, zone, building, number, floor, kind, area, status in exported[1:]
    }
    assert found == {
        *(
            (code, zone, building, number, floor, "住宅", Decimal("89.50"), "未售")
            for code, zone, building, number, floor, *_ in rows
        ),
        ("other", "", "X", "X-1", 1, "住宅", Decimal("89.50"), "未售"),
    }
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    exported = read_csv(client.get("/api/v1/imports/exports/buildings_units.csv").content)
    assert exported[0] == UNIT_HEADERS_EN
    assert ["huating", "一区", "1栋", "1-01", "1", "flat", "89.50", "unsold"] in exported

    # A zone manager's export: their zone's units only.
    zone_manager = user_with_role(company_a, "zone_manager", project=project, zones=[first_zone])
    theirs = read_csv(
        _token_client(company_a, zone_manager, api_client).get("/api/v1/imports/exports/buildings_units.csv").content
    )
    assert sorted(line[3] for line in theirs[1:]) == ["1-01", "1-02", "1-03"]

    # Exported rows are import rows: into a new project, they import as they are.
    with in_company(company_a):
        estate.project(admin, code="copy")
    copied = [["copy", *line[1:]] for line in exported[1:] if line[0] == "huating"]
    _imported(company_a, client, "buildings_units", csv_bytes([exported[0], *copied]), name="copy.csv")


def test_an_export_needs_the_view_permission(company_a: CompanyFixture, project: Any, api_client) -> None:
    cleaner = user_with_role(company_a, "cleaning", project=project)
    client = _token_client(company_a, cleaner, api_client)
    assert client.get("/api/v1/imports/exports/buildings_units.xlsx").status_code == 403
    assert client.get("/api/v1/imports/exports/meters.csv").status_code == 403
