"""Spreadsheets for import tests, written with openpyxl and the csv module directly (not with the code
under test), and small helpers to upload them and to run a queued batch."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from modules.staff import services as staff_services
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company

# The columns the issue asks for, as a person would head them (the template's headers).
UNIT_HEADERS_ZH = ["项目编码", "分区", "楼栋", "房号", "楼层", "类型", "建筑面积", "状态"]
UNIT_HEADERS_EN = ["Project code", "Zone", "Building", "Unit number", "Floor", "Kind", "Floor area", "Status"]


def xlsx(rows: Sequence[Sequence[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: Sequence[Sequence[Any]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def read_xlsx(content: bytes, sheet: int = 0) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return [list(row) for row in workbook.worksheets[sheet].iter_rows(values_only=True)]


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "a CSV for Excel starts with a UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def unit_rows(
    project_code: str, count: int, *, building: str = "1栋", zone: str = "一区", start: int = 1
) -> list[list]:
    """`count` good unit rows: floors of four flats each."""
    rows = []
    for n in range(start, start + count):
        floor = (n - 1) // 4 + 1
        rows.append([project_code, zone, building, f"{floor}-{(n - 1) % 4 + 1:02d}", floor, "住宅", "89.50", "未售"])
    return rows


def upload(client: Any, kind: str, name: str, content: bytes) -> Any:
    return client.post(
        "/api/v1/imports/", {"kind": kind, "file": SimpleUploadedFile(name, content)}, format="multipart"
    )


def run_queued(company: CompanyFixture, batch_id: Any) -> Any:
    """What the task does, inline: in a test's rolled-back transaction nothing is ever committed, so the
    on-commit hook that queues the task never fires."""
    from wuye.imports import services

    with in_company(company):
        return services.batch_write(batch_id=batch_id)


def user_with_role(
    company: CompanyFixture, code: str, *, project: Any, zones: Sequence[Any] = (), email: str = ""
) -> Any:
    with in_company(company):
        user = account_services.user_create(
            email=email or f"{code}@imports.test", name=code, password="imports-password-9", roles=[code]
        )
        staff_services.staff_member_set(by=company.admin(), user=user, project=project, zones=list(zones))
        return user
