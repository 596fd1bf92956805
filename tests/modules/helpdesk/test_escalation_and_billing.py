"""The escalation chain over a simulated week (time-machine), with the notifications it sends in the app, by
e-mail and by text message; and a special service billed through fees exactly once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from modules.fees.models import Bill
from modules.helpdesk import services, tasks
from modules.helpdesk.models import Notification, Request, ServiceCharge, Status
from tests.support import helpdesk as support
from wuye.core import sms
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.testing.plugin import CompanyFixture, in_company

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def site(company_a: CompanyFixture) -> support.Site:
    with in_company(company_a):
        site = support.site(company_a.admin())
        # The CS manager takes text messages: the escalation reaches their phone too.
        site.cs_manager.phone = "13800138000"
        site.cs_manager.save(update_fields=["phone"])
        return site


def _complaint(site: support.Site) -> Request:
    request = services.request_raise(
        by=site.cs_staff, kind="complaint", grade="general", title="楼上装修噪音", unit=site.unit
    )
    return services.request_dispatch(
        by=site.cs_staff, request=request, department=site.engineering, assignee=site.engineer
    )


def _told(request: Request) -> list[tuple[int, int]]:
    return list(
        Notification.objects.filter(request=request, urgent=True)
        .order_by("created_at")
        .values_list("user_id", flat=True)
    )


def test_an_unanswered_complaint_climbs_the_hierarchy_over_a_week(
    company_a: CompanyFixture, site: support.Site, django_capture_on_commit_callbacks
) -> None:
    mail.outbox.clear()
    with in_company(company_a), time_machine.travel(T0, tick=False) as clock:
        request = _complaint(site)
        # Answer within 24 hours; one level up for every further day overdue (the seeded defaults).
        levels: dict[int, int] = {}
        for tick in range(1, 7 * 4 + 1):  # every six hours for a week
            clock.move_to(T0 + dt.timedelta(hours=6 * tick))
            with django_capture_on_commit_callbacks(execute=True):
                tasks.overdue_escalate()
            request.refresh_from_db()
            levels[6 * tick] = request.escalation_level
        told = _told(request)
    # Due at 24 h exactly: not overdue at that instant, overdue from then on.
    assert [levels[h] for h in (18, 24, 30, 42, 48, 66, 72, 90, 96, 168)] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert told == [site.engineer.pk, site.engineering_head.pk, site.cs_manager.pk, site.project_manager.pk]
    # Each step also went out by e-mail, and to the CS manager's phone.
    assert [message.to for message in mail.outbox] == [
        [site.engineer.email], [site.engineering_head.email], [site.cs_manager.email], [site.project_manager.email]
    ]  # fmt: skip
    assert [message.to for message in sms.outbox] == ["13800138000"]
    # The owner's timeline does not show the staff's escalations; the staff's does, one line a step.
    with in_company(company_a):
        assert request.events.filter(kind="escalated", internal=True).count() == 4


def test_accepting_stops_the_escalation_and_the_next_deadline_starts_afresh(
    company_a: CompanyFixture, site: support.Site
) -> None:
    with in_company(company_a), time_machine.travel(T0, tick=False) as clock:
        request = _complaint(site)
        clock.move_to(T0 + dt.timedelta(hours=30))
        services.overdue_escalate()
        request.refresh_from_db()
        assert request.escalation_level == 1
        request = services.request_accept(by=site.engineer, request=request)
        assert request.escalation_level == 0 and request.next_due_at == T0 + dt.timedelta(days=7)
        clock.move_to(T0 + dt.timedelta(days=6))
        assert services.overdue_escalate() == 0


def test_waiting_for_the_owner_holds_the_escalation(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a), time_machine.travel(T0, tick=False) as clock:
        request = _complaint(site)
        clock.move_to(T0 + dt.timedelta(hours=20))
        request = services.request_wait(by=site.engineer, request=request, reason="业主出差")
        clock.move_to(T0 + dt.timedelta(days=5))
        assert services.overdue_escalate() == 0
        request = services.request_resume(by=site.engineer, request=request)
        # 20 hours ran before the pause: 4 remain from the resumption.
        assert request.respond_by == T0 + dt.timedelta(days=5, hours=4)
        clock.move_to(T0 + dt.timedelta(days=5, hours=5))
        assert services.overdue_escalate() == 1
        # Running the tick again at the same moment does nothing more (safe to run twice).
        assert services.overdue_escalate() == 0


def test_a_special_service_is_billed_once(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        request = services.request_raise(
            by=site.cs_staff, kind="special_service", title="更换卫生间水龙头", unit=site.unit, price="80.00",
            department=site.engineering, assignee=site.engineer,
        )  # fmt: skip
        request = services.request_accept(by=site.engineer, request=request)
        services.material_add(by=site.engineer, request=request, description="水龙头", quantity="2", unit_price="12.50")
        request = services.request_complete(by=site.engineer, request=request)
        bills = Bill.objects.filter(account__unit=site.unit)
        # 80.00 for the work and 2 × 12.50 for the taps.
        assert [bill.amount for bill in bills] == [Decimal("105.00")]
        assert ServiceCharge.objects.get(request=request).bill_id == bills.get().pk
        # Not resolved: reopened, done again; the household is not billed a second time.
        services.visit_record(by=site.cs_staff, request=request, reached=True, resolved=False, satisfaction=2)
        request.refresh_from_db()
        request = services.request_accept(by=site.engineer, request=request)
        request = services.request_complete(by=site.engineer, request=request)
        assert request.status == Status.DONE
        assert Bill.objects.filter(account__unit=site.unit).count() == 1
        assert request.events.filter(kind="billed").count() == 1


def test_a_special_service_without_a_price_is_not_finished(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        request = services.request_raise(
            by=site.cs_staff, kind="special_service", title="疏通下水道", unit=site.unit,
            department=site.engineering, assignee=site.engineer,
        )  # fmt: skip
        request = services.request_accept(by=site.engineer, request=request)
        with pytest.raises(ServiceError) as refused:
            services.request_complete(by=site.engineer, request=request)
        assert refused.value.code == "price_required"
        request.refresh_from_db()
        assert request.status == Status.ACCEPTED and not Bill.objects.filter(account__unit=site.unit).exists()


def test_an_owners_special_service_is_priced_by_the_desk_then_billed(
    company_a: CompanyFixture, site: support.Site
) -> None:
    with in_company(company_a):
        request = services.request_submit(owner=site.owner, unit=site.unit, kind="special_service", title="清洗油烟机")
        assert request.price is None
        with pytest.raises(ServiceError) as zero:
            services.price_set(by=site.cs_staff, request=request, price="0")
        assert zero.value.code == "amount_not_positive"
        with pytest.raises(PolicyDenied):
            services.price_set(by=site.engineer, request=request, price="60.00")
        request = services.price_set(by=site.cs_staff, request=request, price="60.00")
        request = services.request_dispatch(
            by=site.cs_staff, request=request, department=site.engineering, assignee=site.engineer
        )
        services.request_complete(by=site.engineer, request=services.request_accept(by=site.engineer, request=request))
        assert [bill.amount for bill in Bill.objects.filter(account__unit=site.unit)] == [Decimal("60.00")]
        with pytest.raises(ServiceError) as finished:
            services.price_set(by=site.cs_staff, request=request, price="80.00")
        assert finished.value.code == "request_finished"
        repair = services.request_raise(by=site.cs_staff, kind="repair", title="x", unit=site.unit)
        with pytest.raises(ServiceError) as not_service:
            services.price_set(by=site.cs_staff, request=repair, price="10.00")
        assert not_service.value.code == "price_not_allowed"


def test_beat_escalates_each_company_in_its_own_schema(
    company_a: CompanyFixture, company_b: CompanyFixture, site: support.Site
) -> None:
    from django.conf import settings

    from wuye.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["companies-helpdesk-escalation"]
    assert entry["task"] == "tenants.tasks.fan_out"
    assert entry["kwargs"]["task_name"] in app.tasks
    with in_company(company_a), time_machine.travel(T0, tick=False) as clock:
        request = _complaint(site)
        clock.move_to(T0 + dt.timedelta(days=2, hours=1))
        # Company B's tick sees none of A's overdue work.
        with in_company(company_b):
            assert tasks.overdue_escalate() == 0
        request.refresh_from_db()
        assert request.escalation_level == 0
        assert tasks.overdue_escalate() == 2
