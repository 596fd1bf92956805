"""Two engineers press "take" on the same request at the same moment, for real: threads, each with its own
database connection, on committed data, released together by a barrier, several times over. One takes it,
the other is told someone else has; the request has one assignee and one "taken" line on its timeline.

These tests commit; tests/support/helpdesk.committed_remove takes away what they made."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from modules.helpdesk import services
from modules.helpdesk.models import DepartmentDesk, Request, RequestEvent
from modules.staff import selectors as staff_selectors
from tests.support import estate
from tests.support import helpdesk as support
from wuye.core.errors import ServiceError
from wuye.testing.plugin import CompanyFixture, in_company

pytestmark = [pytest.mark.committed]

TIMEOUT = 30
ROUNDS = 5


@dataclass
class Floor:
    project: Any
    unit: Any
    desk: Any
    engineers: list[Any]
    engineering: Any


@pytest.fixture
def alpha(committed_db: None, companies: dict[str, CompanyFixture]) -> CompanyFixture:
    return companies["alpha"]


@pytest.fixture
def floor(alpha: CompanyFixture) -> Iterator[Floor]:
    with in_company(alpha):
        admin = alpha.admin()
        suffix = uuid.uuid4().hex[:6]
        project = estate.project(admin, name=f"抢单 {suffix}", code=f"grab-{suffix}")
        unit = estate.unit(admin, building=estate.building(admin, project=project))
        desk = support.staff(admin, role="cs_staff", position="cs_staff", project=project)
        engineers = [support.staff(admin, role="engineering", position="engineer", project=project) for _ in range(2)]
        engineering = staff_selectors.department_by_code("engineering")
        mode_before = DepartmentDesk.objects.filter(department=engineering).first()
        services.department_mode_set(by=admin, department=engineering, mode="grab")
    try:
        yield Floor(project, unit, desk, engineers, engineering)
    finally:
        with in_company(alpha):
            if mode_before is None:
                DepartmentDesk.objects.filter(department=engineering).delete()
            else:
                DepartmentDesk.objects.filter(department=engineering).update(mode=mode_before.mode)
        support.committed_remove(alpha, project=project, users=[desk, *engineers])


def _in_threads(company: CompanyFixture, work: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(index: int) -> None:
        from django.db import connection

        try:
            with in_company(company):
                barrier.wait(TIMEOUT)
                results[index] = work[index]()
        except BaseException as error:  # returned to the test, not lost in the thread
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    return results


def test_two_engineers_take_the_same_request_at_once(alpha: CompanyFixture, floor: Floor) -> None:
    for _ in range(ROUNDS):
        with in_company(alpha):
            request = services.request_raise(
                by=floor.desk, kind="repair", title="抢单测试", unit=floor.unit, department=floor.engineering
            )
        results = _in_threads(
            alpha,
            [
                lambda engineer=engineer, pk=request.pk: services.request_take(by=engineer, request=Request(pk=pk))
                for engineer in floor.engineers
            ],
        )
        taken = [r for r in results if isinstance(r, Request)]
        refused = [r for r in results if isinstance(r, ServiceError)]
        assert len(taken) == 1 and len(refused) == 1, results
        assert refused[0].code == "already_taken"
        with in_company(alpha):
            request.refresh_from_db()
            assert request.assignee_id == taken[0].assignee_id
            assert RequestEvent.objects.filter(request=request, kind="taken").count() == 1
