"""A request's life through the real services on a real company schema: raise, dispatch, accept, on site,
wait for the owner, done, return visit; and every bad input the issue names, refused with nothing changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from modules.helpdesk import services
from modules.helpdesk.models import (
    DeadlinePolicy,
    Notification,
    Request,
    RequestEvent,
    RequestPhoto,
    ReturnVisit,
    Status,
)
from tests.support import estate
from tests.support import helpdesk as support
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.testing.plugin import CompanyFixture, in_company

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


@pytest.fixture
def site(company_a: CompanyFixture) -> support.Site:
    with in_company(company_a):
        return support.site(company_a.admin())


def _repair(site: support.Site, *, grade: str = "urgent", **values: object) -> Request:
    return services.request_raise(
        by=site.cs_staff, kind="repair", grade=grade, title="厨房水管漏水", unit=site.unit, **values
    )


def _kinds(request: Request) -> list[str]:
    return list(RequestEvent.objects.filter(request=request).order_by("at", "id").values_list("kind", flat=True))


def test_a_repair_from_the_phone_to_the_return_visit(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a), time_machine.travel(T0, tick=False) as clock:
        request = _repair(site)
        # Seeded defaults for an urgent repair: accepted in 15 minutes, on site in 2 hours, done in a day.
        assert (request.respond_by, request.attend_by, request.close_by) == (
            T0 + hours(0.25),
            T0 + hours(2),
            T0 + hours(24),
        )
        assert request.next_due_at == T0 + hours(0.25)
        assert request.zone_id == site.zone.pk and request.building_id == site.building.pk
        assert request.number.startswith("20260302-")
        request = services.request_dispatch(
            by=site.cs_staff, request=request, department=site.engineering, assignee=site.engineer
        )
        assert request.status == Status.DISPATCHED
        clock.shift(hours(0.1))
        request = services.request_accept(by=site.engineer, request=request)
        assert request.next_due_at == T0 + hours(2)  # now the on-site deadline
        clock.shift(hours(0.5))
        request = services.request_on_site(by=site.engineer, request=request)
        assert request.next_due_at == T0 + hours(24)
        services.photo_add(by=site.engineer, request=request, stage="before", upload=support.png())
        # The owner is not at home to let the plumber finish: 3 hours of waiting stop the clock.
        request = services.request_wait(by=site.engineer, request=request, reason="业主外出")
        assert request.status == Status.WAITING and request.next_due_at is None
        clock.shift(hours(3))
        request = services.request_resume(by=site.engineer, request=request)
        assert request.status == Status.ON_SITE
        assert request.close_by == T0 + hours(27)
        services.photo_add(by=site.engineer, request=request, stage="after", upload=support.png())
        request = services.request_complete(by=site.engineer, request=request, resolution="更换阀门")
        assert request.status == Status.DONE and request.next_due_at is None
        visit = services.visit_record(by=site.cs_staff, request=request, reached=True, resolved=True, satisfaction=5)
        request.refresh_from_db()
        assert request.status == Status.CLOSED and visit.attempt == 1
        assert visit.department_id == site.engineering.pk and visit.assignee_id == site.engineer.pk
        assert _kinds(request) == [
            "raised", "dispatched", "accepted", "on_site", "photo", "paused", "resumed", "photo", "completed",
            "visited", "closed",
        ]  # fmt: skip


def test_the_zone_manager_and_the_department_hear_of_new_work(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        request = _repair(site, department=site.engineering)
        told = set(Notification.objects.filter(request=request).values_list("user_id", flat=True))
    # No assignee yet: the department's head hears (its team leaders assign); the zone manager follows.
    assert told == {site.zone_manager.pk, site.engineering_head.pk}


# ------------------------------------------------------------------------------------------ bad input
def test_assigning_to_someone_outside_the_department_is_refused(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        request = _repair(site)
        with pytest.raises(ServiceError) as refused:
            services.request_dispatch(
                by=site.cs_staff, request=request, department=site.engineering, assignee=site.guard
            )
        assert refused.value.code == "assignee_outside_department"
        request.refresh_from_db()
        assert (request.status, request.department_id, request.assignee_id) == (Status.NEW, None, None)


def test_a_unit_of_another_project_than_the_staff_members_is_refused(
    company_a: CompanyFixture, site: support.Site
) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        elsewhere = estate.unit(admin, building=estate.building(admin, project=estate.project(admin)))
        before = Request.objects.count()
        with pytest.raises(PolicyDenied):
            services.request_raise(by=site.cs_staff, kind="repair", title="漏水", unit=elsewhere)
        with pytest.raises(PolicyDenied):
            services.reception_log(by=site.cs_staff, channel="visit", topic="咨询", unit=elsewhere)
        assert Request.objects.count() == before


def test_closing_a_request_nobody_accepted_is_refused(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        request = _repair(site, department=site.engineering, assignee=site.engineer)
        with pytest.raises(ServiceError) as refused:
            services.request_close(by=site.cs_manager, request=request)
        assert refused.value.code == "never_accepted"
        request.refresh_from_db()
        assert request.status == Status.DISPATCHED and request.closed_at is None


def test_a_return_visit_before_the_work_is_done_is_refused(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        request = _repair(site, department=site.engineering, assignee=site.engineer)
        request = services.request_accept(by=site.engineer, request=request)
        with pytest.raises(ServiceError) as refused:
            services.visit_record(by=site.cs_staff, request=request, reached=True, resolved=True, satisfaction=4)
        assert refused.value.code == "not_done"
        assert not ReturnVisit.objects.filter(request=request).exists()
        request.refresh_from_db()
        assert request.status == Status.ACCEPTED


def test_a_deadline_in_the_past_is_refused(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a), time_machine.travel(T0, tick=False):
        request = _repair(site)
        with pytest.raises(ServiceError) as refused:
            services.request_dispatch(
                by=site.cs_staff, request=request, department=site.engineering, done_by=T0 - hours(1)
            )
        assert refused.value.code == "deadline_past"
        request.refresh_from_db()
        assert request.status == Status.NEW and request.close_by == T0 + hours(24)
        # A deadline ahead of the policy's is taken, and the earlier steps fit inside it.
        request = services.request_dispatch(
            by=site.cs_staff, request=request, department=site.engineering, done_by=T0 + hours(1)
        )
        assert request.close_by == T0 + hours(1) and request.attend_by == T0 + hours(1)


def _accepted(site: support.Site) -> Request:
    request = _repair(site, department=site.engineering, assignee=site.engineer)
    return services.request_accept(by=site.engineer, request=request)


def test_a_file_that_is_not_an_image_is_refused(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        request = _accepted(site)
        fake = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a photo at all", content_type="image/jpeg")
        with pytest.raises(ServiceError) as refused:
            services.photo_add(by=site.engineer, request=request, stage="before", upload=fake)
        assert refused.value.code == "photo_not_image"
        assert not RequestPhoto.objects.filter(request=request).exists()


def test_a_photo_over_ten_megabytes_is_refused(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        request = _accepted(site)
        small = support.png().read()
        big = SimpleUploadedFile("big.png", small + b"\0" * (10 * 1024 * 1024), content_type="image/png")
        with pytest.raises(ServiceError) as refused:
            services.photo_add(by=site.engineer, request=request, stage="before", upload=big)
        assert refused.value.code == "photo_too_large"
        assert not RequestPhoto.objects.filter(request=request).exists()


def test_the_seventh_photo_is_refused(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        request = services.request_submit(
            owner=site.owner, unit=site.unit, kind="repair", title="门锁坏了", photos=[support.png() for _ in range(6)]
        )
        assert RequestPhoto.objects.filter(request=request, stage="owner").count() == 6
        with pytest.raises(ServiceError) as refused:
            services.photo_add(by=site.owner, request=request, stage="owner", upload=support.png())
        assert refused.value.code == "too_many_photos"
        assert RequestPhoto.objects.filter(request=request).count() == 6
        # Seven at once on submission: nothing is made at all.
        before = Request.objects.count()
        with pytest.raises(ServiceError):
            services.request_submit(
                owner=site.owner,
                unit=site.unit,
                kind="repair",
                title="又坏了",
                photos=[support.png() for _ in range(7)],
            )
        assert Request.objects.count() == before


def test_a_bad_photo_among_good_ones_leaves_no_request_and_no_file(
    company_a: CompanyFixture, site: support.Site
) -> None:
    from django.core.files.storage import default_storage

    with in_company(company_a):
        before = Request.objects.count()
        folder_before = _stored_files(default_storage)
        fake = SimpleUploadedFile("3.jpg", b"not an image", content_type="image/jpeg")
        with pytest.raises(ServiceError) as refused:
            services.request_submit(
                owner=site.owner,
                unit=site.unit,
                kind="repair",
                title="漏水",
                photos=[support.png(), support.png(), fake],
            )
        assert refused.value.code == "photo_not_image"
        assert Request.objects.count() == before
        assert _stored_files(default_storage) == folder_before


def _stored_files(storage: object) -> set[str]:
    from pathlib import Path

    root = Path(storage.path("helpdesk"))  # type: ignore[attr-defined]
    return {str(path) for path in root.rglob("*") if path.is_file()}


def test_an_owner_submits_only_for_their_own_household(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        with pytest.raises(ServiceError) as refused:
            services.request_submit(owner=site.owner, unit=site.other_unit, kind="complaint", title="噪音")
        assert refused.value.code == "not_found"
        request = services.request_submit(owner=site.owner, unit=site.unit, kind="complaint", title="噪音")
        assert (request.grade, request.channel, request.owner_user_id) == ("general", "portal", site.owner.pk)


def test_grade_must_fit_the_kind(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        with pytest.raises(ServiceError) as refused:
            services.request_raise(by=site.cs_staff, kind="complaint", grade="urgent", title="x", unit=site.unit)
        assert refused.value.code == "grade_invalid"


# ------------------------------------------------------------------------------------------ return visits
def test_not_resolved_reopens_the_request_with_a_fresh_clock(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a), time_machine.travel(T0, tick=False) as clock:
        request = _accepted(site)
        request = services.request_complete(by=site.engineer, request=request)
        clock.shift(hours(30))
        services.visit_record(
            by=site.cs_staff, request=request, reached=True, resolved=False, satisfaction=2, comment="还在漏"
        )
        request.refresh_from_db()
        assert request.status == Status.DISPATCHED
        assert request.assignee_id == site.engineer.pk and request.accepted_at is None
        assert request.reopened_count == 1
        assert request.respond_by == T0 + hours(30.25)  # the urgent repair's 15 minutes, from the reopening
        assert Notification.objects.filter(request=request, user=site.engineer, urgent=True).exists()
        # The reopened request goes round again, and the second visit closes it.
        request = services.request_accept(by=site.engineer, request=request)
        request = services.request_complete(by=site.engineer, request=request)
        visit = services.visit_record(by=site.cs_staff, request=request, reached=True, resolved=True, satisfaction=4)
        assert visit.attempt == 2
        request.refresh_from_db()
        assert request.status == Status.CLOSED


def test_an_unreachable_owner_is_tried_again_then_the_request_closes(
    company_a: CompanyFixture, site: support.Site
) -> None:
    with in_company(company_a), time_machine.travel(T0, tick=False) as clock:
        request = services.request_complete(by=site.engineer, request=_accepted(site))
        services.visit_record(by=site.cs_staff, request=request, reached=False)
        request.refresh_from_db()
        assert request.status == Status.DONE and request.visit_due_at == T0 + hours(24)
        clock.shift(hours(24))
        services.visit_record(by=site.cs_staff, request=request, reached=False)
        request.refresh_from_db()
        assert request.visit_due_at == T0 + hours(48)
        clock.shift(hours(24))
        services.visit_record(by=site.cs_staff, request=request, reached=False)
        request.refresh_from_db()
        assert request.status == Status.CLOSED and request.visit_due_at is None
        assert list(request.visits.values_list("reached", flat=True)) == [False, False, False]


def test_the_owner_answers_the_return_visit_in_the_portal(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        request = services.request_submit(owner=site.owner, unit=site.unit, kind="repair", title="灯不亮")
        request = services.request_dispatch(
            by=site.cs_staff, request=request, department=site.engineering, assignee=site.engineer
        )
        request = services.request_complete(
            by=site.engineer, request=services.request_accept(by=site.engineer, request=request)
        )
        with pytest.raises(PolicyDenied):
            services.visit_record(by=site.other_owner, request=request, reached=True, resolved=True, satisfaction=5)
        visit = services.visit_record(by=site.owner, request=request, reached=True, resolved=True, satisfaction=3)
        assert visit.channel == "portal"


# ------------------------------------------------------------------------------------------ dispatch modes
def test_grab_mode_lets_one_person_take_a_request(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        request = _repair(site, department=site.engineering)
        with pytest.raises(ServiceError) as refused:
            services.request_take(by=site.engineer, request=request)
        assert refused.value.code == "department_assigns"
        services.department_mode_set(by=site.cs_manager, department=site.engineering, mode="grab")
        taken = services.request_take(by=site.engineer, request=request)
        assert taken.assignee_id == site.engineer.pk
        with pytest.raises(ServiceError) as second:
            services.request_take(by=site.engineer_2, request=request)
        assert second.value.code == "already_taken"
        with pytest.raises(PolicyDenied):
            services.request_take(by=site.guard, request=request)


def test_a_team_leader_assigns_their_departments_queue(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        request = _repair(site, department=site.engineering)
        request = services.request_dispatch(
            by=site.engineering_leader, request=request, department=site.engineering, assignee=site.engineer_2
        )
        assert request.assignee_id == site.engineer_2.pk
        # An engineer who leads no team may not.
        with pytest.raises(PolicyDenied):
            services.request_dispatch(
                by=site.engineer, request=request, department=site.engineering, assignee=site.engineer
            )


def test_a_project_may_set_its_own_deadlines(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a), time_machine.travel(T0, tick=False):
        services.deadline_policy_set(
            by=site.cs_manager, project=site.project, kind="repair", grade="urgent",
            respond_minutes=10, attend_minutes=60, close_minutes=600, escalate_every_minutes=30,
        )  # fmt: skip
        request = _repair(site)
        assert request.attend_by == T0 + hours(1)
        # The company default is untouched; only a company-wide administrator changes it.
        assert DeadlinePolicy.objects.get(project=None, kind="repair", grade="urgent").attend_minutes == 120
        with pytest.raises(PolicyDenied):
            services.deadline_policy_set(
                by=site.cs_manager, kind="repair", grade="urgent", respond_minutes=5, close_minutes=50
            )
        with pytest.raises(ServiceError):
            services.deadline_policy_set(
                by=site.cs_manager, project=site.project, kind="repair", grade="urgent",
                respond_minutes=100, close_minutes=50,
            )  # fmt: skip


def test_material_and_price_are_for_special_services(company_a: CompanyFixture, site: support.Site) -> None:
    with in_company(company_a):
        with pytest.raises(ServiceError) as refused:
            _repair(site, price=Decimal("10"))
        assert refused.value.code == "price_not_allowed"
        request = _accepted(site)
        with pytest.raises(ServiceError):
            services.material_add(by=site.engineer, request=request, description="阀门", quantity=1, unit_price="30")


def test_the_owner_hears_when_their_request_is_accepted_and_when_it_waits_for_them(
    company_a: CompanyFixture, site: support.Site, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    with in_company(company_a):
        request = services.request_submit(owner=site.owner, unit=site.unit, kind="repair", title="窗户关不上")
        services.request_dispatch(
            by=site.cs_staff, request=request, department=site.engineering, assignee=site.engineer
        )
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.request_accept(by=site.engineer, request=request)
        accepted = list(Notification.objects.filter(user=site.owner, request=request).values_list("urgent", flat=True))
        assert accepted == [False] and mail.outbox == []  # in the portal only
        with django_capture_on_commit_callbacks(execute=True):
            services.request_wait(by=site.engineer, request=request, reason="需要业主在家开门")
        waiting = Notification.objects.filter(user=site.owner, request=request, urgent=True).get()
        assert "需要业主在家开门" in waiting.text
        assert [message.to for message in mail.outbox] == [[site.owner.email]]
