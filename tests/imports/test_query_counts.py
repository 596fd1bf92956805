"""The list of imports, API and page, costs the same number of queries for 10 batches as for 100."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from wuye.imports.models import ImportBatch
from wuye.testing.plugin import CompanyFixture, in_company

STATUSES = ["rejected", "queued", "done", "failed", "undone"]


def _batches(admin: Any, count: int) -> None:
    now = timezone.now()
    ImportBatch.objects.bulk_create(
        [
            ImportBatch(
                kind="buildings_units",
                file_name=f"f{n}.xlsx",
                status=status,
                rows_total=10,
                rows_done=10 if status in ("done", "undone") else 0,
                error_count=2 if status in ("rejected", "failed") else 0,
                errors=[[2, "unit", "x", "bad"], [3, "floor", "y", "bad"]] if status in ("rejected", "failed") else [],
                rows=[[2, {"unit": "1"}]] if status == "queued" else None,
                created_records=[["estate.unit", ["00000000-0000-7000-8000-000000000000"] * 10]],
                created_count=10 if status in ("done", "undone") else 0,
                created_by=admin,
                finished_at=None if status == "queued" else now,
                undone_at=now if status == "undone" else None,
                undone_by=admin if status == "undone" else None,
            )
            for n in range(count)
            for status in [STATUSES[n % len(STATUSES)]]
        ]
    )


def _queries(client: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, {"page_size": 200})
    assert response.status_code == 200, response.content[:300]
    return len(captured)


def test_the_list_of_imports_costs_the_same_for_10_and_100(
    company_a: CompanyFixture, api_client, admin_token, company_client
) -> None:
    api = api_client(company_a, admin_token(company_a))
    page = company_client(company_a)
    with in_company(company_a):
        admin = company_a.admin()
        page.force_login(admin)
        _batches(admin, 10)
    _queries(api, "/api/v1/imports/")  # a token's first use records the time once in a while
    counts_10 = (_queries(api, "/api/v1/imports/"), _queries(page, "/imports/"))
    with in_company(company_a):
        _batches(admin, 90)
    assert len(api.get("/api/v1/imports/", {"page_size": 200}).json()["results"]) == 100
    counts_100 = (_queries(api, "/api/v1/imports/"), _queries(page, "/imports/"))
    assert counts_100 == counts_10, f"API and page queries with 10 batches {counts_10}, with 100 {counts_100}"
