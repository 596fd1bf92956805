"""Transferring accepted work (转派) and withdrawing a request raised by mistake (撤销), through the real
services; each refusal leaves the request as it was."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from modules.helpdesk import services
from modules.helpdesk.models import Notification, Request, RequestEvent, Status
from tests.support import helpdesk as support
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.testing.plugin import CompanyFixture, in_company

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def site(company_a: CompanyFixture) -> support.Site:
    with in_company(company_a):
        return support.site(company_a.admin())


def _accepted(site: support.Site) -> Request:
    request = services.request_raise(
        by=site.cs_staff, kind="repair", grade="urgent", title="电梯异响", unit=site.unit,
        department=site.engineering, assignee=site.engineer,
    )  # fmt: skip
    return services.request_accept(by=site.engineer, request=request)


def _state(request: Request) -> tuple[object, ...]:
    request.refresh_from_db()
    return request.status, request.department_id, request.assignee_id, request.close_by, request.closed_at


def test_accepted_work_is_transferred_and_the_new_person_accepts_it_again(
    company_a: CompanyFixture, site: support.Site
) -> None:
    with in_company(company_a), time_machine.travel(T0, tick=False) as clock:
        request = _accepted(site)
        close_by = request.close_by
        heard = {user.pk: Notification.objects.filter(request=request, user=user).count()
                 for user in (site.engineer, site.engineer_2)}  # fmt: skip
        clock.shift(dt.timedelta(hours=1))
        moved = services.request_transfer(
            by=site.cs_staff, request=request, department=site.engineering, assignee=site.engineer_2, reason="病假"
        )
        # Back to dispatched, with the new person; the deadline to finish runs on from the first raising.
        assert (moved.status, moved.assignee_id, moved.close_by) == (Status.DISPATCHED, site.engineer_2.pk, close_by)
        last = RequestEvent.objects.filter(request=request).order_by("at", "id").last()
        assert last.kind == "transferred" and "病假" in last.text
        # Both hear of it: the one who had it, and the one who has it now.
        for user in (site.engineer, site.engineer_2):
            assert Notification.objects.filter(request=request, user=user).count() == heard[user.pk] + 1
        # The one who had it can no longer act on it; the new one accepts.
        with pytest.raises((PolicyDenied, ServiceError)):
            services.request_on_site(by=site.engineer, request=moved)
        again = services.request_accept(by=site.engineer_2, request=moved)
        assert again.status == Status.ACCEPTED


def test_a_team_leader_transfers_their_departments_work_to_its_queue(
    company_a: CompanyFixture, site: support.Site
) -> None:
    with in_company(company_a):
        request = _accepted(site)
        moved = services.request_transfer(
            by=site.engineering_leader, request=request, department=site.engineering, reason="换人处理"
        )
        assert (moved.status, moved.assignee_id) == (Status.DISPATCHED, None)


def test_transfers_that_are_refused_change_nothing(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        fresh = services.request_raise(by=site.cs_staff, kind="repair", title="门铃坏了", unit=site.unit)
        request = _accepted(site)
        before = _state(request)
        cases = [
            # not accepted yet: that is a dispatch, not a transfer
            (dict(by=site.cs_staff, request=fresh, department=site.engineering, reason="x"), "not_transferable"),
            # a person outside the department
            (dict(by=site.cs_staff, request=request, department=site.engineering, assignee=site.guard, reason="x"),
             "assignee_outside_department"),
            # to the same person
            (dict(by=site.cs_staff, request=request, department=site.engineering, assignee=site.engineer,
                  reason="x"), "transfer_to_same"),
            # no reason
            (dict(by=site.cs_staff, request=request, department=site.security, reason="  "), None),
        ]  # fmt: skip
        for values, code in cases:
            with pytest.raises(ServiceError) as refused:
                services.request_transfer(**values)
            if code:
                assert refused.value.code == code
            assert _state(request) == before
        # An engineer (not the desk, not a team leader) may not transfer.
        with pytest.raises(PolicyDenied):
            services.request_transfer(by=site.engineer_2, request=request, department=site.security, reason="x")
        assert _state(request) == before


def test_the_desk_or_the_owner_withdraws_a_request_nobody_accepted(
    company_a: CompanyFixture, site: support.Site
) -> None:
    with in_company(company_a):
        by_desk = services.request_raise(
            by=site.cs_staff, kind="repair", title="重复登记", unit=site.unit, department=site.engineering,
            assignee=site.engineer,
        )  # fmt: skip
        heard = Notification.objects.filter(request=by_desk, user=site.engineer).count()
        withdrawn = services.request_withdraw(by=site.cs_staff, request=by_desk, reason="重复登记")
        assert (withdrawn.status, withdrawn.resolution, withdrawn.next_due_at) == (Status.WITHDRAWN, "重复登记", None)
        assert withdrawn.closed_at is not None and not withdrawn.is_open
        assert Notification.objects.filter(request=by_desk, user=site.engineer).count() == heard + 1
        by_owner = services.request_submit(owner=site.owner, unit=site.unit, kind="consultation", title="问错了")
        withdrawn = services.request_withdraw(by=site.owner, request=by_owner, reason="已自行解决")
        assert withdrawn.status == Status.WITHDRAWN


def test_withdrawals_that_are_refused_change_nothing(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        accepted = _accepted(site)
        theirs = services.request_submit(owner=site.other_owner, unit=site.other_unit, kind="repair", title="漏水")
        before = (_state(accepted), _state(theirs))
        with pytest.raises(ServiceError) as refused:
            services.request_withdraw(by=site.cs_staff, request=accepted, reason="不要了")
        assert refused.value.code == "not_withdrawable"
        # Accepted once and transferred back to a queue: still not withdrawable.
        services.request_transfer(by=site.cs_staff, request=accepted, department=site.engineering, reason="换人")
        before = (_state(accepted), _state(theirs))
        with pytest.raises(ServiceError) as again:
            services.request_withdraw(by=site.cs_staff, request=accepted, reason="不要了")
        assert again.value.code == "not_withdrawable"
        # Another household's owner, and an engineer without the desk's right: refused.
        with pytest.raises(PolicyDenied):
            services.request_withdraw(by=site.owner, request=theirs, reason="x")
        with pytest.raises(PolicyDenied):
            services.request_withdraw(by=site.engineer, request=theirs, reason="x")
        with pytest.raises(ServiceError):
            services.request_withdraw(by=site.cs_staff, request=theirs, reason="")
        assert (_state(accepted), _state(theirs)) == before
