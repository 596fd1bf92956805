"""The reception log, the duty log and the CS manager's daily check, zone managers' ratings, the satisfaction
report and in-app notifications, through the services and their pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from modules.helpdesk import selectors, services
from modules.helpdesk.models import ReceptionEntry, Request, StaffRating
from tests.support import estate
from tests.support import helpdesk as support
from wuye.core.errors import NotFound, PolicyDenied, ServiceError
from wuye.testing.plugin import CompanyFixture, in_company


@pytest.fixture
def site(company_a: CompanyFixture) -> support.Site:
    with in_company(company_a):
        return support.site(company_a.admin())


def _signed_in(company_client: Any, company: CompanyFixture, user: Any) -> Any:
    client = company_client(company)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with in_company(company):
        client.force_login(user)
    return client


def test_the_desk_logs_a_call_and_makes_it_a_request(
    company_a: CompanyFixture, site: support.Site, company_client: Any
) -> None:
    desk = _signed_in(company_client, company_a, site.cs_staff)
    unit_text = f"{site.building.name} {site.unit.number}"
    logged = desk.post(
        "/helpdesk/reception/",
        {"channel": "phone", "project": str(site.project.pk), "unit": unit_text, "topic": "问物业费", "kind": ""},
    )
    assert logged.status_code == 302
    raised = desk.post(
        "/helpdesk/reception/",
        {"channel": "visit", "project": str(site.project.pk), "unit": unit_text, "topic": "卫生间渗水",
         "visitor_name": "王先生", "phone": "13900000001", "kind": "repair", "grade": "urgent",
         "department": "engineering"},
    )  # fmt: skip
    assert raised.status_code == 302
    with in_company(company_a):
        entries = list(ReceptionEntry.objects.filter(project=site.project).order_by("received_at"))
        assert [e.topic for e in entries] == ["问物业费", "卫生间渗水"]
        request = Request.objects.get(reception=entries[1])
        assert (request.kind, request.grade, request.unit_id, request.status) == (
            "repair", "urgent", site.unit.pk, "dispatched"
        )  # fmt: skip
        assert request.contact_name == "王先生"
    # An unknown unit: the form says so and nothing is logged.
    wrong = desk.post(
        "/helpdesk/reception/",
        {"channel": "visit", "project": str(site.project.pk), "unit": "99栋 9999", "topic": "x", "kind": "repair"},
    )
    assert wrong.status_code == 200 and "No such unit in this project." in wrong.content.decode()
    with in_company(company_a):
        assert ReceptionEntry.objects.filter(project=site.project).count() == 2
    page = desk.get("/helpdesk/reception/").content.decode()
    assert "卫生间渗水" in page


def test_the_duty_log_and_the_daily_check(company_a: CompanyFixture, site: support.Site, company_client: Any) -> None:
    now = timezone.now()
    with in_company(company_a):
        with pytest.raises(ServiceError) as refused:
            services.duty_log_write(
                by=site.guard, project=site.project, shift_start=now, shift_end=now - dt.timedelta(hours=1), events="x"
            )
        assert refused.value.code == "shift_order"
        entry = services.duty_log_write(
            by=site.guard, project=site.project, shift_start=now - dt.timedelta(hours=12), shift_end=now,
            events="凌晨2点3栋电梯故障，已报工程部",
        )  # fmt: skip
        with pytest.raises(PolicyDenied):
            services.duty_log_check(by=site.guard, entry=entry)
        # Two open requests, one overdue: the overdue one comes first on the check.
        late = services.request_raise(by=site.cs_staff, kind="repair", grade="urgent", title="迟了", unit=site.unit)
        Request.objects.filter(pk=late.pk).update(next_due_at=now - dt.timedelta(hours=3))
        services.request_raise(by=site.cs_staff, kind="complaint", title="不急", unit=site.unit)
        check = selectors.daily_check(viewer=site.cs_manager)
        assert [r.title for r in check.open_requests] == ["迟了", "不急"]
        assert (check.open_total, check.overdue) == (2, 1)
        assert [e.pk for e in check.duty_log] == [entry.pk]
        checked = services.duty_log_check(by=site.cs_manager, entry=entry)
        assert checked.checked_by_id == site.cs_manager.pk
    page = _signed_in(company_client, company_a, site.cs_manager).get("/helpdesk/daily/").content.decode()
    assert page.index("迟了") < page.index("不急") and "凌晨2点3栋电梯故障" in page


def test_zone_managers_rate_other_departments_staff(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        rating = services.staff_rate(by=site.zone_manager, staff=site.engineer, score=4, comment="响应及时")
        assert (rating.project_id, rating.month.day) == (site.project.pk, 1)
        with pytest.raises(ServiceError) as twice:
            services.staff_rate(by=site.zone_manager, staff=site.engineer, score=5)
        assert twice.value.code == "already_rated"
        with pytest.raises(ServiceError) as own:
            services.staff_rate(by=site.zone_manager, staff=site.cs_staff, score=3)
        assert own.value.code == "not_other_department"
        with pytest.raises(ServiceError) as out_of_range:
            services.staff_rate(by=site.zone_manager, staff=site.guard, score=6)
        assert out_of_range.value.code == "score_invalid"
        with pytest.raises(PolicyDenied):
            services.staff_rate(by=site.cs_staff, staff=site.guard, score=3)
        admin = company_a.admin()
        elsewhere = support.staff(admin, role="engineering", position="engineer", project=estate.project(admin))
        with pytest.raises(NotFound):
            services.staff_rate(by=site.zone_manager, staff=elsewhere, score=3)
        assert StaffRating.objects.count() == 1
        assert [r.pk for r in selectors.rating_list(viewer=site.cs_manager)] == [rating.pk]


def _visited(site: support.Site, assignee: Any, department: Any, *, resolved: bool, score: int) -> None:
    request = services.request_raise(
        by=site.cs_staff, kind="repair", title="报修", unit=site.unit, department=department, assignee=assignee
    )
    request = services.request_complete(by=assignee, request=services.request_accept(by=assignee, request=request))
    services.visit_record(by=site.cs_staff, request=request, reached=True, resolved=resolved, satisfaction=score)


def test_the_satisfaction_report_per_department_and_person(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        _visited(site, site.engineer, site.engineering, resolved=True, score=5)
        _visited(site, site.engineer, site.engineering, resolved=False, score=2)
        _visited(site, site.engineer_2, site.engineering, resolved=True, score=4)
        request = services.request_raise(by=site.cs_staff, kind="repair", title="没人接", unit=site.unit,
                                         department=site.engineering, assignee=site.engineer_2)  # fmt: skip
        request = services.request_complete(
            by=site.engineer_2, request=services.request_accept(by=site.engineer_2, request=request)
        )
        services.visit_record(by=site.cs_staff, request=request, reached=False)  # not counted: nobody answered
        today = timezone.localdate()
        report = selectors.satisfaction_report(viewer=site.cs_manager, since=today, until=today)
        with pytest.raises(PolicyDenied):
            selectors.satisfaction_report(viewer=site.engineer, since=today, until=today)
    departments = [(r.name, r.visits, r.average, r.resolved_rate) for r in report["departments"]]
    assert departments == [(site.engineering.name, 3, 3.67, 66.7)]
    people = {r.key: (r.visits, r.average, r.resolved_rate) for r in report["people"]}
    assert people == {site.engineer.pk: (2, 3.5, 50.0), site.engineer_2.pk: (1, 4.0, 100.0)}


def test_notifications_in_the_app(company_a: CompanyFixture, site: support.Site, company_client: Any) -> None:
    with in_company(company_a):
        request = services.request_raise(
            by=site.cs_staff, kind="repair", title="门禁坏了", unit=site.unit, department=site.engineering,
            assignee=site.engineer,
        )  # fmt: skip
        notice = selectors.notification_list(user=site.engineer, unread_only=True).get()
        assert request.number in notice.text
        with pytest.raises(NotFound):
            services.notification_read(user=site.engineer_2, notification_id=notice.pk)
    engineer = _signed_in(company_client, company_a, site.engineer)
    assert request.number in engineer.get("/helpdesk/notifications/").content.decode()
    opened = engineer.post("/helpdesk/notifications/", {"id": str(notice.pk)})
    assert opened.status_code == 302 and opened["Location"].endswith(f"/helpdesk/requests/{request.pk}/")
    with in_company(company_a):
        assert not selectors.notification_list(user=site.engineer, unread_only=True).exists()


def test_other_pages_answer(company_a: CompanyFixture, site: support.Site, company_client: Any) -> None:
    manager = _signed_in(company_client, company_a, site.cs_manager)
    for path in ("/helpdesk/satisfaction/", "/helpdesk/ratings/", "/helpdesk/reception/", "/helpdesk/board/"):
        assert manager.get(path).status_code == 200, path
    zone = _signed_in(company_client, company_a, site.zone_manager)
    assert zone.get("/helpdesk/ratings/").status_code == 200
    assert zone.get("/helpdesk/satisfaction/").status_code == 403


def test_the_settings_page_sets_deadlines_and_dispatch_modes(
    company_a: CompanyFixture, site: support.Site, company_client: Any
) -> None:
    from modules.helpdesk.models import DeadlinePolicy, DepartmentDesk

    manager = _signed_in(company_client, company_a, site.cs_manager)
    page = manager.get("/helpdesk/settings/")
    assert page.status_code == 200 and "Company default" in page.content.decode()
    saved = manager.post(
        "/helpdesk/settings/",
        {"form": "deadline", "kind_grade": "complaint:major", "project": str(site.project.pk), "respond_minutes": "30",
         "close_minutes": "720", "escalate_every_minutes": "60"},
    )  # fmt: skip
    assert saved.status_code == 302
    out_of_order = manager.post(
        "/helpdesk/settings/",
        {"form": "deadline", "kind_grade": "repair:urgent", "project": str(site.project.pk), "respond_minutes": "90",
         "attend_minutes": "60", "close_minutes": "30", "escalate_every_minutes": "60"},
    )  # fmt: skip
    assert out_of_order.status_code == 200 and "accepted before it is attended" in out_of_order.content.decode()
    assert (
        manager.post("/helpdesk/settings/", {"form": "mode", "department": "engineering", "mode": "grab"}).status_code
        == 302
    )
    with in_company(company_a):
        own = DeadlinePolicy.objects.get(project=site.project, kind="complaint", grade="major")
        assert (own.respond_minutes, own.attend_minutes, own.close_minutes) == (30, None, 720)
        assert not DeadlinePolicy.objects.filter(project=site.project, kind="repair").exists()
        assert DepartmentDesk.objects.get(department=site.engineering).mode == "grab"
    # Staff who may not change settings see them and cannot post.
    engineer = _signed_in(company_client, company_a, site.engineer)
    assert engineer.get("/helpdesk/settings/").status_code == 200
    engineer.post("/helpdesk/settings/", {"form": "mode", "department": "engineering", "mode": "assign"})
    with in_company(company_a):
        assert DepartmentDesk.objects.get(department=site.engineering).mode == "grab"
