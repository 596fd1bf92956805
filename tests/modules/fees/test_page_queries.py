"""The fee lists and reports cost the same number of queries for 2 accounts as for 10: balances, aging and
rates are worked out in grouped queries, not per row."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from modules.fees import runs, services
from tests.support import estate as estate_support
from tests.support import fees as fees_support
from wuye.testing.plugin import CompanyFixture, in_company

MONTHS = (dt.date(2026, 8, 1), dt.date(2026, 9, 1))


def _add_accounts(admin: Any, project: Any, buildings: list[Any], count: int) -> None:
    """`count` owned units with overdue bills for two months, part-paid, chased once."""
    made = []
    for n in range(count):
        unit = fees_support.owned_unit(admin, building=buildings[n % len(buildings)], area="80.00")
        made.append(fees_support.account(unit))
    for period in MONTHS:
        plan = runs.plan_make(project_id=project.pk, period=period)
        runs.bills_write(
            plan.bills, run_id=None, period=period, issued_on=period, due_on=period + dt.timedelta(days=30)
        )
    for account in made:
        services.payment_record(by=admin, account=account, amount="25.00", method="cash")
        services.chase_record(by=admin, account=account, channel="phone", result="later")


def _queries(client: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.content[:300])
    return len(captured)


def test_lists_and_reports_do_not_grow_with_accounts(company_a: CompanyFixture, company_client) -> None:
    client = company_client(company_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with in_company(company_a):
        admin = company_a.admin()
        client.force_login(admin)
        project = estate_support.project(admin)
        zones = [estate_support.zone(admin, project=project) for _ in range(2)]
        buildings = [estate_support.building(admin, project=project, zone=zone) for zone in zones]
        fees_support.tariff(admin, project, "property", "2.00")
        _add_accounts(admin, project, buildings, 2)
    paths = [
        "/fees/",
        f"/fees/?project={project.pk}&owing=1",
        "/fees/arrears/",
        f"/fees/arrears/?project={project.pk}&zone={zones[0].pk}",
        "/fees/collection/?from=2026-07&to=2026-10",
        f"/fees/collection/?from=2026-07&to=2026-10&group=zone&project={project.pk}",
        "/fees/collection/?from=2026-07&to=2026-10&group=building",
        "/fees/collection/?from=2026-07&to=2026-10&group=charge_item",
        "/fees/chases/",
        "/fees/daily/",
        "/fees/weekly/",
    ]
    _queries(client, "/fees/")  # the session's first request may record a sign-in
    with_2 = {path: _queries(client, path) for path in paths}
    with in_company(company_a):
        _add_accounts(admin, project, buildings, 8)
    with_10 = {path: _queries(client, path) for path in paths}
    grown = {path: (with_2[path], with_10[path]) for path in paths if with_10[path] != with_2[path]}
    assert not grown, f"queries with 2 accounts, with 10: {grown}"
    # And the pages did list the ten (the comparison is not between two empty pages).
    text = client.get(f"/fees/arrears/?project={project.pk}").content.decode()
    assert len(re.findall(r'href="/fees/accounts/[0-9a-f-]+/"', text)) == 10
