"""A batch after its upload: progress, undo (the same company day, nothing referring to what it made,
nothing changed since, once), who sees which batches, and companies kept apart (batches, pages,
progress keys in the cache)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest
import redis
import time_machine
from django.conf import settings

from modules.estate import services as estate_services
from modules.estate.models import Building, Unit, Zone
from tenants.models import Company
from tests.support import estate
from tests.support.imports import UNIT_HEADERS_ZH, run_queued, unit_rows, upload, user_with_role, xlsx
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


def _imported(company: CompanyFixture, client: Any, rows: list[list[Any]]) -> str:
    response = upload(client, "buildings_units", "units.xlsx", xlsx([UNIT_HEADERS_ZH, *rows]))
    assert response.status_code == 201, response.content
    batch_id = response.json()["id"]
    run_queued(company, batch_id)
    assert client.get(f"/api/v1/imports/{batch_id}/").json()["status"] == "done"
    return str(batch_id)


# ------------------------------------------------------------------------------------------ progress
def test_progress_is_read_from_the_cache_while_the_batch_is_pending(
    company_a: CompanyFixture, project: Any, client: Any
) -> None:
    from wuye.imports.progress import progress_set

    response = upload(client, "buildings_units", "units.xlsx", xlsx([UNIT_HEADERS_ZH, *unit_rows("huating", 40)]))
    batch_id = response.json()["id"]
    state = client.get(f"/api/v1/imports/{batch_id}/").json()
    assert (state["status"], state["rows_done"], state["rows_total"], state["percent"]) == ("queued", 0, 40, 0)

    # What the task reports as it writes (its transaction still open: the batch row says nothing yet).
    with in_company(company_a):
        progress_set(batch_id, status="running", done=10, total=40)
        assert ImportBatch.objects.get(pk=batch_id).rows_done == 0
    state = client.get(f"/api/v1/imports/{batch_id}/").json()
    assert (state["status"], state["rows_done"], state["percent"]) == ("running", 10, 25)

    page = _signed_in_page(company_a)
    polled = page.get(f"/imports/{batch_id}/progress/")
    assert polled.status_code == 200
    assert polled.json() == {
        "status": "running",
        "status_label": "Running",
        "rows_total": 40,
        "rows_done": 10,
        "percent": 25,
        "finished": False,
    }
    detail = page.get(f"/imports/{batch_id}/")
    assert detail.status_code == 200 and b"<progress" in detail.content

    run_queued(company_a, batch_id)
    assert page.get(f"/imports/{batch_id}/progress/").json()["finished"] is True
    state = client.get(f"/api/v1/imports/{batch_id}/").json()
    assert (state["status"], state["rows_done"], state["percent"]) == ("done", 40, 100)


def _signed_in_page(company: CompanyFixture, user: Any = None) -> Any:
    from django.test import Client

    page = Client(HTTP_HOST=company.host)
    page.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with in_company(company):
        page.force_login(user or company.admin())
    return page


def test_running_the_task_twice_writes_once(company_a: CompanyFixture, project: Any, client: Any) -> None:
    batch_id = _imported(company_a, client, unit_rows("huating", 6))
    assert run_queued(company_a, batch_id) is None  # already done: nothing to do
    with in_company(company_a):
        assert Unit.objects.filter(project=project).count() == 6
        assert AuditEntry.objects.filter(batch=batch_id, action=AuditAction.IMPORTED).count() == 1 + 1 + 6


def test_rows_that_went_bad_since_the_upload_fail_the_batch_and_write_nothing(
    company_a: CompanyFixture, project: Any, client: Any
) -> None:
    response = upload(client, "buildings_units", "units.xlsx", xlsx([UNIT_HEADERS_ZH, *unit_rows("huating", 5)]))
    batch_id = response.json()["id"]
    with in_company(company_a):  # someone enters unit 1-03 by hand before the task runs
        admin = company_a.admin()
        zone = estate.zone(admin, project=project, name="一区")
        building = estate.building(admin, project=project, zone=zone, name="1栋")
        estate.unit(admin, building=building, number="1-03")
    run_queued(company_a, batch_id)
    state = client.get(f"/api/v1/imports/{batch_id}/").json()
    assert state["status"] == "failed" and state["failure"]
    assert [(p["row"], p["column"]) for p in state["problems"]] == [(4, "unit")]
    with in_company(company_a):
        assert Unit.objects.filter(project=project).count() == 1


# ------------------------------------------------------------------------------------------ undo
def test_undo_deletes_what_the_batch_made_and_nothing_else(
    company_a: CompanyFixture, project: Any, client: Any
) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        zone = estate.zone(admin, project=project, name="一区")
        existing = estate.building(admin, project=project, zone=zone, name="1栋")
        kept = estate.unit(admin, building=existing, number="0-01")
    rows = unit_rows("huating", 8) + unit_rows("huating", 4, building="9栋", zone="九区")
    batch_id = _imported(company_a, client, rows)
    assert client.get(f"/api/v1/imports/{batch_id}/").json()["can_undo"] is True
    with in_company(company_a):
        assert Unit.objects.filter(project=project).count() == 13

    response = client.post(f"/api/v1/imports/{batch_id}/undo/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "undone" and response.json()["can_undo"] is False
    with in_company(company_a):
        assert list(Unit.objects.filter(project=project)) == [kept]
        assert list(Building.objects.filter(project=project)) == [existing]
        assert list(Zone.objects.filter(project=project)) == [zone]
        undone = AuditEntry.objects.filter(batch=batch_id, action=AuditAction.UNDONE)
        assert undone.filter(object_type="estate.unit").count() == 12
        assert undone.filter(object_type="imports.importbatch", object_id=batch_id).count() == 1
        assert set(undone.values_list("object_type", flat=True)) == {
            "estate.unit",
            "estate.building",
            "estate.zone",
            "imports.importbatch",
        }

    again = client.post(f"/api/v1/imports/{batch_id}/undo/")
    assert again.status_code == 400 and again.json()["error"]["code"] == "already_undone"


def test_undo_is_refused_when_a_unit_has_gained_a_meter(company_a: CompanyFixture, project: Any, client: Any) -> None:
    batch_id = _imported(company_a, client, unit_rows("huating", 5))
    with in_company(company_a):
        unit = Unit.objects.get(project=project, number="1-02")
        estate_services.meter_create(by=company_a.admin(), project=project, kind="water", serial="W1", unit=unit)
    response = client.post(f"/api/v1/imports/{batch_id}/undo/")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "undo_in_use"
    assert "1-02" in response.json()["error"]["message"]
    with in_company(company_a):
        assert Unit.objects.filter(project=project).count() == 5  # nothing deleted
        assert ImportBatch.objects.get(pk=batch_id).status == "done"
        assert not AuditEntry.objects.filter(batch=batch_id, action=AuditAction.UNDONE).exists()


def test_undo_is_refused_when_a_record_was_changed_since(company_a: CompanyFixture, project: Any, client: Any) -> None:
    batch_id = _imported(company_a, client, unit_rows("huating", 3))
    with in_company(company_a):
        unit = Unit.objects.get(project=project, number="1-01")
        estate_services.unit_update(by=company_a.admin(), unit=unit, floor_area=Decimal("90.10"))
    response = client.post(f"/api/v1/imports/{batch_id}/undo/")
    assert response.status_code == 400 and response.json()["error"]["code"] == "undo_changed_since"
    with in_company(company_a):
        assert Unit.objects.filter(project=project).count() == 3


@pytest.mark.parametrize(
    ("imported_at", "undone_at", "allowed"),
    [
        # Los Angeles (UTC-8 in January): 02:00 and 09:00 on 10 January. In Shanghai the second is the 11th.
        ("2026-01-10T10:00:00+00:00", "2026-01-10T17:00:00+00:00", True),
        # 23:00 on the 9th and 01:00 on the 10th in Los Angeles; one Shanghai day (15:00 and 17:00).
        ("2026-01-10T07:00:00+00:00", "2026-01-10T09:00:00+00:00", False),
    ],
)
def test_undo_is_possible_until_the_end_of_the_companys_day(
    imported_at: str, undone_at: str, allowed: bool, company_a: CompanyFixture, project: Any, client: Any
) -> None:
    Company.objects.filter(pk=company_a.company.pk).update(timezone="America/Los_Angeles")
    with time_machine.travel(dt.datetime.fromisoformat(imported_at), tick=False):
        batch_id = _imported(company_a, client, unit_rows("huating", 2))
        deadline = dt.datetime(2026, 1, 11 if allowed else 10, tzinfo=zoneinfo.ZoneInfo("America/Los_Angeles"))
        assert client.get(f"/api/v1/imports/{batch_id}/").json()["can_undo"] is True
    with time_machine.travel(dt.datetime.fromisoformat(undone_at), tick=False):
        assert (dt.datetime.fromisoformat(undone_at) < deadline) is allowed
        assert client.get(f"/api/v1/imports/{batch_id}/").json()["can_undo"] is allowed
        response = client.post(f"/api/v1/imports/{batch_id}/undo/")
    if allowed:
        assert response.status_code == 200 and response.json()["status"] == "undone"
    else:
        assert response.status_code == 400 and response.json()["error"]["code"] == "undo_not_possible"
        with in_company(company_a):
            assert Unit.objects.filter(project=project).count() == 2


def test_a_rejected_batch_cannot_be_undone(company_a: CompanyFixture, project: Any, client: Any) -> None:
    rows = unit_rows("huating", 2)
    rows[0][4] = "ground"
    response = upload(client, "buildings_units", "units.xlsx", xlsx([UNIT_HEADERS_ZH, *rows]))
    batch_id = response.json()["batch"]["id"]
    response = client.post(f"/api/v1/imports/{batch_id}/undo/")
    assert response.status_code == 400 and response.json()["error"]["code"] == "undo_not_possible"


def test_the_undo_button_on_the_batch_page(company_a: CompanyFixture, project: Any, client: Any) -> None:
    batch_id = _imported(company_a, client, unit_rows("huating", 2))
    page = _signed_in_page(company_a)
    detail = page.get(f"/imports/{batch_id}/")
    assert f'action="/imports/{batch_id}/undo/"'.encode() in detail.content
    response = page.post(f"/imports/{batch_id}/undo/", follow=True)
    assert response.status_code == 200 and b"has been undone" in response.content
    assert b"/undo/" not in response.content
    with in_company(company_a):
        assert not Unit.objects.filter(project=project).exists()


# ------------------------------------------------------------------------------------------ who sees what
def test_staff_see_their_own_batches_and_the_administrator_sees_all(
    company_a: CompanyFixture, project: Any, client: Any, api_client
) -> None:
    from wuye.accounts import services as account_services

    manager = user_with_role(company_a, "cs_manager", project=project)
    with in_company(company_a):
        token = account_services.api_token_create(user=manager, name="t")[1]
    theirs = api_client(company_a, token)
    admins = _imported(company_a, client, unit_rows("huating", 2))
    response = upload(
        theirs, "buildings_units", "mine.xlsx", xlsx([UNIT_HEADERS_ZH, *unit_rows("huating", 2, building="5栋")])
    )
    assert response.status_code == 201, response.content
    managers = response.json()["id"]

    assert {row["id"] for row in theirs.get("/api/v1/imports/").json()["results"]} == {managers}
    assert theirs.get(f"/api/v1/imports/{admins}/").status_code == 404
    assert theirs.post(f"/api/v1/imports/{admins}/undo/").status_code == 404
    assert {row["id"] for row in client.get("/api/v1/imports/").json()["results"]} >= {admins, managers}
    run_queued(company_a, managers)
    # The administrator may undo anyone's batch; the manager their own.
    assert theirs.get(f"/api/v1/imports/{managers}/").json()["can_undo"] is True
    assert client.post(f"/api/v1/imports/{managers}/undo/").status_code == 200


def test_the_imports_page_is_in_the_navigation_of_those_who_may_import(company_a: CompanyFixture, project: Any) -> None:
    admin_page = _signed_in_page(company_a)
    assert b'href="/imports/"' in admin_page.get("/").content
    manager_page = _signed_in_page(company_a, user_with_role(company_a, "cs_manager", project=project))
    assert b'href="/imports/"' in manager_page.get("/").content
    guard_page = _signed_in_page(company_a, user_with_role(company_a, "security", project=project))
    assert b'href="/imports/"' not in guard_page.get("/").content
    listing = guard_page.get("/imports/")
    assert listing.status_code == 403 and b'name="file"' not in listing.content


def test_the_imports_page_uploads_and_shows_the_problems(company_a: CompanyFixture, project: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = _signed_in_page(company_a)
    listing = page.get("/imports/")
    assert listing.status_code == 200
    assert b'name="file"' in listing.content
    assert b"/api/v1/imports/templates/buildings_units.xlsx" in listing.content
    assert b"/api/v1/imports/exports/buildings_units.csv" in listing.content
    rows = unit_rows("huating", 3)
    rows[2][6] = "-3"
    content = xlsx([UNIT_HEADERS_ZH, *rows])
    response = page.post("/imports/new/", {"kind": "buildings_units", "file": SimpleUploadedFile("单元.xlsx", content)})
    assert response.status_code == 302
    detail = page.get(response["Location"])
    assert detail.status_code == 200
    assert b"<code>-3</code>" in detail.content and b"Floor area" in detail.content  # the viewer's language
    assert b"report.xlsx" in detail.content
    # The form refuses a post without its CSRF token, even though the view is exempt for its upload handler.
    strict = _signed_in_page(company_a)
    strict.handler.enforce_csrf_checks = True
    refused = strict.post("/imports/new/", {"kind": "buildings_units", "file": SimpleUploadedFile("u.xlsx", content)})
    assert refused.status_code == 403


# ------------------------------------------------------------------------------------------ companies apart
def test_batches_pages_and_progress_keys_stay_in_their_company(
    company_a: CompanyFixture, company_b: CompanyFixture, project: Any, client: Any, api_client, admin_token
) -> None:
    from wuye.imports.progress import key, progress_get

    response = upload(client, "buildings_units", "units.xlsx", xlsx([UNIT_HEADERS_ZH, *unit_rows("huating", 4)]))
    batch_id = response.json()["id"]
    with in_company(company_a):
        assert progress_get(batch_id) is not None

    at_b = api_client(company_b, admin_token(company_b))
    assert batch_id not in {row["id"] for row in at_b.get("/api/v1/imports/").json()["results"]}
    assert at_b.get(f"/api/v1/imports/{batch_id}/").status_code == 404
    page_b = _signed_in_page(company_b)
    for path in (f"/imports/{batch_id}/", f"/imports/{batch_id}/progress/"):
        assert page_b.get(path).status_code == 404, path
    assert page_b.post(f"/imports/{batch_id}/undo/").status_code == 404

    # The cache key of A's progress carries A's schema; the same lookup at B reads B's key, which is empty.
    with in_company(company_b):
        assert progress_get(batch_id) is None
    store = redis.Redis.from_url(settings.REDIS_URL)
    keys = [found.decode() for found in store.scan_iter(match=f"*{key(batch_id)}")]
    assert len(keys) == 1 and keys[0].startswith(company_a.schema_name + ":"), keys
    # Even a value planted under B's key for A's batch, as if another company wrote it, is not taken.
    from django.core.cache import cache

    with in_company(company_b):
        cache.set(key(batch_id), {"schema": company_a.schema_name, "status": "running", "done": 3, "total": 4})
        assert progress_get(batch_id) is None
        cache.delete(key(batch_id))
