"""The meter-readings import kind: uploaded and written through the real import services, writing the same
records as entering each reading by hand (services.reading_record), and refusing a file row by row for the
reasons the service refuses a reading, with nothing written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from modules.fees import imports, services
from modules.fees.models import MeterReading
from tests.support import estate
from tests.support.imports import read_csv, run_queued, upload, user_with_role, xlsx
from wuye.accounts import services as account_services
from wuye.imports.registry import Context, Row
from wuye.testing.plugin import CompanyFixture, in_company

HEADERS_ZH = ["项目编码", "表类", "表号", "抄表月份", "本期读数", "抄表日期"]
HEADERS_EN = ["Project code", "Meter kind", "Serial number", "Period", "Reading", "Read on"]


def month(number: int) -> dt.date:
    return dt.date(2026, number, 1)


class Site:
    """A project `huating` with two zones, a unit in each, and meters with a history of readings."""

    def __init__(self, company: CompanyFixture) -> None:
        self.admin = admin = company.admin()
        self.project = estate.project(admin, code="huating", name="华庭")
        self.zone_a = estate.zone(admin, project=self.project, name="一区")
        self.zone_b = estate.zone(admin, project=self.project, name="二区")
        self.unit_a = estate.unit(admin, building=estate.building(admin, project=self.project, zone=self.zone_a))
        self.unit_b = estate.unit(admin, building=estate.building(admin, project=self.project, zone=self.zone_b))

    def meter(self, serial: str, *readings: str, kind: str = "water", unit: Any = "a", multiplier: str = "1") -> Any:
        """A meter with readings for January, February... in order."""
        on = {"a": self.unit_a, "b": self.unit_b, None: None}[unit]
        meter = estate.meter(
            self.admin, project=self.project, kind=kind, serial=serial, unit=on, multiplier=Decimal(multiplier)
        )
        for n, value in enumerate(readings, start=1):
            services.reading_record(by=self.admin, project=self.project, meter=meter, period=month(n), reading=value)
        return meter


@pytest.fixture
def site(company_a: CompanyFixture) -> Site:
    with in_company(company_a):
        return Site(company_a)


def _client(company: CompanyFixture, user: Any, api_client: Any) -> Any:
    with in_company(company):
        client = api_client(company, account_services.api_token_create(user=user, name="t")[1])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def client(company_a: CompanyFixture, site: Site, api_client: Any) -> Any:
    return _client(company_a, site.admin, api_client)


def _imported(company: CompanyFixture, client: Any, rows: list[list[Any]], headers: list[str] = HEADERS_ZH) -> Any:
    response = upload(client, "meter_readings", "readings.xlsx", xlsx([headers, *rows]))
    assert response.status_code == 201, response.content
    run_queued(company, response.json()["id"])
    batch = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert batch["status"] == "done", batch
    return batch


def _reasons(client: Any, rows: list[list[Any]], headers: list[str] = HEADERS_ZH) -> dict[tuple[int, str], str]:
    response = upload(client, "meter_readings", "readings.xlsx", xlsx([headers, *rows]))
    assert response.status_code == 400, response.content
    return {(p["row"], p["column"]): p["reason"] for p in response.json()["batch"]["problems"]}


def _fields(reading: MeterReading) -> tuple[Any, ...]:
    return (
        reading.period,
        reading.reading,
        reading.read_on,
        reading.previous,
        reading.consumption,
        reading.flagged,
        reading.replaced,
        reading.entered_by_id,
    )


# ------------------------------------------------------------------------------------------ a good file
def test_a_good_file_imports_its_readings(company_a: CompanyFixture, site: Site, client: Any) -> None:
    with in_company(company_a):
        site.meter("W-1", "100")
        site.meter("E-1", "1000", "1010", kind="electricity", multiplier="40")
        site.meter("G-1", kind="gas", unit=None)  # no reading yet: this one is its baseline
        before = MeterReading.objects.count()
    rows = [
        ["huating", "水", "W-1", "2026-02", "112.5", "2026-02-25"],
        ["huating", "电", "E-1", "2026-03", "1,020", ""],
        ["huating", "燃气", "G-1", "2026年3月", "7", "2026/3/28"],
    ]
    batch = _imported(company_a, client, rows)
    assert batch["created_count"] == 3
    with in_company(company_a):
        assert MeterReading.objects.count() == before + 3
        found = {
            r.meter.serial: (r.period, r.reading, r.previous, r.consumption, r.flagged, r.read_on)
            for r in MeterReading.objects.filter(batch_readings(rows)).select_related("meter")
        }
        today = timezone.localdate()
    assert found == {
        "W-1": (month(2), Decimal("112.5"), Decimal("100"), Decimal("12.5"), False, dt.date(2026, 2, 25)),
        # (1020 − 1010) × 40; read today when the file does not say
        "E-1": (month(3), Decimal("1020"), Decimal("1010"), Decimal("400"), False, today),
        "G-1": (month(3), Decimal("7"), None, None, False, dt.date(2026, 3, 28)),
    }


def batch_readings(rows: list[list[Any]]) -> Q:
    """The readings the rows name (serial and month)."""
    condition = Q(pk__in=[])
    for _project, _kind, serial, period, *_rest in rows:
        year, number = (int(part) for part in period.replace("年", "-").rstrip("月").split("-"))
        condition |= Q(meter__serial=serial, period=dt.date(year, number, 1))
    return condition


def test_the_import_writes_what_entering_each_reading_would(company_a: CompanyFixture, site: Site, client: Any) -> None:
    """Twin meters with the same history: one read by the import, the other by reading_record."""
    history = {
        "first": (),  # a baseline
        "normal": ("100", "110"),
        "multiplied": ("5000", "5003"),
        "fractional": ("100.0001", "100.0001"),  # 1.2345 × 1.5 = 1.85175: four places, half-up
        "steady": ("0", "10", "20", "30", "40", "50", "60"),  # six consumptions of 10
        "just_under": ("0", "10", "20", "30", "40", "50", "60"),  # 30 is not more than 3 × 10
        "long": ("0", "100", "110", "120", "130", "140", "150", "160"),  # the first consumption (100) is 7 back
        "zero_history": ("7", "7", "7"),  # an average of zero flags nothing
    }
    new = {
        "first": "42",
        "normal": "125",
        "multiplied": "5010",
        "fractional": "101.2346",
        "steady": "100",
        "just_under": "90",
        "long": "191",
        "zero_history": "50",
    }
    with in_company(company_a):
        pairs = {}
        for name, readings in history.items():
            options = {
                "multiplied": {"kind": "electricity", "multiplier": "80"},
                "fractional": {"multiplier": "1.5"},
            }.get(name, {})
            pairs[name] = (
                site.meter(f"I-{name}", *readings, **options),
                site.meter(f"S-{name}", *readings, **options),
            )
    rows = [
        ["huating", "电" if name == "multiplied" else "水", f"I-{name}", "2026-09", new[name], "2026-09-20"]
        for name in history
    ]
    _imported(company_a, client, rows)
    with in_company(company_a):
        for name, (imported, entered) in pairs.items():
            services.reading_record(
                by=site.admin,
                project=site.project,
                meter=entered,
                period=month(9),
                reading=new[name],
                read_on=dt.date(2026, 9, 20),
            )
            ours = MeterReading.objects.get(meter=imported, period=month(9))
            theirs = MeterReading.objects.get(meter=entered, period=month(9))
            assert _fields(ours) == _fields(theirs), name
        flagged = {
            name: MeterReading.objects.get(meter=imported, period=month(9)).flagged
            for name, (imported, _entered) in pairs.items()
        }
        assert flagged == {
            "first": False,
            "normal": False,
            "multiplied": False,
            "fractional": False,
            "steady": True,  # 40 > 3 × 10: held for review
            "just_under": False,
            "long": True,  # 31 > 3 × 10 (the last six); with the 100 of seven months back it would not be
            "zero_history": False,
        }
        multiplied = MeterReading.objects.get(meter=pairs["multiplied"][0], period=month(9))
        assert multiplied.consumption == Decimal("560")  # (5010 − 5003) × 80
        fractional = MeterReading.objects.get(meter=pairs["fractional"][0], period=month(9))
        assert fractional.consumption == Decimal("1.8518")


# ------------------------------------------------------------------------------------------ refusals
def test_a_reading_below_the_previous_one_is_refused_and_nothing_is_written(
    company_a: CompanyFixture, site: Site, client: Any
) -> None:
    with in_company(company_a):
        site.meter("W-1", "100", "120")
        site.meter("W-2", "50")
        before = list(MeterReading.objects.order_by("id").values_list("id", "reading"))
    rows = [
        ["huating", "水", "W-2", "2026-02", "60", ""],  # good, but the file is refused as a whole
        ["huating", "水", "W-1", "2026-03", "119.9", ""],
    ]
    reasons = _reasons(client, rows)
    assert list(reasons) == [(3, "reading")]
    assert "below the previous one (120)" in reasons[(3, "reading")]
    with in_company(company_a):
        assert list(MeterReading.objects.order_by("id").values_list("id", "reading")) == before


def test_each_rule_names_its_row_and_column(company_a: CompanyFixture, site: Site, client: Any) -> None:
    with in_company(company_a):
        site.meter("W-1", "100", "120")
        site.meter("W-2")
        site.meter("W-4")
        archived = site.meter("W-3")
        from modules.estate import services as estate_services

        estate_services.meter_archive(by=site.admin, meter=archived)
        estate.project(site.admin, code="other")
    rows = [
        ["nowhere", "水", "W-1", "2026-03", "130", ""],  # 2: no such project
        ["huating", "水", "W-9", "2026-03", "130", ""],  # 3: no such meter
        ["huating", "电", "W-1", "2026-03", "130", ""],  # 4: W-1 is a water meter
        ["huating", "水", "W-1", "2026-02", "130", ""],  # 5: February is read already
        ["huating", "水", "W-1", "2026-01", "130", ""],  # 6: the file has W-1 already (row 5)
        ["huating", "水", "W-2", "2026-03", "lots", ""],  # 7: not a number
        ["huating", "steam", "W-2", "2026-03", "1", ""],  # 8: no such kind
        ["huating", "水", "W-3", "2026-03", "1", ""],  # 9: archived
        ["other", "水", "W-1", "2026-03", "1", ""],  # 10: another project has no W-1
        ["huating", "气", "W-2", "March", "-1", "yesterday"],  # 11: bad month, negative, bad date (+ no gas W-2)
        ["huating", "水", "W-4", "2026-03", "1.23456", ""],  # 12: five decimals
    ]
    reasons = _reasons(client, rows, HEADERS_EN)
    assert set(reasons) == {
        (2, "project"),
        (3, "serial"),
        (4, "serial"),
        (5, "period"),
        (6, "serial"),
        (7, "reading"),
        (8, "kind"),
        (9, "serial"),
        (10, "serial"),
        (11, "period"),
        (11, "reading"),
        (11, "read_on"),
        (11, "serial"),
        (12, "reading"),
    }
    assert "already has a reading for 2026-02" in reasons[(5, "period")]
    assert "row 5" in reasons[(6, "serial")]
    assert "archived" in reasons[(9, "serial")]
    assert "水/water" in reasons[(8, "kind")]
    with in_company(company_a):
        assert not MeterReading.objects.filter(period=month(3)).exists()


def test_a_zone_manager_imports_only_meters_in_their_zone(
    company_a: CompanyFixture, site: Site, api_client: Any
) -> None:
    with in_company(company_a):
        site.meter("W-A", "10")
        site.meter("W-B", "10", unit="b")
        site.meter("W-C", "10", unit=None)  # a common meter: the project's, not a zone's
    zone_manager = user_with_role(company_a, "zone_manager", project=site.project, zones=[site.zone_a])
    client = _client(company_a, zone_manager, api_client)
    rows = [
        ["huating", "水", "W-A", "2026-02", "20", ""],
        ["huating", "水", "W-B", "2026-02", "5", ""],  # below its previous too: scope is all it is told
        ["huating", "水", "W-C", "2026-02", "20", ""],
    ]
    reasons = _reasons(client, rows)
    assert list(reasons) == [(3, "serial"), (4, "serial")]
    assert all("outside the projects and zones" in reason for reason in reasons.values())
    _imported(company_a, client, rows[:1])
    with in_company(company_a):
        assert MeterReading.objects.get(meter__serial="W-A", period=month(2)).entered_by_id == zone_manager.pk


def test_roles_without_the_readings_permission_may_not_import(
    company_a: CompanyFixture, site: Site, api_client: Any
) -> None:
    guard = user_with_role(company_a, "security", project=site.project)
    response = upload(
        _client(company_a, guard, api_client),
        "meter_readings",
        "r.xlsx",
        xlsx([HEADERS_ZH, ["huating", "水", "W-1", "2026-02", "1", ""]]),
    )
    assert response.status_code == 403


def test_a_reading_entered_after_the_check_fails_the_batch(company_a: CompanyFixture, site: Site, client: Any) -> None:
    with in_company(company_a):
        meter = site.meter("W-1", "100")
    response = upload(
        client, "meter_readings", "r.xlsx", xlsx([HEADERS_ZH, ["huating", "水", "W-1", "2026-02", "110", ""]])
    )
    assert response.status_code == 201, response.content
    with in_company(company_a):
        services.reading_record(by=site.admin, project=site.project, meter=meter, period=month(2), reading="111")
    run_queued(company_a, response.json()["id"])
    assert client.get(f"/api/v1/imports/{response.json()['id']}/").json()["status"] == "failed"
    with in_company(company_a):
        assert MeterReading.objects.get(meter=meter, period=month(2)).reading == Decimal("111")


# ------------------------------------------------------------------------------------------ template, export
def test_the_template_and_the_export(company_a: CompanyFixture, site: Site, client: Any, api_client: Any) -> None:
    with in_company(company_a):
        site.meter("W-A", "10", "12.5")
        site.meter("W-B", "7", unit="b")
    template = client.get("/api/v1/imports/templates/meter_readings.csv")
    assert template.status_code == 200
    assert read_csv(template.content)[0] == HEADERS_EN
    exported = read_csv(client.get("/api/v1/imports/exports/meter_readings.csv").content)
    assert exported[0] == HEADERS_EN
    assert [row[:5] for row in exported[1:]] == [
        ["huating", "water", "W-A", "2026-01", "10"],
        ["huating", "water", "W-A", "2026-02", "12.5"],
        ["huating", "water", "W-B", "2026-01", "7"],
    ]
    zone_manager = user_with_role(company_a, "zone_manager", project=site.project, zones=[site.zone_a])
    mine = read_csv(
        _client(company_a, zone_manager, api_client).get("/api/v1/imports/exports/meter_readings.csv").content
    )
    assert [row[2] for row in mine[1:]] == ["W-A", "W-A"]


def test_checking_and_writing_cost_the_same_queries_for_2_rows_as_for_20(company_a: CompanyFixture, site: Site) -> None:
    with in_company(company_a):
        for n in range(20):
            site.meter(f"Q-{n}", "10", "20", unit="a" if n % 2 else "b")

        def queries(count: int) -> tuple[int, int]:
            rows = [
                Row(
                    n + 2,
                    {"project": "huating", "kind": "水", "serial": f"Q-{n}", "period": "2026-03", "reading": "25"},
                )
                for n in range(count)
            ]
            with CaptureQueriesContext(connection) as checking:
                clean, problems = imports.check_readings(rows, Context(viewer=site.admin))
            assert problems == [] and len(clean) == count
            with transaction.atomic(), CaptureQueriesContext(connection) as writing:
                imports.write_readings(clean, Context(viewer=site.admin))
                transaction.set_rollback(True)
            return len(checking), len(writing)

        assert queries(2) == queries(20)


def test_undo_is_refused_while_a_later_reading_was_worked_out_from_an_imported_one(
    company_a: CompanyFixture, site: Site, client: Any
) -> None:
    with in_company(company_a):
        meter = site.meter("W-9", "100")
    batch = _imported(company_a, client, [["huating", "水", "W-9", "2026-02", "120", "2026-02-25"]])
    with in_company(company_a):
        # March read by hand afterwards: its previous value (120) and consumption (15) come from February's.
        services.reading_record(by=site.admin, project=site.project, meter=meter, period=month(3), reading="135")
        before = sorted(MeterReading.objects.filter(meter=meter).values_list("period", "reading"))
    refused = client.post(f"/api/v1/imports/{batch['id']}/undo/")
    assert refused.status_code == 400, refused.content
    assert refused.json()["error"]["code"] == "undo_later_records"
    message = refused.json()["error"]["message"]
    assert "W-9" in message and "2026-03" in message
    with in_company(company_a):
        assert sorted(MeterReading.objects.filter(meter=meter).values_list("period", "reading")) == before
        # Once the later reading is out of the way (here: it never was entered), the undo goes through.
        MeterReading.objects.filter(meter=meter, period=month(3)).delete()
    undone = client.post(f"/api/v1/imports/{batch['id']}/undo/")
    assert undone.status_code == 200, undone.content
    with in_company(company_a):
        assert list(MeterReading.objects.filter(meter=meter).values_list("period", flat=True)) == [month(1)]
