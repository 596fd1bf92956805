"""Uploading a file: every row checked first, all or nothing, a report naming each bad row, column and
reason; the files refused (not a spreadsheet, empty, unknown columns, too big, too many rows); Chinese
and English headers and values; CSV in UTF-8 with or without BOM and in GB18030."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings

from modules.estate.models import Building, Unit, Zone
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
    xlsx,
)
from wuye.core.models import AuditAction, AuditEntry
from wuye.imports.models import ImportBatch
from wuye.testing.plugin import CompanyFixture, in_company


@pytest.fixture
def project(company_a: CompanyFixture) -> Any:
    with in_company(company_a):
        return estate.project(company_a.admin(), code="huating", name="华庭")


@pytest.fixture
def client(company_a: CompanyFixture, api_client, admin_token) -> Any:
    return api_client(company_a, admin_token(company_a))


@pytest.fixture
def english(client: Any) -> Any:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _counts(company: CompanyFixture, project: Any) -> tuple[int, int, int]:
    with in_company(company):
        return (
            Zone.objects.filter(project=project).count(),
            Building.objects.filter(project=project).count(),
            Unit.objects.filter(project=project).count(),
        )


def _problems(response: Any) -> list[tuple[int, str, str]]:
    return [(p["row"], p["column"], p["value"]) for p in response.json()["batch"]["problems"]]


# ------------------------------------------------------------------------------------------ all or nothing
def test_one_bad_row_among_good_ones_writes_nothing_and_the_report_names_it(
    company_a: CompanyFixture, project: Any, client: Any
) -> None:
    rows = unit_rows("huating", 30)
    rows[6][6] = "0"  # spreadsheet row 8: a floor area of zero
    rows[20][3] = rows[1][3]  # spreadsheet row 22: the unit number of row 3, same building
    response = upload(client, "buildings_units", "units.xlsx", xlsx([UNIT_HEADERS_ZH, *rows]))

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]["code"] == "import_rejected"
    assert body["batch"]["status"] == "rejected"
    assert body["batch"]["rows_total"] == 30
    assert body["batch"]["error_count"] == 2
    assert _problems(response) == [(8, "floor_area", "0"), (22, "unit", rows[1][3])]
    duplicate = body["batch"]["problems"][1]
    assert "3" in duplicate["reason"], "the duplicate's problem names the row it repeats"
    assert _counts(company_a, project) == (0, 0, 0)
    with in_company(company_a):
        batch = ImportBatch.objects.get(pk=body["batch"]["id"])
        assert batch.status == "rejected" and batch.rows is None
        assert not AuditEntry.objects.filter(batch=batch.pk).exists()

    report = client.get(body["batch"]["links"]["report_xlsx"])
    assert report.status_code == 200
    assert report["Content-Type"].startswith("application/vnd.openxmlformats")
    lines = read_xlsx(report.content)
    assert len(lines) == 3  # a header and one line per problem
    by_row = {line[0]: line for line in lines[1:]}
    assert by_row[8][1:3] == ["建筑面积", "0"] and by_row[8][3]
    assert by_row[22][1:3] == ["房号", rows[1][3]] and by_row[22][3]

    report = client.get(body["batch"]["links"]["report_csv"])
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    lines = read_csv(report.content)
    assert [line[:3] for line in lines[1:]] == [["8", "建筑面积", "0"], ["22", "房号", rows[1][3]]]


def test_a_clean_file_is_queued_then_written_with_an_audit_entry_per_record(
    company_a: CompanyFixture, project: Any, client: Any
) -> None:
    rows = unit_rows("huating", 8, building="1栋") + unit_rows("huating", 4, building="2栋", zone="二区")
    response = upload(client, "buildings_units", "units.xlsx", xlsx([UNIT_HEADERS_ZH, *rows]))
    assert response.status_code == 201, response.content
    batch = response.json()
    assert (batch["status"], batch["rows_total"], batch["rows_done"], batch["error_count"]) == ("queued", 12, 0, 0)
    assert _counts(company_a, project) == (0, 0, 0)

    run_queued(company_a, batch["id"])
    done = client.get(f"/api/v1/imports/{batch['id']}/").json()
    assert (done["status"], done["rows_done"], done["percent"], done["created_count"]) == ("done", 12, 100, 16)
    assert _counts(company_a, project) == (2, 2, 12)
    with in_company(company_a):
        unit = Unit.objects.select_related("building", "zone").get(project=project, number="1-04", building__name="2栋")
        assert (unit.zone.name, unit.floor, unit.floor_area, unit.kind, unit.status) == (
            "二区",
            1,
            Decimal("89.50"),
            "flat",
            "unsold",
        )
        entries = AuditEntry.objects.filter(batch=batch["id"], action=AuditAction.IMPORTED)
        assert entries.count() == 16
        assert entries.filter(object_type="estate.unit", object_id=str(unit.pk)).exists()
        assert set(entries.values_list("actor_label", flat=True)) == {company_a.admin_email}
        with pytest.raises(ImportBatch.DoesNotExist):
            ImportBatch.objects.get(pk=batch["id"], rows__isnull=False)  # the rows are cleared once written


# ------------------------------------------------------------------------------------------ files refused
def _zip(names: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in names.items():
            archive.writestr(name, content)
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 4
REFUSED = {
    "a picture named .xlsx": ("units.xlsx", PNG, "not a workbook"),
    "a picture named .csv": ("units.csv", PNG, "not a spreadsheet"),
    "binary without NUL named .csv": ("units.csv", bytes(range(1, 256)) * 20, "not a spreadsheet"),
    "a Word document named .xlsx": ("units.xlsx", _zip({"word/document.xml": b"<w/>"}), "another kind of document"),
    "an old .xls": ("units.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".xls"),
    "a broken zip": ("units.xlsx", b"PK\x03\x04" + b"\x01" * 200, "damaged"),
    "a PDF": ("units.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "Only .xlsx and .csv"),
    "an empty file": ("units.csv", b"", "empty"),
    "blank lines only": ("units.csv", b"\xef\xbb\xbf\r\n,,,\r\n", "empty"),
    "an empty workbook": ("units.xlsx", xlsx([]), "empty"),
    "a header without rows": ("units.xlsx", xlsx([UNIT_HEADERS_ZH]), "no rows"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_files_that_are_not_spreadsheets_or_are_empty_are_refused(
    case: str, company_a: CompanyFixture, project: Any, english: Any
) -> None:
    name, content, reason = REFUSED[case]
    response = upload(english, "buildings_units", name, content)
    assert response.status_code == 400, response.content
    batch = response.json()["batch"]
    assert batch["status"] == "rejected" and batch["error_count"] == 1
    (problem,) = batch["problems"]
    assert problem["row"] == 0, "a problem of the whole file"
    assert reason in problem["reason"], problem["reason"]
    assert _counts(company_a, project) == (0, 0, 0)


def test_unknown_and_missing_columns_are_named(company_a: CompanyFixture, project: Any, english: Any) -> None:
    headers = [h for h in UNIT_HEADERS_ZH if h != "楼栋"] + ["备注", "Colour"]
    rows = [
        [cell for position, cell in enumerate(row) if position != 2] + ["x", "red"] for row in unit_rows("huating", 3)
    ]
    response = upload(english, "buildings_units", "units.xlsx", xlsx([headers, *rows]))
    assert response.status_code == 400
    problems = response.json()["batch"]["problems"]
    assert {(p["row"], p["column"]) for p in problems} == {(1, "备注"), (1, "Colour"), (1, "building")}
    unknown = next(p for p in problems if p["column"] == "Colour")
    assert "Unknown column" in unknown["reason"]
    missing = next(p for p in problems if p["column"] == "building")
    assert "Building" in missing["reason"] and "missing" in missing["reason"]
    assert _counts(company_a, project) == (0, 0, 0)


def test_a_cell_outside_the_headed_columns_is_a_problem(project: Any, client: Any) -> None:
    rows = unit_rows("huating", 2)
    rows[1].append("stray")
    response = upload(client, "buildings_units", "units.csv", csv_bytes([UNIT_HEADERS_ZH, *rows]))
    assert response.status_code == 400
    assert _problems(response) == [(3, "", "stray")]


def test_too_big_a_file_is_refused_before_it_is_read(
    company_a: CompanyFixture, project: Any, english: Any, company_client, monkeypatch
) -> None:
    with in_company(company_a):
        before = ImportBatch.objects.count()
    # The real limit: 21 MB of anything.
    response = upload(english, "buildings_units", "units.csv", b"a" * (21 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_big"
    assert "20 MB" in response.json()["error"]["message"]

    from wuye.imports import spreadsheets

    monkeypatch.setattr(spreadsheets, "MAX_FILE_BYTES", 2000)
    content = xlsx([UNIT_HEADERS_ZH, *unit_rows("huating", 200)])
    assert len(content) > 2000
    # Past the limit, within the request's announced length: the upload handler drops it while reading.
    response = upload(english, "buildings_units", "units.xlsx", content)
    assert response.status_code == 413 and response.json()["error"]["code"] == "file_too_big"

    page = company_client(company_a)
    page.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with in_company(company_a):
        page.force_login(company_a.admin())
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = page.post("/imports/new/", {"kind": "buildings_units", "file": SimpleUploadedFile("u.xlsx", content)})
    assert response.status_code == 413
    assert b"larger than" in response.content
    with in_company(company_a):
        assert ImportBatch.objects.count() == before, "a file too big to read leaves no batch"
    assert _counts(company_a, project) == (0, 0, 0)


def test_more_rows_than_the_limit_are_refused(project: Any, english: Any, monkeypatch) -> None:
    from wuye.imports import spreadsheets

    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 10)
    response = upload(english, "buildings_units", "units.csv", csv_bytes([UNIT_HEADERS_ZH, *unit_rows("huating", 11)]))
    assert response.status_code == 400
    (problem,) = response.json()["batch"]["problems"]
    assert problem["row"] == 0 and "more than 10 rows" in problem["reason"]
    response = upload(english, "buildings_units", "units.csv", csv_bytes([UNIT_HEADERS_ZH, *unit_rows("huating", 10)]))
    assert response.status_code == 201


# ------------------------------------------------------------------------------------------ languages, encodings
def _import(company: CompanyFixture, client: Any, name: str, content: bytes) -> dict[str, Any]:
    response = upload(client, "buildings_units", name, content)
    assert response.status_code == 201, response.content
    run_queued(company, response.json()["id"])
    return client.get(f"/api/v1/imports/{response.json()['id']}/").json()


def test_english_headers_and_values(company_a: CompanyFixture, project: Any, client: Any) -> None:
    rows = [
        ["huating", "East", "Block 7", "101", "1", "shop", "45.5", "vacant"],
        ["huating", "East", "Block 7", "102", "1", "Garage", "12", "Occupied"],
    ]
    # Headers in another case, spacing and width than the template's, and a required mark.
    headers = ["PROJECT CODE", "zone", "Building*", "unit_number", "Floor", "Kind", "Floor Area", "Status"]
    assert _import(company_a, client, "units.xlsx", xlsx([headers, *rows]))["status"] == "done"
    with in_company(company_a):
        units = {u.number: (u.kind, u.status, u.floor_area) for u in Unit.objects.filter(project=project)}
    assert units == {"101": ("shop", "vacant", Decimal("45.50")), "102": ("garage", "occupied", Decimal("12.00"))}


def test_chinese_values_and_full_width_headers(company_a: CompanyFixture, project: Any, client: Any) -> None:
    rows = [
        ["huating", "", "3栋", "3-101", "1", "商铺", "60", "装修中"],
        ["huating", "", "3栋", "3-B1", "-1", "车库", "15.25", "入住"],
        ["huating", "", "3栋", "3-201", "2", "其他", "70", "空置"],
        ["huating", "", "3栋", "3-202", "2", "", "70", ""],
    ]
    headers = ["项目编码", "分区", "楼栋", "房号", "楼层", "类型", "建筑面积", "状态"]
    headers[0] = "项目编码＊"  # a full-width asterisk, as some templates mark required columns
    assert _import(company_a, client, "单元.xlsx", xlsx([headers, *rows]))["status"] == "done"
    with in_company(company_a):
        units = {u.number: (u.kind, u.status, u.floor, u.zone_id) for u in Unit.objects.filter(project=project)}
    assert units == {
        "3-101": ("shop", "renovating", 1, None),
        "3-B1": ("garage", "occupied", -1, None),
        "3-201": ("other", "vacant", 2, None),
        "3-202": ("flat", "unsold", 2, None),
    }


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_csv_in_the_encodings_excel_saves(encoding: str, company_a: CompanyFixture, project: Any, client: Any) -> None:
    rows = [["huating", "东区", "一号楼", "甲-101", "1", "住宅", "88.8", "未售"]]
    content = csv_bytes([UNIT_HEADERS_ZH, *rows], encoding=encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            content.decode("utf-8")  # really not UTF-8
    assert _import(company_a, client, "units.csv", content)["status"] == "done"
    with in_company(company_a):
        unit = Unit.objects.select_related("building", "zone").get(project=project)
    assert (unit.zone.name, unit.building.name, unit.number) == ("东区", "一号楼", "甲-101")


def test_english_headers_in_a_semicolon_or_tab_separated_file(
    company_a: CompanyFixture, project: Any, client: Any
) -> None:
    rows = [["huating", "", "B", "1", "1", "flat", "50", "unsold"]]
    text = "\t".join(UNIT_HEADERS_EN) + "\r\n" + "\t".join(rows[0]) + "\r\n"
    assert _import(company_a, client, "units.csv", text.encode())["status"] == "done"
    assert _counts(company_a, project) == (0, 1, 1)


# ------------------------------------------------------------------------------------------ permission
def test_a_role_without_the_kinds_permission_may_not_import(
    company_a: CompanyFixture, project: Any, api_client
) -> None:
    from tests.support.imports import user_with_role
    from wuye.accounts import services as account_services

    guard = user_with_role(company_a, "security", project=project)
    with in_company(company_a):
        token = account_services.api_token_create(user=guard, name="t")[1]
        before = ImportBatch.objects.count()
    client = api_client(company_a, token)
    response = upload(client, "buildings_units", "units.xlsx", xlsx([UNIT_HEADERS_ZH, *unit_rows("huating", 2)]))
    assert response.status_code == 403
    kinds = {kind["code"]: kind["may_import"] for kind in client.get("/api/v1/imports/kinds/").json()}
    assert kinds["buildings_units"] is False
    with in_company(company_a):
        assert ImportBatch.objects.count() == before
    assert _counts(company_a, project) == (0, 0, 0)


def test_an_unknown_kind_is_refused(client: Any) -> None:
    response = upload(client, "spaceships", "units.csv", csv_bytes([["a"], ["b"]]))
    assert response.status_code == 400
    assert "kind" in response.json()["error"]["fields"]
