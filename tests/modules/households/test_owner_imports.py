"""The owners import: people and ownership from a spreadsheet, all or nothing, with the services' rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from modules.households.models import Occupancy, Ownership, Person
from tests.support import estate, households
from tests.support.households import resident_id
from tests.support.imports import read_xlsx, run_queued, upload, xlsx
from wuye.core.models import AuditEntry
from wuye.testing.plugin import CompanyFixture, in_company

HEADERS_ZH = [
    "项目编码",
    "楼栋",
    "房号",
    "业主姓名",
    "手机",
    "邮箱",
    "证件类型",
    "证件号码",
    "产权份额",
    "产权起始日",
    "产权证号",
    "是否自住",
]
ID_A = resident_id("31011519800101123")
ID_B = resident_id("44030519851212456")


@pytest.fixture
def site(company_a: CompanyFixture) -> Any:
    with in_company(company_a):
        admin = company_a.admin()
        project = estate.project(admin, code="owners", name="业主花园")
        building = estate.building(admin, project=project, name="1栋")
        units = [estate.unit(admin, building=building, number=f"1-{n:02d}") for n in range(1, 4)]
        return {"admin": admin, "project": project, "units": units}


@pytest.fixture
def client(company_a: CompanyFixture, api_client, admin_token) -> Any:
    client = api_client(company_a, admin_token(company_a))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _row(
    unit: str, name: str, id_number: str = "", share: str = "100", since: Any = "2021-06-01", lives: str = "是"
) -> list[Any]:
    return [
        "owners",
        "1栋",
        unit,
        name,
        "13800138000",
        "",
        "身份证" if id_number else "",
        id_number,
        share,
        since,
        "",
        lives,
    ]


def test_owners_are_imported_with_their_ownership_and_occupancy(company_a: CompanyFixture, site, client) -> None:
    content = xlsx(
        [
            HEADERS_ZH,
            _row("1-01", "王伟", ID_A, "50", dt.date(2021, 6, 1)),  # a date cell, as Excel stores it
            _row("1-01", "李娜", ID_B, "50", "2021/06/01", "否"),
            _row("1-02", "王伟", ID_A.lower(), "100", "2022-01-15"),  # the same document: the same person
        ]
    )
    response = upload(client, "owners", "owners.xlsx", content)
    assert response.status_code == 201, response.content
    run_queued(company_a, response.json()["id"])
    with in_company(company_a):
        assert Person.objects.filter(name="王伟").count() == 1
        wang = Person.objects.get(name="王伟")
        assert wang.id_number == ID_A and wang.id_number_hint == ID_A[:4] + "*" * 10 + ID_A[-4:]
        owned = sorted((o.unit.number, o.share, o.starts_on) for o in Ownership.objects.filter(person=wang))
        assert owned == [
            ("1-01", Decimal("50.00"), dt.date(2021, 6, 1)),
            ("1-02", Decimal("100.00"), dt.date(2022, 1, 15)),
        ]
        assert Occupancy.objects.filter(person=wang).count() == 2
        assert not Occupancy.objects.filter(person__name="李娜").exists()
        # The audit entries of the import keep no ID number in clear.
        entries = AuditEntry.objects.filter(batch=response.json()["id"], object_type="households.person")
        assert entries.count() == 2 and all(ID_A not in str(e.changes) and ID_B not in str(e.changes) for e in entries)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number FROM households_person WHERE id = %s", [wang.pk])
            assert ID_A not in cursor.fetchone()[0]


def test_one_bad_row_writes_nothing_and_is_named(company_a: CompanyFixture, site, client) -> None:
    with in_company(company_a):
        households.owner(site["admin"], site["units"][2], share=Decimal("70"), on=dt.date(2020, 1, 1))
    content = xlsx(
        [
            HEADERS_ZH,
            _row("1-01", "好人", ID_A),
            _row("1-02", "错号", ID_B[:-1] + ("0" if ID_B[-1] != "0" else "1")),
            _row("1-03", "超份额", "", "40"),  # 70 % on file + 40 % > 100 %
            _row("9-99", "无此房", ""),
            _row("1-01", "重复份额", "", "10"),  # 100 % from row 2 + 10 %
        ]
    )
    response = upload(client, "owners", "owners.xlsx", content)
    assert response.status_code == 400
    problems = {(p["row"], p["column"]) for p in response.json()["batch"]["problems"]}
    assert problems == {(3, "id_number"), (4, "share"), (5, "unit"), (6, "share")}
    with in_company(company_a):
        assert not Person.objects.filter(name__in=["好人", "错号", "超份额"]).exists()
        assert Ownership.objects.filter(unit__in=site["units"][:2]).count() == 0


def test_the_template_imports_as_it_is_and_the_export_reimports(company_a: CompanyFixture, site, client) -> None:
    template = client.get("/api/v1/imports/templates/owners.xlsx")
    assert template.status_code == 200
    rows = read_xlsx(template.content)
    assert rows[0][:4] == ["Project code", "Building", "Unit number", "Owner"]
    with in_company(company_a):
        households.owner(site["admin"], site["units"][0], name="导出者", on=dt.date(2020, 3, 1))
    exported = client.get("/api/v1/imports/exports/owners.xlsx")
    assert exported.status_code == 200
    data = read_xlsx(exported.content)
    assert [row[3] for row in data[1:]] == ["导出者"] and data[1][9] == "2020-03-01"


def test_an_owners_import_is_undone_as_a_whole(company_a: CompanyFixture, site, client) -> None:
    response = upload(
        client, "owners", "owners.xlsx", xlsx([HEADERS_ZH, _row("1-01", "撤销者", ID_A), _row("1-02", "撤销者二", "")])
    )
    assert response.status_code == 201, response.content
    run_queued(company_a, response.json()["id"])
    undone = client.post(f"/api/v1/imports/{response.json()['id']}/undo/")
    assert undone.status_code == 200, undone.content
    with in_company(company_a):
        assert not Person.objects.filter(name__startswith="撤销者").exists()
        assert not Ownership.objects.filter(unit__in=site["units"]).exists()
        labels = set(
            AuditEntry.objects.filter(batch=response.json()["id"], action="undone").values_list(
                "object_label", flat=True
            )
        )
        assert any("撤销者" in label and "1-01" in label for label in labels)  # an ownership, labelled
