"""The helpdesk's portal pages: each answers in Chinese and in English, staff act on a request from its
page, owners submit with photos and answer the return visit; and the queue pages, the board, the daily
check and the detail cost the same number of queries for 3 requests as for 12."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from modules.helpdesk import services
from modules.helpdesk.models import Request
from tests.support import helpdesk as support
from wuye.testing.plugin import CompanyFixture, in_company

STAFF_PAGES = ["/helpdesk/", "/helpdesk/?queue=all", "/helpdesk/?queue=overdue", "/helpdesk/?queue=department",
               "/helpdesk/?queue=zone", "/helpdesk/?queue=visits", "/helpdesk/board/", "/helpdesk/daily/",
               "/helpdesk/duty-log/"]  # fmt: skip


@pytest.fixture
def site(company_a: CompanyFixture) -> support.Site:
    with in_company(company_a):
        return support.site(company_a.admin())


def _signed_in(company_client: Any, company: CompanyFixture, user: Any, language: str = "zh-hans") -> Any:
    client = company_client(company)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with in_company(company):
        client.force_login(user)
    return client


def _requests(site: support.Site, count: int) -> list[Request]:
    made = []
    for n in range(count):
        request = services.request_raise(
            by=site.cs_staff, kind=("repair", "complaint", "special_service")[n % 3], title=f"问题{n}",
            unit=site.unit, price="50.00" if n % 3 == 2 else None, department=site.engineering,
            assignee=site.engineer if n % 2 else None,
        )  # fmt: skip
        if n % 2:
            request = services.request_accept(by=site.engineer, request=request)
            services.photo_add(by=site.engineer, request=request, stage="before", upload=support.png())
            services.request_note(by=site.engineer, request=request, text="已联系业主")
        made.append(request)
    now = timezone.now()
    services.duty_log_write(
        by=site.cs_staff, project=site.project, shift_start=now - timezone.timedelta(hours=8), shift_end=now,
        events="夜班平稳",
    )  # fmt: skip
    return made


def _count(client: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.content[:400])
    return len(captured)


def test_pages_do_not_grow_with_requests(company_a: CompanyFixture, site: support.Site, company_client: Any) -> None:
    client = _signed_in(company_client, company_a, site.cs_manager, "en")
    with in_company(company_a):
        first = _requests(site, 3)
    detail = f"/helpdesk/requests/{first[1].pk}/"
    few = {path: _count(client, path) for path in [*STAFF_PAGES, detail]}
    with in_company(company_a):
        more = _requests(site, 9)
        for request in more[1::2]:
            services.photo_add(by=site.engineer, request=request, stage="before", upload=support.png())
            services.request_note(by=site.engineer, request=request, text="再次联系")
    detail_more = f"/helpdesk/requests/{more[1].pk}/"
    many = {path: _count(client, path) for path in STAFF_PAGES}
    many[detail] = _count(client, detail_more)
    assert many == few


def test_staff_pages_in_chinese_and_english(company_a: CompanyFixture, site: support.Site, company_client: Any) -> None:
    with in_company(company_a):
        request = _requests(site, 2)[1]
    for language, word in (("zh-hans", "待回访"), ("en", "Return visits due")):
        client = _signed_in(company_client, company_a, site.cs_manager, language)
        page = client.get("/helpdesk/?queue=all")
        assert page.status_code == 200
        text = page.content.decode()
        assert request.number in text
        assert word in text
        assert client.get(f"/helpdesk/requests/{request.pk}/").status_code == 200
    # Owners and staff of other roles without the page's permission are turned away.
    owner = _signed_in(company_client, company_a, site.owner)
    assert owner.get("/helpdesk/board/").status_code == 403
    assert _signed_in(company_client, company_a, site.engineer).get("/helpdesk/daily/").status_code == 403


def test_acting_on_a_request_from_its_page(company_a: CompanyFixture, site: support.Site, company_client: Any) -> None:
    with in_company(company_a):
        request = services.request_raise(by=site.cs_staff, kind="repair", title="水管", unit=site.unit)
    desk = _signed_in(company_client, company_a, site.cs_staff, "en")
    url = f"/helpdesk/requests/{request.pk}"
    # Closing before anyone accepted: the page says why, nothing changes.
    refused = desk.post(f"{url}/close/", follow=True)
    assert "Nobody has accepted this request yet" in refused.content.decode()
    with in_company(company_a):
        request.refresh_from_db()
        assert request.status == "new" and request.closed_at is None
    desk.post(f"{url}/dispatch/", {"department": "engineering", "assignee": str(site.engineer.pk)})
    engineer = _signed_in(company_client, company_a, site.engineer)
    engineer.post(f"{url}/accept/")
    engineer.post(f"{url}/photo/", {"stage": "after", "photo": support.png()})
    engineer.post(f"{url}/complete/", {"resolution": "换了管子"})
    desk.post(f"{url}/visit/", {"reached": "yes", "resolved": "yes", "satisfaction": "4"})
    with in_company(company_a):
        request.refresh_from_db()
        assert request.status == "closed"
        assert request.photos.count() == 1
        assert list(request.visits.values_list("satisfaction", flat=True)) == [4]


def test_an_owner_submits_and_answers_in_the_portal(
    company_a: CompanyFixture, site: support.Site, company_client: Any
) -> None:
    owner = _signed_in(company_client, company_a, site.owner)
    page = owner.get("/helpdesk/my/")
    assert page.status_code == 200 and site.other_unit.number not in page.content.decode()
    sent = owner.post(
        "/helpdesk/my/",
        {"unit": str(site.unit.pk), "kind": "repair", "title": "阳台漏水", "photos": [support.png(), support.png()]},
    )
    assert sent.status_code == 302
    with in_company(company_a):
        request = Request.objects.get(title="阳台漏水")
        assert request.photos.count() == 2 and request.owner_user_id == site.owner.pk
    owner.post(f"/helpdesk/my/{request.pk}/", {"text": "周末在家"})
    with in_company(company_a):
        assert request.events.filter(kind="note", text="周末在家", internal=False).exists()
        services.request_dispatch(
            by=site.cs_staff, request=request, department=site.engineering, assignee=site.engineer
        )
        services.request_complete(by=site.engineer, request=services.request_accept(by=site.engineer, request=request))
    timeline = owner.get(f"/helpdesk/my/{request.pk}/")
    assert timeline.status_code == 200 and "阳台漏水" in timeline.content.decode()
    owner.post(f"/helpdesk/my/{request.pk}/", {"resolved": "yes", "satisfaction": "5"})
    with in_company(company_a):
        request.refresh_from_db()
        assert request.status == "closed"
    # Another household's owner does not find it.
    other = _signed_in(company_client, company_a, site.other_owner)
    assert other.get(f"/helpdesk/my/{request.pk}/").status_code == 404


def test_transferring_and_withdrawing_from_the_pages(
    company_a: CompanyFixture, site: support.Site, company_client: Any
) -> None:
    with in_company(company_a):
        accepted = services.request_raise(
            by=site.cs_staff, kind="repair", title="灯不亮", unit=site.unit, department=site.engineering,
            assignee=site.engineer,
        )  # fmt: skip
        services.request_accept(by=site.engineer, request=accepted)
        mistaken = services.request_raise(by=site.cs_staff, kind="repair", title="登记错了", unit=site.unit)
        owners = services.request_submit(owner=site.owner, unit=site.unit, kind="consultation", title="停车费?")
    desk = _signed_in(company_client, company_a, site.cs_staff, "en")
    page = desk.get(f"/helpdesk/requests/{accepted.pk}/").content.decode()
    assert "Transfer" in page and "Withdraw because" not in page
    desk.post(
        f"/helpdesk/requests/{accepted.pk}/transfer/",
        {"department": "engineering", "assignee": str(site.engineer_2.pk), "reason": "病假"},
    )
    # Accepted once, then transferred back to the queue: it can no longer be withdrawn.
    refused = desk.post(f"/helpdesk/requests/{accepted.pk}/withdraw/", {"reason": "x"}, follow=True)
    assert "Only a request nobody has accepted yet can be withdrawn." in refused.content.decode()
    assert "Withdraw because" in desk.get(f"/helpdesk/requests/{mistaken.pk}/").content.decode()
    desk.post(f"/helpdesk/requests/{mistaken.pk}/withdraw/", {"reason": "登记错了"})
    owner = _signed_in(company_client, company_a, site.owner, "en")
    assert "Withdraw the request" in owner.get(f"/helpdesk/my/{owners.pk}/").content.decode()
    owner.post(f"/helpdesk/my/{owners.pk}/", {"withdraw": "1", "reason": "已解决"})
    with in_company(company_a):
        accepted.refresh_from_db()
        mistaken.refresh_from_db()
        owners.refresh_from_db()
    assert (accepted.status, accepted.assignee_id) == ("dispatched", site.engineer_2.pk)
    assert (mistaken.status, mistaken.resolution) == ("withdrawn", "登记错了")
    assert (owners.status, owners.resolution) == ("withdrawn", "已解决")
