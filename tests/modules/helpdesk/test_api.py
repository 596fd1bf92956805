"""The helpdesk API through real HTTP clients with real tokens: a request's life, role and scope answers,
the owner's own routes, and photos across households and companies."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from modules.helpdesk import services
from tests.support import estate
from tests.support import helpdesk as support
from wuye.accounts import services as account_services
from wuye.testing.plugin import CompanyFixture, in_company

API = "/api/v1/helpdesk"


@pytest.fixture
def site(company_a: CompanyFixture) -> support.Site:
    with in_company(company_a):
        return support.site(company_a.admin())


def _client(api_client: Any, company: CompanyFixture, user: Any) -> Any:
    with in_company(company):
        token = account_services.api_token_create(user=user, name="t")[1]
    return api_client(company, token)


def test_a_repair_through_the_api(company_a: CompanyFixture, site: support.Site, api_client: Any) -> None:
    desk, engineer = _client(api_client, company_a, site.cs_staff), _client(api_client, company_a, site.engineer)
    raised = desk.post(
        f"{API}/requests/",
        {
            "kind": "repair",
            "grade": "urgent",
            "title": "电梯困人",
            "unit": str(site.unit.pk),
            "department": "engineering",
            "assignee": str(site.engineer.pk),
        },
        format="json",
    )
    assert raised.status_code == 201, raised.content
    body = raised.json()
    assert (body["status"], body["department"], body["assignee"]) == (
        "dispatched",
        "engineering",
        str(site.engineer.pk),
    )
    path = f"{API}/requests/{body['id']}"
    mine = engineer.get(f"{API}/requests/", {"queue": "mine"}).json()
    assert [row["id"] for row in mine["results"]] == [body["id"]]
    assert engineer.post(f"{path}/accept/").json()["status"] == "accepted"
    assert engineer.post(f"{path}/on-site/").json()["status"] == "on_site"
    photo = engineer.post(f"{path}/photos/", {"stage": "before", "photo": support.png()}, format="multipart")
    assert photo.status_code == 200, photo.content
    assert [p["stage"] for p in photo.json()["photos"]] == ["before"]
    # Not a photo: refused with the field named, nothing added.
    fake = SimpleUploadedFile("x.png", b"GIF89a? no", content_type="image/png")
    refused = engineer.post(f"{path}/photos/", {"stage": "after", "photo": fake}, format="multipart")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "photo_not_image"
    done = engineer.post(f"{path}/complete/", {"resolution": "复位"}, format="json").json()
    assert done["status"] == "done"
    # A visit with a satisfaction out of range is refused; a good one closes the request.
    bad = desk.post(f"{path}/visits/", {"reached": True, "resolved": True, "satisfaction": 6}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "satisfaction_invalid"
    closed = desk.post(f"{path}/visits/", {"reached": True, "resolved": True, "satisfaction": 5}, format="json")
    assert closed.json()["status"] == "closed"
    kinds = [event["kind"] for event in closed.json()["events"]]
    assert kinds == ["raised", "dispatched", "accepted", "on_site", "photo", "completed", "visited", "closed"]


def test_bad_input_through_the_api(company_a: CompanyFixture, site: support.Site, api_client: Any) -> None:
    desk = _client(api_client, company_a, site.cs_staff)
    with in_company(company_a):
        request = services.request_raise(by=site.cs_staff, kind="complaint", title="噪音", unit=site.unit)
    path = f"{API}/requests/{request.pk}"
    outside = desk.post(
        f"{path}/dispatch/", {"department": "engineering", "assignee": str(site.guard.pk)}, format="json"
    )
    assert outside.status_code == 400 and outside.json()["error"]["code"] == "assignee_outside_department"
    past = desk.post(
        f"{path}/dispatch/", {"department": "engineering", "done_by": "2020-01-01T00:00:00+08:00"}, format="json"
    )
    assert past.status_code == 400 and past.json()["error"]["code"] == "deadline_past"
    never = desk.post(f"{path}/close/", {}, format="json")
    assert never.status_code == 400 and never.json()["error"]["code"] == "never_accepted"
    early = desk.post(f"{path}/visits/", {"reached": True, "resolved": True, "satisfaction": 4}, format="json")
    assert early.status_code == 400 and early.json()["error"]["code"] == "not_done"
    with in_company(company_a):
        admin = company_a.admin()
        elsewhere = estate.unit(admin, building=estate.building(admin, project=estate.project(admin)))
    foreign = desk.post(f"{API}/requests/", {"kind": "repair", "title": "x", "unit": str(elsewhere.pk)}, format="json")
    assert foreign.status_code == 404  # a unit outside the desk's project is not theirs to find
    with in_company(company_a):
        request.refresh_from_db()
        assert (request.status, request.department_id) == ("new", None)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        # (site attribute, answers to: list, detail, raise, dispatch, daily check, satisfaction report)
        ("cs_staff", (200, 200, 201, 200, 403, 403)),
        ("cs_manager", (200, 200, 201, 200, 200, 200)),
        ("project_manager", (200, 200, 201, 200, 200, 200)),
        ("zone_manager", (200, 200, 201, 403, 403, 403)),
        ("engineer", (200, 200, 201, 403, 403, 403)),
        ("owner", (403, 403, 403, 403, 403, 403)),
    ],
)
def test_what_each_role_may_do(
    who: str, expected: tuple[int, ...], company_a: CompanyFixture, site: support.Site, api_client: Any
) -> None:
    with in_company(company_a):
        request = services.request_raise(by=site.cs_staff, kind="repair", title="漏水", unit=site.unit)
    client = _client(api_client, company_a, getattr(site, who))
    answers = (
        client.get(f"{API}/requests/").status_code,
        client.get(f"{API}/requests/{request.pk}/").status_code,
        client.post(
            f"{API}/requests/", {"kind": "consultation", "title": "停水?", "unit": str(site.unit.pk)}, format="json"
        ).status_code,
        client.post(f"{API}/requests/{request.pk}/dispatch/", {"department": "engineering"}, format="json").status_code,
        client.get(f"{API}/daily-check/").status_code,
        client.get(f"{API}/reports/satisfaction/").status_code,
    )
    assert answers == expected


def test_staff_of_another_project_and_zone_do_not_find_the_request(
    company_a: CompanyFixture, site: support.Site, api_client: Any
) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        other_project = estate.project(admin)
        other_zone = estate.zone(admin, project=site.project)
        desk_elsewhere = support.staff(admin, role="cs_staff", position="cs_staff", project=other_project)
        zone_elsewhere = support.staff(
            admin, role="zone_manager", position="zone_manager", project=site.project, zones=(other_zone,)
        )
        request = services.request_raise(by=site.cs_staff, kind="repair", title="漏水", unit=site.unit)
    for user in (desk_elsewhere, zone_elsewhere):
        client = _client(api_client, company_a, user)
        assert client.get(f"{API}/requests/{request.pk}/").status_code == 404
        assert client.get(f"{API}/requests/").json()["count"] == 0
    zone_client = _client(api_client, company_a, site.zone_manager)
    assert [r["id"] for r in zone_client.get(f"{API}/requests/", {"queue": "zone"}).json()["results"]] == [
        str(request.pk)
    ]


def test_the_owners_routes(company_a: CompanyFixture, site: support.Site, api_client: Any) -> None:
    owner = _client(api_client, company_a, site.owner)
    made = owner.post(
        f"{API}/my/requests/",
        {"unit": str(site.unit.pk), "kind": "repair", "title": "窗户关不上", "photos": [support.png(), support.png()]},
        format="multipart",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert len(body["photos"]) == 2 and body["channel"] == "portal"
    seven = owner.post(
        f"{API}/my/requests/",
        {"unit": str(site.unit.pk), "kind": "repair", "title": "多图", "photos": [support.png() for _ in range(7)]},
        format="multipart",
    )
    assert seven.status_code == 400 and seven.json()["error"]["code"] == "too_many_photos"
    noted = owner.post(f"{API}/my/requests/{body['id']}/notes/", {"text": "下午两点后在家"}, format="json")
    assert noted.status_code == 200 and noted.json()["events"][-1]["text"] == "下午两点后在家"
    other = _client(api_client, company_a, site.other_owner)
    assert other.get(f"{API}/my/requests/{body['id']}/").status_code == 404
    assert other.post(f"{API}/my/requests/{body['id']}/notes/", {"text": "x"}, format="json").status_code == 404
    assert other.get(f"{API}/my/requests/").json()["count"] == 0
    not_theirs = other.post(
        f"{API}/my/requests/", {"unit": str(site.unit.pk), "kind": "repair", "title": "x"}, format="multipart"
    )
    assert not_theirs.status_code == 404
    # The owner answers the return visit once the work is done; before, it is refused.
    early = owner.post(f"{API}/my/requests/{body['id']}/visit/", {"resolved": True, "satisfaction": 5}, format="json")
    assert early.status_code == 400
    with in_company(company_a):
        request = services.request_dispatch(
            by=site.cs_staff,
            request=_get(body["id"]),
            department=site.engineering,
            assignee=site.engineer,
        )
        services.request_complete(by=site.engineer, request=services.request_accept(by=site.engineer, request=request))
    answered = owner.post(
        f"{API}/my/requests/{body['id']}/visit/",
        {"resolved": False, "satisfaction": 2, "comment": "没修好"},
        format="json",
    )
    assert answered.status_code == 200 and answered.json()["status"] == "dispatched"
    # The owner's timeline has no staff-only lines.
    assert "escalated" not in [event["kind"] for event in answered.json()["events"]]


def _get(request_id: str) -> Any:
    from modules.helpdesk.models import Request

    return Request.objects.get(pk=request_id)


def test_photos_are_served_only_to_those_who_may_see_the_request(
    company_a: CompanyFixture, company_b: CompanyFixture, site: support.Site, api_client: Any, company_client: Any
) -> None:
    with in_company(company_a):
        request = services.request_submit(
            owner=site.owner, unit=site.unit, kind="repair", title="墙裂了", photos=[support.png((8, 8))]
        )
        photo = request.photos.get()
        stored = photo.file.name
        admin = company_a.admin()
        other_project_desk = support.staff(admin, role="cs_staff", position="cs_staff", project=estate.project(admin))
    with in_company(company_b):
        b_site = support.site(company_b.admin())
    path = f"{API}/photos/{photo.pk}/"
    page = f"/helpdesk/photos/{photo.pk}/"
    own = _client(api_client, company_a, site.owner).get(path)
    assert own.status_code == 200 and own["Content-Type"] == "image/png" and "private" in own["Cache-Control"]
    assert b"".join(own.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    assert _client(api_client, company_a, site.cs_staff).get(path).status_code == 200
    # Another household of the same company, staff of another project, and anyone of company B: not found.
    assert _client(api_client, company_a, site.other_owner).get(path).status_code == 404
    assert _client(api_client, company_a, other_project_desk).get(path).status_code == 404
    assert _client(api_client, company_b, b_site.owner).get(path).status_code == 404
    assert _client(api_client, company_b, b_site.cs_manager).get(path).status_code == 404
    # The portal's page answers the same; signed out, it asks to sign in.
    browser = company_client(company_a)
    assert browser.get(page).status_code == 302
    with in_company(company_a):
        browser.force_login(site.other_owner)
    assert browser.get(page).status_code == 404
    with in_company(company_a):
        browser.force_login(site.owner)
    assert browser.get(page).status_code == 200
    # Stored under the company's own folder, never under a public media URL.
    with in_company(company_a):
        assert f"/{company_a.schema_name}/" in photo.file.path
    assert stored.startswith("helpdesk/") and str(request.pk) in stored


def test_the_openapi_schema_names_the_helpdesk_routes(company_a: CompanyFixture, api_client: Any, admin_token) -> None:
    schema = api_client(company_a, admin_token(company_a)).get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for route in ("/api/v1/helpdesk/requests/", "/api/v1/helpdesk/requests/{request_id}/dispatch/",
                  "/api/v1/helpdesk/photos/{photo_id}/", "/api/v1/helpdesk/my/requests/"):  # fmt: skip
        assert route in paths, route


def test_the_desks_other_routes(
    company_a: CompanyFixture, site: support.Site, api_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail
    from django.utils import timezone

    manager = _client(api_client, company_a, site.cs_manager)
    logged = manager.post(
        f"{API}/reception/",
        {"channel": "visit", "topic": "咨询停车", "unit": str(site.unit.pk), "visitor_name": "刘女士"},
        format="json",
    )
    assert logged.status_code == 201 and logged.json()["project"] == str(site.project.pk)
    raised = manager.post(
        f"{API}/requests/",
        {"kind": "consultation", "title": "咨询停车", "reception": logged.json()["id"], "unit": str(site.unit.pk)},
        format="json",
    )
    assert raised.status_code == 201
    assert [row["topic"] for row in manager.get(f"{API}/reception/").json()["results"]] == ["咨询停车"]
    now = timezone.now()
    shift = {"project": str(site.project.pk), "shift_start": (now - timezone.timedelta(hours=8)).isoformat(),
             "shift_end": now.isoformat(), "events": "平安无事"}  # fmt: skip
    entry = manager.post(f"{API}/duty-log/", shift, format="json")
    assert entry.status_code == 201
    checked = manager.post(f"{API}/duty-log/{entry.json()['id']}/check/")
    assert checked.status_code == 200 and checked.json()["checked_at"] is not None
    backwards = manager.post(f"{API}/duty-log/", {**shift, "shift_end": shift["shift_start"]}, format="json")
    assert backwards.status_code == 400 and backwards.json()["error"]["code"] == "shift_order"
    deadline = {"project": str(site.project.pk), "kind": "repair", "grade": "normal", "respond_minutes": 30,
                "attend_minutes": 600, "close_minutes": 1440}  # fmt: skip
    assert manager.put(f"{API}/deadlines/", deadline, format="json").json()["attend_minutes"] == 600
    wrong = manager.put(f"{API}/deadlines/", {**deadline, "close_minutes": 20}, format="json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "deadline_order"
    mode = {"department": "engineering", "mode": "grab"}
    assert manager.put(f"{API}/dispatch-modes/", mode, format="json").json() == mode
    board = manager.get(f"{API}/requests/board/").json()
    assert {column["status"]: column["count"] for column in board}["new"] == 1
    zone = _client(api_client, company_a, site.zone_manager)
    rated = zone.post(f"{API}/ratings/", {"staff": str(site.engineer.pk), "score": 5}, format="json")
    assert rated.status_code == 201 and rated.json()["staff_name"] == site.engineer.name
    again = zone.post(f"{API}/ratings/", {"staff": str(site.engineer.pk), "score": 4}, format="json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "already_rated"
    # The owner who asked hears that the work is done, in the app and by e-mail.
    mail.outbox.clear()
    with in_company(company_a):
        request = services.request_submit(owner=site.owner, unit=site.unit, kind="repair", title="水龙头滴水")
        request = services.request_dispatch(
            by=site.cs_staff, request=request, department=site.engineering, assignee=site.engineer
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.request_complete(
                by=site.engineer, request=services.request_accept(by=site.engineer, request=request)
            )
    assert [message.to for message in mail.outbox] == [[site.owner.email]]
    owner = _client(api_client, company_a, site.owner)
    notices = owner.get(f"{API}/notifications/").json()["results"]
    # Newest first: done (by e-mail too), and accepted before it (in the app only).
    assert [n["request"] for n in notices] == [str(request.pk)] * 2 and notices[0]["read_at"] is None
    read = owner.post(f"{API}/notifications/{notices[0]['id']}/read/")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert manager.post(f"{API}/notifications/{notices[0]['id']}/read/").status_code == 404


def test_transfer_and_withdraw_through_the_api(company_a: CompanyFixture, site: support.Site, api_client: Any) -> None:
    with in_company(company_a):
        accepted = services.request_raise(
            by=site.cs_staff, kind="repair", title="灯不亮", unit=site.unit, department=site.engineering,
            assignee=site.engineer,
        )  # fmt: skip
        services.request_accept(by=site.engineer, request=accepted)
        mistaken = services.request_raise(by=site.cs_staff, kind="repair", title="登记错了", unit=site.unit)
        owners = services.request_submit(owner=site.owner, unit=site.unit, kind="consultation", title="停车费?")
    desk = _client(api_client, company_a, site.cs_staff)
    moved = desk.post(
        f"{API}/requests/{accepted.pk}/transfer/",
        {"department": "engineering", "assignee": str(site.engineer_2.pk), "reason": "病假"},
        format="json",
    )
    assert moved.status_code == 200 and moved.json()["status"] == "dispatched"
    same = desk.post(
        f"{API}/requests/{accepted.pk}/transfer/", {"department": "engineering", "reason": "x"}, format="json"
    )
    assert same.status_code == 400  # dispatched again: not accepted work any more
    assert desk.post(f"{API}/requests/{mistaken.pk}/withdraw/", {}, format="json").status_code == 400  # no reason
    gone = desk.post(f"{API}/requests/{mistaken.pk}/withdraw/", {"reason": "登记错了"}, format="json")
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    mine = _client(api_client, company_a, site.owner)
    answer = mine.post(f"{API}/my/requests/{owners.pk}/withdraw/", {"reason": "已解决"}, format="json")
    assert answer.status_code == 200 and answer.json()["status"] == "withdrawn"
    # Another household's owner does not find it.
    theirs = _client(api_client, company_a, site.other_owner)
    assert theirs.post(f"{API}/my/requests/{owners.pk}/withdraw/", {"reason": "x"}, format="json").status_code == 404
