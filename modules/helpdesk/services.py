"""Writes of the helpdesk: typed, keyword-only, atomic; each checks policy and scope before it changes
anything, and refuses bad input with a ServiceError whose message a person can act on.

Every change of a request writes a line of its timeline (RequestEvent) and works its deadlines out again
(deadlines.py) in the same transaction; notifications are rows written with it, sent by e-mail and text
message by a task queued on commit.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from modules.estate.models import Project, Unit, Zone
from modules.fees import selectors as fees_selectors
from modules.fees import services as fees_services
from modules.households import selectors as households_selectors
from modules.staff import selectors as staff_selectors
from wuye.accounts.policies import CS_MANAGER, PROJECT_MANAGER
from wuye.core.errors import NotFound, PolicyDenied, ServiceError
from wuye.core.ids import uuid7
from wuye.core.policies import require
from wuye.core.scope import scope_of
from wuye.core.tenancy import current_schema

from . import deadlines, policies
from .models import (
    ATTENDED_KINDS,
    COMPLAINT_GRADES,
    MAX_VISIT_ATTEMPTS,
    OPEN_STATUSES,
    OTHER_GRADES,
    PHOTO_MAX_BYTES,
    PHOTOS_PER_STAGE,
    Channel,
    DeadlinePolicy,
    DepartmentDesk,
    DispatchMode,
    DutyLogEntry,
    EventKind,
    Grade,
    Kind,
    MaterialLine,
    Notification,
    Pause,
    PhotoStage,
    ReceptionEntry,
    Request,
    RequestEvent,
    RequestPhoto,
    ReturnVisit,
    ServiceCharge,
    StaffRating,
    Status,
)

SPECIAL_SERVICE_ITEM = "special-service"  # the charge item fees seeds for special services (特约服务费)
VISIT_RETRY_AFTER = dt.timedelta(days=1)
IMAGE_FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp"),
                 "GIF": ("gif", "image/gif")}  # fmt: skip


# ------------------------------------------------------------------------------------------ helpers
def _outside() -> PolicyDenied:
    return PolicyDenied(_("This is outside the projects and zones you work in."))


def _require_place(by: Any, *, project_id: uuid.UUID, zone_id: uuid.UUID | None) -> None:
    if not scope_of(by).covers(project_id=project_id, zone_id=zone_id):
        raise _outside()


def _require_request(by: Any, request: Request, permission: str) -> None:
    require(by, permission)
    _require_place(by, project_id=request.project_id, zone_id=request.zone_id)


def _locked(request: Request) -> Request:
    """The request's row, locked for the rest of the transaction and read afresh (two people pressing
    "take" at once: the second sees the first's assignee)."""
    return Request.objects.select_for_update().get(pk=request.pk)


def _event(
    request: Request,
    kind: str,
    *,
    actor: Any,
    text: str = "",
    from_status: str = "",
    internal: bool = False,
    at: dt.datetime | None = None,
) -> RequestEvent:
    return RequestEvent.objects.create(
        request=request,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        text=text,
        from_status=from_status,
        to_status=request.status,
        internal=internal,
        at=at or timezone.now(),
    )


def _text(value: Any, *, field: str, required: bool = False, limit: int = 2000) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ServiceError(_("This field is required."), code="required", field=field)
    if len(text) > limit:
        raise ServiceError(_("Keep this under %(limit)d characters.") % {"limit": limit}, code="too_long", field=field)
    return text


def _money(value: Any, *, field: str, allow_zero: bool = True) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ServiceError(_("Give an amount in yuan, like 120.50."), code="amount_invalid", field=field) from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")) or amount < 0:
        raise ServiceError(_("Give an amount in yuan, like 120.50."), code="amount_invalid", field=field)
    if not allow_zero and amount == 0:
        raise ServiceError(_("The amount must be more than zero."), code="amount_not_positive", field=field)
    if amount > Decimal("1000000"):
        raise ServiceError(_("The amount is too large."), code="amount_too_large", field=field)
    return amount


def _grade_for(kind: str, grade: str | None) -> str:
    if kind not in Kind.values:
        raise ServiceError(_("Choose a kind of request."), code="kind_invalid", field="kind")
    if not grade:
        return Grade.GENERAL if kind == Kind.COMPLAINT else Grade.NORMAL
    allowed = COMPLAINT_GRADES if kind == Kind.COMPLAINT else OTHER_GRADES
    if grade not in allowed:
        raise ServiceError(
            _("A complaint is graded general, serious or major; other requests normal or urgent."),
            code="grade_invalid",
            field="grade",
        )
    return grade


def deadline_policy_for(*, project_id: uuid.UUID, kind: str, grade: str) -> DeadlinePolicy:
    """The project's own deadlines for this kind and grade, else the company's default."""
    found = sorted(
        DeadlinePolicy.objects.filter(kind=kind, grade=grade, project_id__in=[project_id]).union(
            DeadlinePolicy.objects.filter(kind=kind, grade=grade, project__isnull=True)
        ),
        key=lambda policy: policy.project_id is None,
    )
    if not found:
        raise ServiceError(
            _("No deadlines are set for this kind of request: set them in the helpdesk settings."),
            code="no_deadline_policy",
            field="kind",
        )
    return found[0]


def _pauses(request: Request) -> list[deadlines.Pause]:
    return list(request.pauses.values_list("started_at", "ended_at"))


def _reschedule(request: Request, *, now: dt.datetime) -> None:
    """Work the stored deadlines out again from the targets, the clock's start and the pauses."""
    targets = deadlines.Targets(request.respond_minutes, request.attend_minutes, request.close_minutes)
    found = deadlines.deadlines(request.clock_started_at, targets, _pauses(request))
    request.respond_by, request.attend_by, request.close_by = found.respond_by, found.attend_by, found.close_by
    before = request.next_due_at
    if request.status in OPEN_STATUSES and request.status != Status.WAITING:
        request.next_due_at = deadlines.next_due(
            found,
            responded=request.accepted_at is not None,
            attended=request.on_site_at is not None,
            completed=request.completed_at is not None,
            needs_attendance=request.needs_attendance,
        )
    else:
        request.next_due_at = None
    # A deadline met (or moved) starts the escalation afresh for the next one.
    if request.next_due_at != before and (request.next_due_at is None or request.next_due_at > now):
        request.escalation_level = 0


def _save(request: Request, *, now: dt.datetime) -> None:
    _reschedule(request, now=now)
    try:
        request.full_clean(exclude=["reception", "person", "owner_user", "raised_by", "assignee", "department"])
    except ValidationError as error:
        raise ServiceError.from_validation(error) from None
    request.save()


def _number(day: dt.date) -> str:
    """The next number of the day, from a counter row bumped in one statement (no two requests share one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO helpdesk_requestcounter (day, last) VALUES (%s, 1) "
            "ON CONFLICT (day) DO UPDATE SET last = helpdesk_requestcounter.last + 1 RETURNING last",
            [day],
        )
        last = cursor.fetchone()[0]
    return f"{day:%Y%m%d}-{last:04d}"


def owner_unit_ids(user: Any) -> set[uuid.UUID]:
    """The units whose household the user belongs to today: owned or lived in."""
    home = households_selectors.owner_home(user=user)
    if home is None:
        return set()
    return {o.unit_id for o in home["ownerships"]} | {o.unit_id for o in home["occupancies"]}


def is_requester(user: Any, request: Request) -> bool:
    """Whether the user is the owner who asked, or of the household the request is about."""
    if not getattr(user, "is_authenticated", False) or getattr(user, "kind", "") != "owner":
        return False
    if request.owner_user_id == user.pk:
        return True
    return request.unit_id is not None and request.unit_id in owner_unit_ids(user)


def _staff_may_work(by: Any, request: Request) -> bool:
    """The assignee works on their request; dispatchers and the department's team leaders step in."""
    if request.assignee_id == by.pk:
        return True
    if policies.can(by, policies.DISPATCH):
        return True
    return request.department_id is not None and staff_selectors.is_team_leader_of(
        user_id=by.pk, department_id=request.department_id
    )


def _require_worker(by: Any, request: Request) -> None:
    _require_request(by, request, policies.WORK)
    if not _staff_may_work(by, request):
        raise PolicyDenied(_("Only the person the request is assigned to, or their team leader, works on it."))


def _require_status(request: Request, allowed: Sequence[str], message: str, code: str) -> None:
    if request.status not in allowed:
        raise ServiceError(message, code=code, field="status")


# ------------------------------------------------------------------------------------------ notifications
def notify(users: Iterable[Any], *, request: Request | None, text: str, urgent: bool = False) -> list[Notification]:
    """An in-app notice to each user (once each); urgent ones go out by e-mail and text message too, after
    the transaction commits."""
    seen: set[Any] = set()
    rows = []
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(Notification(user=user, request=request, text=text[:300], urgent=urgent))
    made = Notification.objects.bulk_create(rows)
    if urgent and made:
        from . import tasks

        ids = [str(notice.pk) for notice in made]
        transaction.on_commit(lambda: tasks.notifications_send.delay(ids))
    return made


def notification_read(*, user: Any, notification_id: Any) -> Notification:
    notice = Notification.objects.filter(pk=notification_id, user=user).first()
    if notice is None:
        raise NotFound(_("No such notification."))
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return notice


def _zone_managers(request: Request) -> list[Any]:
    return staff_selectors.zone_managers_of(zone_id=request.zone_id) if request.zone_id else []


# ------------------------------------------------------------------------------------------ reception
def _resolve_place(*, project: Project | None, unit: Unit | None, zone: Zone | None) -> tuple[Project, Zone | None]:
    if unit is not None:
        if project is not None and unit.project_id != project.pk:
            raise ServiceError(_("This unit is in another project."), code="unit_of_other_project", field="unit")
        return unit.project, unit.zone
    if project is None:
        raise ServiceError(_("Choose the project or the unit."), code="project_required", field="project")
    if zone is not None and zone.project_id != project.pk:
        raise ServiceError(_("This zone is in another project."), code="zone_of_other_project", field="zone")
    return project, zone


@transaction.atomic
def reception_log(
    *,
    by: Any,
    channel: str,
    topic: str,
    project: Project | None = None,
    unit: Unit | None = None,
    person: Any = None,
    visitor_name: str = "",
    phone: str = "",
    notes: str = "",
    received_at: dt.datetime | None = None,
) -> ReceptionEntry:
    """Log a visit, call or message (业户接待) in seconds."""
    require(by, policies.RAISE)
    where, zone = _resolve_place(project=project, unit=unit, zone=None)
    _require_place(by, project_id=where.pk, zone_id=zone.pk if zone else None)
    if channel not in Channel.values:
        raise ServiceError(_("Choose how the owner reached us."), code="channel_invalid", field="channel")
    if received_at is not None and received_at > timezone.now() + dt.timedelta(minutes=5):
        raise ServiceError(_("A visit cannot be logged in the future."), code="time_in_future", field="received_at")
    return ReceptionEntry.objects.create(
        project=where,
        zone=zone,
        unit=unit,
        person=person,
        visitor_name=_text(visitor_name, field="visitor_name", limit=100),
        phone=_text(phone, field="phone", limit=32),
        channel=channel,
        topic=_text(topic, field="topic", required=True, limit=200),
        notes=_text(notes, field="notes"),
        received_at=received_at or timezone.now(),
        logged_by=by,
    )


# ------------------------------------------------------------------------------------------ raising
def _create(
    *,
    by: Any,
    owner_user: Any,
    kind: str,
    grade: str | None,
    channel: str,
    title: str,
    description: str,
    project: Project,
    zone: Zone | None,
    unit: Unit | None,
    place: str,
    person: Any,
    contact_name: str,
    contact_phone: str,
    reception: ReceptionEntry | None,
    price: Any,
) -> Request:
    grade = _grade_for(kind, grade)
    if channel not in Channel.values:
        raise ServiceError(_("Choose how the owner reached us."), code="channel_invalid", field="channel")
    place = _text(place, field="place", limit=200)
    if unit is None and not place:
        raise ServiceError(_("Say which unit, or where in the common areas."), code="place_required", field="unit")
    if kind == Kind.SPECIAL_SERVICE and unit is None:
        raise ServiceError(
            _("A special service is done in a unit and billed to its household: choose the unit."),
            code="unit_required",
            field="unit",
        )
    if price not in (None, "") and kind != Kind.SPECIAL_SERVICE:
        raise ServiceError(_("Only special services have a price."), code="price_not_allowed", field="price")
    policy = deadline_policy_for(project_id=project.pk, kind=kind, grade=grade)
    now = timezone.now()
    request = Request(
        number=_number(timezone.localdate(now)),
        kind=kind,
        grade=grade,
        channel=channel,
        title=_text(title, field="title", required=True, limit=200),
        description=_text(description, field="description", limit=5000),
        project=project,
        zone=zone,
        building=unit.building if unit is not None else None,
        unit=unit,
        place=place,
        person=person,
        owner_user=owner_user,
        contact_name=_text(contact_name, field="contact_name", limit=100),
        contact_phone=_text(contact_phone, field="contact_phone", limit=32),
        reception=reception,
        raised_by=by,
        raised_at=now,
        clock_started_at=now,
        respond_minutes=policy.respond_minutes,
        attend_minutes=policy.attend_minutes if kind in ATTENDED_KINDS else None,
        close_minutes=policy.close_minutes,
        escalate_every_minutes=policy.escalate_every_minutes,
        price=None if price in (None, "") else _money(price, field="price"),
    )
    _save(request, now=now)
    _event(request, EventKind.RAISED, actor=by or owner_user, text=request.title, at=now)
    notify(
        _zone_managers(request),
        request=request,
        text=_("New %(kind)s in your zone: %(number)s %(title)s")
        % {"kind": request.get_kind_display(), "number": request.number, "title": request.title},
    )
    return request


@transaction.atomic
def request_raise(
    *,
    by: Any,
    kind: str,
    title: str,
    channel: str = Channel.PHONE,
    grade: str | None = None,
    description: str = "",
    project: Project | None = None,
    unit: Unit | None = None,
    zone: Zone | None = None,
    place: str = "",
    person: Any = None,
    contact_name: str = "",
    contact_phone: str = "",
    reception: ReceptionEntry | None = None,
    price: Any = None,
    department: Any = None,
    assignee: Any = None,
) -> Request:
    """A request raised by staff: at the desk, on the phone, from a reception entry, or on a patrol. With a
    department it is dispatched at once."""
    require(by, policies.RAISE)
    if reception is not None:
        project = project or reception.project
        unit = unit or reception.unit
        person = person or reception.person
    where, zone = _resolve_place(project=project, unit=unit, zone=zone)
    _require_place(by, project_id=where.pk, zone_id=zone.pk if zone else None)
    if reception is not None and reception.project_id != where.pk:
        raise ServiceError(_("The reception entry is of another project."), code="reception_mismatch")
    request = _create(
        by=by,
        owner_user=None,
        kind=kind,
        grade=grade,
        channel=channel,
        title=title,
        description=description,
        project=where,
        zone=zone,
        unit=unit,
        place=place,
        person=person,
        contact_name=contact_name,
        contact_phone=contact_phone,
        reception=reception,
        price=price,
    )
    if department is not None:
        request = request_dispatch(by=by, request=request, department=department, assignee=assignee)
    return request


OWNER_KINDS = (Kind.CONSULTATION, Kind.REPAIR, Kind.COMPLAINT, Kind.SPECIAL_SERVICE, Kind.SUGGESTION)


@transaction.atomic
def request_submit(
    *,
    owner: Any,
    unit: Unit,
    kind: str,
    title: str,
    description: str = "",
    place: str = "",
    photos: Sequence[Any] = (),
) -> Request:
    """A request an owner submits in the owner portal, about a unit of their household, with up to six
    photos. A common-area repair is about a place, but still filed under the owner's unit's project."""
    if unit.pk not in owner_unit_ids(owner):
        raise NotFound(_("No such unit."))
    if len(photos) > PHOTOS_PER_STAGE:
        raise ServiceError(
            _("Attach at most %(count)d photos.") % {"count": PHOTOS_PER_STAGE}, code="too_many_photos", field="photos"
        )
    # Every photo is checked before anything is written: a bad seventh file leaves no request and no file.
    for upload in photos:
        _check_image(upload)
        upload.seek(0)
    # The owner picks the kind; the grade (a complaint's severity) is the service centre's to set.
    person = getattr(owner, "person", None)
    request = _create(
        by=None,
        owner_user=owner,
        kind=kind,
        grade=None,
        channel=Channel.PORTAL,
        title=title,
        description=description,
        project=unit.project,
        zone=unit.zone,
        unit=unit,
        place=place,
        person=person,
        contact_name=getattr(person, "name", "") or owner.name,
        contact_phone=getattr(person, "phone", "") or getattr(owner, "phone", ""),
        reception=None,
        price=None,
    )
    for upload in photos:
        photo_add(by=owner, request=request, stage=PhotoStage.OWNER, upload=upload)
    return request


# ------------------------------------------------------------------------------------------ dispatch
def _department_mode(department: Any) -> str:
    desk = DepartmentDesk.objects.filter(department=department).first()
    return desk.mode if desk is not None else DispatchMode.ASSIGN


def _running_minutes_until(request: Request, moment: dt.datetime, *, now: dt.datetime) -> int:
    """Minutes of running time from the request's clock start to `moment`, the pauses so far taken out."""
    elapsed = deadlines.running_time(request.clock_started_at, now, _pauses(request))
    return math.ceil((elapsed + (moment - now)) / dt.timedelta(minutes=1))


def _require_in_department(assignee: Any, department: Any, *, project_id: uuid.UUID) -> None:
    """A request goes to a person of the department it goes to, in its project (or to nobody yet)."""
    if assignee is not None and not staff_selectors.in_department(
        user_id=assignee.pk, department_id=department.pk, project_id=project_id
    ):
        raise ServiceError(
            _("%(person)s is not in the %(department)s of this project.")
            % {"person": assignee, "department": department},
            code="assignee_outside_department",
            field="assignee",
        )


def _target_text(department: Any, assignee: Any) -> str:
    return str(department) if assignee is None else f"{department} · {assignee}"


@transaction.atomic
def request_dispatch(
    *,
    by: Any,
    request: Request,
    department: Any,
    assignee: Any = None,
    done_by: dt.datetime | None = None,
) -> Request:
    """Send a request to a department and, in assign mode or by choice, to a person in it (派单). A team
    leader assigns their department's requests to the department's people. `done_by` sets a deadline of
    its own, earlier or later than the policy's (it must lie ahead)."""
    request = _locked(request)
    require(by, policies.VIEW)
    _require_place(by, project_id=request.project_id, zone_id=request.zone_id)
    leader_of_target = staff_selectors.is_team_leader_of(user_id=by.pk, department_id=department.pk)
    leads_this_queue = leader_of_target and request.department_id == department.pk and policies.can(by, policies.WORK)
    if not policies.can(by, policies.DISPATCH) and not leads_this_queue:
        raise PolicyDenied(_("Only the service desk dispatches requests; team leaders assign their own queue."))
    _require_status(
        request,
        (Status.NEW, Status.DISPATCHED),
        _("Only a request nobody has accepted yet can be dispatched."),
        "not_dispatchable",
    )
    _require_in_department(assignee, department, project_id=request.project_id)
    now = timezone.now()
    if done_by is not None:
        if done_by <= now:
            raise ServiceError(_("The deadline is in the past."), code="deadline_past", field="done_by")
        minutes = _running_minutes_until(request, done_by, now=now)
        request.close_minutes = max(minutes, 1)
        request.respond_minutes = min(request.respond_minutes, request.close_minutes)
        if request.attend_minutes is not None:
            request.attend_minutes = min(request.attend_minutes, request.close_minutes)
    before = request.status
    changed_department = request.department_id != department.pk
    request.department = department
    request.assignee = assignee
    request.status = Status.DISPATCHED
    request.dispatched_at = request.dispatched_at or now
    _save(request, now=now)
    text = _target_text(department, assignee)
    _event(
        request,
        EventKind.ASSIGNED if assignee is not None and not changed_department else EventKind.DISPATCHED,
        actor=by,
        text=text,
        from_status=before,
        at=now,
    )
    if assignee is not None:
        notify([assignee], request=request, text=_("Assigned to you: %(number)s %(title)s") % _names(request))
    else:
        # Assign mode: the team leaders pick it up; grab mode: they hear of it all the same.
        notify(
            staff_selectors.department_heads(project_id=request.project_id, department_id=department.pk),
            request=request,
            text=_("New in your department's queue: %(number)s %(title)s") % _names(request),
        )
    return request


def _names(request: Request) -> dict[str, str]:
    return {"number": request.number, "title": request.title}


@transaction.atomic
def request_take(*, by: Any, request: Request) -> Request:
    """Take a request from the department's queue (抢单), where the department works that way."""
    request = _locked(request)
    _require_request(by, request, policies.WORK)
    if request.department_id is None or not staff_selectors.in_department(
        user_id=by.pk, department_id=request.department_id, project_id=request.project_id
    ):
        raise PolicyDenied(_("Only the department's own staff take its requests."))
    if _department_mode(request.department) != DispatchMode.GRAB:
        raise ServiceError(
            _("This department's team leaders assign its requests."), code="department_assigns", field="department"
        )
    if request.assignee_id is not None or request.status != Status.DISPATCHED:
        raise ServiceError(_("Someone else has taken this request."), code="already_taken")
    now = timezone.now()
    request.assignee = by
    _save(request, now=now)
    _event(request, EventKind.TAKEN, actor=by, text=str(by), from_status=request.status, at=now)
    return request


@transaction.atomic
def request_transfer(*, by: Any, request: Request, department: Any, assignee: Any = None, reason: str) -> Request:
    """Hand accepted work to another department or person (转派): the wrong trade was sent, the engineer is
    off sick. The request goes back to dispatched and the new person accepts it again; its deadlines run
    on (the owner has been waiting all along). The desk transfers any request, a team leader their
    department's."""
    request = _locked(request)
    require(by, policies.VIEW)
    _require_place(by, project_id=request.project_id, zone_id=request.zone_id)
    leads_current = (
        request.department_id is not None
        and policies.can(by, policies.WORK)
        and staff_selectors.is_team_leader_of(user_id=by.pk, department_id=request.department_id)
    )
    if not policies.can(by, policies.DISPATCH) and not leads_current:
        raise PolicyDenied(_("Only the service desk, or the department's team leader, transfers its work."))
    _require_status(
        request,
        (Status.ACCEPTED, Status.ON_SITE),
        _("Only accepted work is transferred; dispatch a request nobody has accepted yet."),
        "not_transferable",
    )
    why = _text(reason, field="reason", required=True, limit=200)
    _require_in_department(assignee, department, project_id=request.project_id)
    if department.pk == request.department_id and getattr(assignee, "pk", None) == request.assignee_id:
        raise ServiceError(
            _("The request is already with them: choose another department or person."),
            code="transfer_to_same",
            field="assignee",
        )
    now = timezone.now()
    before, previous = request.status, request.assignee
    request.department, request.assignee, request.status = department, assignee, Status.DISPATCHED
    _save(request, now=now)
    text = f"{_target_text(department, assignee)}: {why}"
    _event(request, EventKind.TRANSFERRED, actor=by, text=text, from_status=before, at=now)
    names = _names(request)
    if assignee is not None:
        notify([assignee], request=request, text=_("Transferred to you: %(number)s %(title)s") % names)
    else:
        notify(
            staff_selectors.department_heads(project_id=request.project_id, department_id=department.pk),
            request=request,
            text=_("Transferred to your department's queue: %(number)s %(title)s") % names,
        )
    if previous is not None and previous != assignee:
        notify([previous], request=request, text=_("No longer yours: %(number)s %(title)s") % names)
    return request


@transaction.atomic
def request_withdraw(*, by: Any, request: Request, reason: str) -> Request:
    """Withdraw a request raised by mistake or twice (撤销), before anybody accepted it: the desk, or the
    owner who raised it. Not a closing (nothing was done, there is no return visit): it leaves the queues
    and its timeline says why."""
    request = _locked(request)
    if not is_requester(by, request):
        _require_request(by, request, policies.DISPATCH)
    if request.accepted_at is not None or request.status not in (Status.NEW, Status.DISPATCHED):
        # Accepted once (then transferred back to the queue, say): work may have begun; close it instead.
        raise ServiceError(
            _("Only a request nobody has accepted yet can be withdrawn."), code="not_withdrawable", field="status"
        )
    why = _text(reason, field="reason", required=True, limit=200)
    now = timezone.now()
    before = request.status
    request.status, request.closed_at, request.resolution = Status.WITHDRAWN, now, why
    _save(request, now=now)
    _event(request, EventKind.WITHDRAWN, actor=by, text=why, from_status=before, at=now)
    if request.assignee is not None:
        notify([request.assignee], request=request, text=_("Withdrawn: %(number)s %(title)s") % _names(request))
    return request


# ------------------------------------------------------------------------------------------ the work
@transaction.atomic
def request_accept(*, by: Any, request: Request) -> Request:
    """The assignee accepts the request (受理): the response deadline is met."""
    request = _locked(request)
    _require_request(by, request, policies.WORK)
    if request.assignee_id != by.pk:
        raise PolicyDenied(_("Only the person the request is assigned to accepts it."))
    _require_status(request, (Status.DISPATCHED,), _("This request is not waiting to be accepted."), "not_acceptable")
    now = timezone.now()
    request.status, request.accepted_at = Status.ACCEPTED, now
    _save(request, now=now)
    _event(request, EventKind.ACCEPTED, actor=by, from_status=Status.DISPATCHED, at=now)
    # The owner who asked sees in the portal that someone has it in hand.
    notify([request.owner_user], request=request, text=_("Accepted: %(number)s %(title)s") % _names(request))
    return request


@transaction.atomic
def request_on_site(*, by: Any, request: Request) -> Request:
    request = _locked(request)
    _require_worker(by, request)
    _require_status(request, (Status.ACCEPTED,), _("Accept the request before going on site."), "not_accepted")
    now = timezone.now()
    request.status, request.on_site_at = Status.ON_SITE, now
    _save(request, now=now)
    _event(request, EventKind.ON_SITE, actor=by, from_status=Status.ACCEPTED, at=now)
    return request


@transaction.atomic
def request_note(*, by: Any, request: Request, text: str, internal: bool = False) -> RequestEvent:
    """A note on the timeline: staff in scope (internal notes hidden from the owner), or the owner."""
    request = _locked(request)
    if is_requester(by, request):
        internal = False
    else:
        _require_request(by, request, policies.VIEW)
    body = _text(text, field="text", required=True)
    return _event(request, EventKind.NOTE, actor=by, text=body, internal=internal, from_status=request.status)


@transaction.atomic
def request_wait(*, by: Any, request: Request, reason: str) -> Request:
    """Wait for the owner (not at home, choosing a time, buying a part): the clock stops."""
    request = _locked(request)
    _require_worker(by, request)
    _require_status(
        request,
        (Status.DISPATCHED, Status.ACCEPTED, Status.ON_SITE),
        _("Only work in progress can wait for the owner."),
        "not_in_progress",
    )
    now = timezone.now()
    why = _text(reason, field="reason", required=True, limit=200)
    Pause.objects.create(request=request, started_at=now, reason=why, resume_status=request.status)
    before = request.status
    request.status, request.paused_since = Status.WAITING, now
    _save(request, now=now)
    _event(request, EventKind.PAUSED, actor=by, text=why, from_status=before, at=now)
    # Waiting is usually waiting for the owner to do something: they hear at once, by e-mail and text too.
    notify(
        [request.owner_user],
        request=request,
        text=_("Waiting for you: %(number)s %(title)s (%(reason)s)") % {**_names(request), "reason": why},
        urgent=True,
    )
    return request


@transaction.atomic
def request_resume(*, by: Any, request: Request) -> Request:
    request = _locked(request)
    _require_worker(by, request)
    _require_status(request, (Status.WAITING,), _("This request is not waiting for the owner."), "not_waiting")
    now = timezone.now()
    pause = request.pauses.select_for_update().get(ended_at__isnull=True)
    pause.ended_at = now
    pause.save(update_fields=["ended_at"])
    request.status, request.paused_since = pause.resume_status, None
    _save(request, now=now)
    _event(request, EventKind.RESUMED, actor=by, from_status=Status.WAITING, at=now)
    return request


def _check_image(upload: Any) -> tuple[bytes, str, str]:
    """The upload's bytes, file extension and content type, if it is an image of a kind browsers show."""
    from PIL import Image, UnidentifiedImageError

    size = getattr(upload, "size", None)
    if size is not None and size > PHOTO_MAX_BYTES:
        raise _too_large()
    data = upload.read(PHOTO_MAX_BYTES + 1)
    if len(data) > PHOTO_MAX_BYTES:
        raise _too_large()
    if not data:
        raise ServiceError(_("The file is empty."), code="photo_empty", field="photo")
    import io

    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        kind = None
    if kind not in IMAGE_FORMATS:
        raise ServiceError(
            _("This file is not a photo: attach a JPEG, PNG, WebP or GIF image."), code="photo_not_image", field="photo"
        )
    extension, content_type = IMAGE_FORMATS[kind]
    return data, extension, content_type


def _too_large() -> ServiceError:
    return ServiceError(
        _("A photo may be at most %(size)d MB.") % {"size": PHOTO_MAX_BYTES // (1024 * 1024)},
        code="photo_too_large",
        field="photo",
    )


def _company_prefix() -> str:
    """A folder of the company's own for storages that do not keep one per company themselves (the local
    tenant-aware storage does: it files everything under the company's schema already)."""
    from django_tenants.files.storage import TenantFileSystemStorage

    if isinstance(storages["default"], TenantFileSystemStorage):
        return ""
    return f"{current_schema()}/"


@transaction.atomic
def photo_add(*, by: Any, request: Request, stage: str, upload: Any) -> RequestPhoto:
    """A photo of the request: the owner's (when submitting), or the staff's before and after the work.
    At most six a stage, each at most 10 MB and an image."""
    request = _locked(request)
    if stage not in PhotoStage.values:
        raise ServiceError(_("Choose before or after the work."), code="stage_invalid", field="stage")
    if stage == PhotoStage.OWNER:
        if not is_requester(by, request):
            raise PolicyDenied(_("Only the owner adds the owner's photos."))
        if not request.is_open:
            raise ServiceError(_("This request is finished."), code="request_finished", field="photo")
    else:
        _require_worker(by, request)
        _require_status(
            request,
            (Status.ACCEPTED, Status.ON_SITE, Status.WAITING, Status.DONE),
            _("Photos of the work are taken once the request is accepted."),
            "not_accepted",
        )
    if request.photos.filter(stage=stage).count() >= PHOTOS_PER_STAGE:
        raise ServiceError(
            _("A request has at most %(count)d photos of each kind.") % {"count": PHOTOS_PER_STAGE},
            code="too_many_photos",
            field="photo",
        )
    data, extension, content_type = _check_image(upload)
    photo = RequestPhoto(request=request, stage=stage, content_type=content_type, size=len(data), uploaded_by=by)
    photo.storage_name = f"{_company_prefix()}helpdesk/{request.pk}/{uuid7()}.{extension}"
    # Written before the row: a rollback after this leaves a file no row names, which nobody can fetch
    # (photos are served only through their row); the reverse order could leave a row without its file.
    photo.file.save(photo.storage_name, ContentFile(data), save=False)
    photo.save()
    _event(request, EventKind.PHOTO, actor=by, text=str(photo.get_stage_display()), from_status=request.status)
    return photo


@transaction.atomic
def material_add(*, by: Any, request: Request, description: str, quantity: Any, unit_price: Any) -> MaterialLine:
    """Materials used on a special service, billed with it when it is done."""
    request = _locked(request)
    _require_worker(by, request)
    if request.kind != Kind.SPECIAL_SERVICE:
        raise ServiceError(_("Materials are billed on special services only."), code="not_special_service")
    _require_status(
        request,
        (Status.ACCEPTED, Status.ON_SITE, Status.WAITING),
        _("Materials are added while the work is in progress."),
        "not_in_progress",
    )
    try:
        count = Decimal(str(quantity))
    except (InvalidOperation, ValueError):
        raise ServiceError(_("Give the quantity as a number."), code="quantity_invalid", field="quantity") from None
    if not count.is_finite() or count <= 0 or count > 100000 or count != count.quantize(Decimal("0.01")):
        raise ServiceError(_("The quantity must be more than zero."), code="quantity_invalid", field="quantity")
    price = _money(unit_price, field="unit_price")
    line = MaterialLine.objects.create(
        request=request,
        description=_text(description, field="description", required=True, limit=200),
        quantity=count,
        unit_price=price,
        amount=(count * price).quantize(Decimal("0.01")),
        added_by=by,
    )
    _event(request, EventKind.MATERIAL, actor=by, text=f"{line.description} × {count}", from_status=request.status)
    return line


@transaction.atomic
def price_set(*, by: Any, request: Request, price: Any) -> Request:
    """The price agreed with the owner for a special service (an owner's request comes without one)."""
    request = _locked(request)
    _require_request(by, request, policies.DISPATCH)
    if request.kind != Kind.SPECIAL_SERVICE:
        raise ServiceError(_("Only special services have a price."), code="price_not_allowed", field="price")
    if not request.is_open:
        raise ServiceError(_("This request is finished."), code="request_finished", field="price")
    amount = _money(price, field="price", allow_zero=False)
    before = request.price
    request.price = amount
    _save(request, now=timezone.now())
    _event(request, EventKind.NOTE, actor=by, text=f"{before or '—'} → {amount}", from_status=request.status)
    return request


def service_total(request: Request) -> Decimal:
    """What a special service costs the household: its agreed price and its materials."""
    materials = sum((line.amount for line in request.materials.all()), Decimal("0.00"))
    return (request.price or Decimal("0.00")) + materials


def _bill_once(request: Request) -> ServiceCharge | None:
    """Bill a finished special service to its unit's household account, unless it already was."""
    if request.kind != Kind.SPECIAL_SERVICE or ServiceCharge.objects.filter(request=request).exists():
        return None
    total = service_total(request)
    if total <= 0:
        raise ServiceError(
            _("Set the special service's price before finishing it."), code="price_required", field="price"
        )
    item = fees_selectors.charge_item_in_use(code=SPECIAL_SERVICE_ITEM)
    if item is None:
        raise ServiceError(
            _("The special service charge item is missing or out of use in fees."), code="charge_item_missing"
        )
    account = fees_services.account_for(unit=request.unit)
    # The system bills, not the engineer: the price was agreed when the service was ordered.
    bill = fees_services.one_off_charge(
        by=None,
        account=account,
        charge_item=item,
        quantity=1,
        unit_price=total,
        note=f"{request.number} {request.title}"[:200],
    )
    return ServiceCharge.objects.create(request=request, bill=bill, amount=total)


@transaction.atomic
def request_complete(*, by: Any, request: Request, resolution: str = "") -> Request:
    """The work is done (完成): a special service is billed (once, whatever happens later), the zone
    manager and the owner hear of it, and the return visit is due."""
    request = _locked(request)
    _require_worker(by, request)
    _require_status(
        request, (Status.ACCEPTED, Status.ON_SITE), _("Only accepted work in progress can be done."), "not_in_progress"
    )
    now = timezone.now()
    before = request.status
    request.status, request.completed_at = Status.DONE, now
    request.resolution = _text(resolution, field="resolution", limit=5000) or request.resolution
    request.visit_due_at = now
    _save(request, now=now)
    _event(request, EventKind.COMPLETED, actor=by, text=request.resolution, from_status=before, at=now)
    charge = _bill_once(request)
    if charge is not None:
        _event(request, EventKind.BILLED, actor=by, text=str(charge.amount), from_status=request.status, at=now)
    done = _("Done: %(number)s %(title)s") % _names(request)
    notify(_zone_managers(request), request=request, text=done)
    # The owner who asked hears by e-mail and text message too: the return visit is theirs to answer.
    notify([request.owner_user], request=request, text=done, urgent=True)
    return request


@transaction.atomic
def request_close(*, by: Any, request: Request, resolution: str = "") -> Request:
    """Close a request (a consultation answered, a done request whose owner needs no visit). One that was
    never accepted cannot be closed: somebody must have taken it on."""
    request = _locked(request)
    _require_request(by, request, policies.CLOSE)
    if request.accepted_at is None:
        raise ServiceError(
            _("Nobody has accepted this request yet: it cannot be closed."), code="never_accepted", field="status"
        )
    allowed = (Status.DONE,) if request.kind == Kind.SPECIAL_SERVICE else (Status.ACCEPTED, Status.ON_SITE, Status.DONE)
    _require_status(request, allowed, _("Finish the work before closing the request."), "not_closable")
    now = timezone.now()
    before = request.status
    request.status, request.closed_at = Status.CLOSED, now
    request.completed_at = request.completed_at or now
    request.visit_due_at = None
    request.resolution = _text(resolution, field="resolution", limit=5000) or request.resolution
    _save(request, now=now)
    _event(request, EventKind.CLOSED, actor=by, text=request.resolution, from_status=before, at=now)
    return request


# ------------------------------------------------------------------------------------------ return visits
def _reopen(request: Request, *, by: Any, now: dt.datetime, why: str) -> None:
    before = request.status
    request.status = Status.DISPATCHED if request.department_id else Status.NEW
    request.accepted_at = request.on_site_at = request.completed_at = request.closed_at = None
    request.visit_due_at = None
    request.clock_started_at = now
    request.reopened_count += 1
    request.escalation_level = 0
    _save(request, now=now)
    _event(request, EventKind.REOPENED, actor=by, text=why, from_status=before, at=now)
    heads = (
        staff_selectors.department_heads(project_id=request.project_id, department_id=request.department_id)
        if request.department_id
        else []
    )
    notify(
        [request.assignee, *heads, *_zone_managers(request)],
        request=request,
        text=_("Reopened after the return visit: %(number)s %(title)s") % _names(request),
        urgent=True,
    )


@transaction.atomic
def visit_record(
    *,
    by: Any,
    request: Request,
    reached: bool,
    resolved: bool | None = None,
    satisfaction: int | None = None,
    comment: str = "",
    channel: str = Channel.PHONE,
) -> ReturnVisit:
    """A return visit (回访): resolved closes the request; not resolved reopens it; an owner not reached
    is tried again the next day, up to three times."""
    request = _locked(request)
    owner = is_requester(by, request)
    if owner:
        channel, reached = Channel.PORTAL, True
    else:
        _require_request(by, request, policies.VISIT)
    if request.status != Status.DONE:
        raise ServiceError(_("A return visit is made once the work is done."), code="not_done", field="status")
    if channel not in Channel.values:
        raise ServiceError(_("Choose how the owner was asked."), code="channel_invalid", field="channel")
    if reached:
        if resolved is None:
            raise ServiceError(_("Say whether it was resolved."), code="resolved_required", field="resolved")
        if not isinstance(satisfaction, int) or isinstance(satisfaction, bool) or not 1 <= satisfaction <= 5:
            raise ServiceError(
                _("Satisfaction is a score from 1 to 5."), code="satisfaction_invalid", field="satisfaction"
            )
    else:
        resolved, satisfaction = None, None
    now = timezone.now()
    visit = ReturnVisit.objects.create(
        request=request,
        attempt=request.visits.count() + 1,
        at=now,
        by=by,
        channel=channel,
        reached=reached,
        resolved=resolved,
        satisfaction=satisfaction,
        comment=_text(comment, field="comment"),
        department_id=request.department_id,
        assignee_id=request.assignee_id,
    )
    summary = (
        _("Resolved, satisfaction %(score)d/5") % {"score": satisfaction}
        if resolved
        else _("Not resolved, satisfaction %(score)d/5") % {"score": satisfaction}
        if reached
        else _("Owner not reached (attempt %(attempt)d)") % {"attempt": visit.attempt}
    )
    _event(
        request,
        EventKind.VISITED,
        actor=by,
        text=f"{summary} {visit.comment}".strip(),
        from_status=request.status,
        at=now,
    )
    if resolved:
        before = request.status
        request.status, request.closed_at, request.visit_due_at = Status.CLOSED, now, None
        _save(request, now=now)
        _event(request, EventKind.CLOSED, actor=by, from_status=before, at=now)
    elif reached:
        _reopen(request, by=by, now=now, why=visit.comment or summary)
    elif visit.attempt < MAX_VISIT_ATTEMPTS:
        request.visit_due_at = now + VISIT_RETRY_AFTER
        _save(request, now=now)
    else:
        # Three calls unanswered: the work stands done; the request is closed so the queue stays true.
        before = request.status
        request.status, request.closed_at, request.visit_due_at = Status.CLOSED, now, None
        _save(request, now=now)
        _event(request, EventKind.CLOSED, actor=by, text=_("Owner unreachable"), from_status=before, at=now)
    return visit


# ------------------------------------------------------------------------------------------ escalation
def _recipients(request: Request, level: int) -> list[Any]:
    department_heads = (
        staff_selectors.department_heads(project_id=request.project_id, department_id=request.department_id)
        if request.department_id
        else []
    )
    cs_managers = staff_selectors.role_holders(project_id=request.project_id, role=CS_MANAGER)
    if level == deadlines.LEVEL_ASSIGNEE:
        return [request.assignee] if request.assignee_id else department_heads or cs_managers
    if level == deadlines.LEVEL_DEPARTMENT_HEAD:
        return department_heads or cs_managers
    if level == deadlines.LEVEL_CS_MANAGER:
        return cs_managers
    return staff_selectors.role_holders(project_id=request.project_id, role=PROJECT_MANAGER)


LEVEL_NAMES = {
    deadlines.LEVEL_ASSIGNEE: "assignee",
    deadlines.LEVEL_DEPARTMENT_HEAD: "department head",
    deadlines.LEVEL_CS_MANAGER: "CS manager",
    deadlines.LEVEL_PROJECT_MANAGER: "project manager",
}


def request_escalate(*, request_id: Any, now: dt.datetime | None = None) -> int:
    """Take one overdue request as far up the chain as its time overdue calls for, one level at a time,
    with a notification at each. Returns the levels climbed (0: nothing to do). Safe to run twice."""
    moment = now or timezone.now()
    with transaction.atomic():
        request = Request.objects.select_for_update(skip_locked=True).filter(pk=request_id).first()
        if request is None or request.next_due_at is None or request.status not in OPEN_STATUSES:
            return 0
        target = deadlines.escalation_level(request.next_due_at, moment, request.escalate_every_minutes)
        climbed = 0
        while request.escalation_level < target:
            request.escalation_level += 1
            climbed += 1
            people = _recipients(request, request.escalation_level)
            notify(
                people,
                request=request,
                text=_("Overdue: %(number)s %(title)s (due %(due)s)")
                % {**_names(request), "due": timezone.localtime(request.next_due_at).strftime("%Y-%m-%d %H:%M")},
                urgent=True,
            )
            _event(
                request,
                EventKind.ESCALATED,
                actor=None,
                text=f"{request.escalation_level}: " + ", ".join(str(p) for p in people),
                internal=True,
                from_status=request.status,
                at=moment,
            )
        if climbed:
            Request.objects.filter(pk=request.pk).update(escalation_level=request.escalation_level)
        return climbed


def overdue_escalate(*, now: dt.datetime | None = None) -> int:
    """Every overdue request of the company, each in its own transaction (one slow row holds up no other)."""
    moment = now or timezone.now()
    ids = list(
        Request.objects.filter(next_due_at__lt=moment, status__in=OPEN_STATUSES, escalation_level__lt=4)
        .order_by("next_due_at")
        .values_list("pk", flat=True)
    )
    return sum(request_escalate(request_id=pk, now=moment) for pk in ids)


# ------------------------------------------------------------------------------------------ settings
@transaction.atomic
def deadline_policy_set(
    *,
    by: Any,
    kind: str,
    grade: str,
    respond_minutes: int,
    close_minutes: int,
    attend_minutes: int | None = None,
    escalate_every_minutes: int = 240,
    project: Project | None = None,
) -> DeadlinePolicy:
    """Set the deadlines of a kind and grade: the company's default (no project), or one project's own."""
    require(by, policies.SETTINGS)
    if project is None:
        if not scope_of(by).everything:
            raise PolicyDenied(_("Only company-wide administrators change the company's default deadlines."))
    else:
        _require_place(by, project_id=project.pk, zone_id=None)
    grade = _grade_for(kind, grade)
    for name, value in (("respond_minutes", respond_minutes), ("close_minutes", close_minutes),
                        ("escalate_every_minutes", escalate_every_minutes)):  # fmt: skip
        if not isinstance(value, int) or value <= 0:
            raise ServiceError(_("Give a number of minutes above zero."), code="minutes_invalid", field=name)
    if attend_minutes is not None and (not isinstance(attend_minutes, int) or attend_minutes <= 0):
        raise ServiceError(_("Give a number of minutes above zero."), code="minutes_invalid", field="attend_minutes")
    if close_minutes < respond_minutes or (attend_minutes is not None and attend_minutes > close_minutes):
        raise ServiceError(
            _("Work is accepted before it is attended, and attended before it is done."),
            code="deadline_order",
            field="close_minutes",
        )
    policy, _created = DeadlinePolicy.objects.update_or_create(
        project=project,
        kind=kind,
        grade=grade,
        defaults={
            "respond_minutes": respond_minutes,
            "attend_minutes": attend_minutes,
            "close_minutes": close_minutes,
            "escalate_every_minutes": escalate_every_minutes,
        },
    )
    return policy


def department_modes() -> dict[uuid.UUID, str]:
    """Each department's dispatch mode that is not the default (assign)."""
    return dict(DepartmentDesk.objects.values_list("department_id", "mode"))


@transaction.atomic
def department_mode_set(*, by: Any, department: Any, mode: str) -> DepartmentDesk:
    require(by, policies.SETTINGS)
    if mode not in DispatchMode.values:
        raise ServiceError(_("Choose assign or grab."), code="mode_invalid", field="mode")
    desk, _created = DepartmentDesk.objects.update_or_create(department=department, defaults={"mode": mode})
    return desk


# ------------------------------------------------------------------------------------------ duty log, ratings
@transaction.atomic
def duty_log_write(
    *,
    by: Any,
    project: Project,
    shift_start: dt.datetime,
    shift_end: dt.datetime,
    events: str,
    handover: str = "",
) -> DutyLogEntry:
    """A shift's entry in the duty log (值班记录表), written by the person on duty."""
    require(by, policies.DUTY_LOG)
    _require_place(by, project_id=project.pk, zone_id=None)
    if shift_end <= shift_start:
        raise ServiceError(_("A shift ends after it starts."), code="shift_order", field="shift_end")
    if shift_start > timezone.now():
        raise ServiceError(_("A shift is logged once it has started."), code="shift_in_future", field="shift_start")
    return DutyLogEntry.objects.create(
        project=project,
        shift_start=shift_start,
        shift_end=shift_end,
        on_duty=by,
        events=_text(events, field="events", required=True, limit=10000),
        handover=_text(handover, field="handover", limit=5000),
    )


@transaction.atomic
def duty_log_check(*, by: Any, entry: DutyLogEntry) -> DutyLogEntry:
    """The CS manager has read the entry (their daily check, DOMAIN.md §4)."""
    require(by, policies.DUTY_CHECK)
    _require_place(by, project_id=entry.project_id, zone_id=None)
    entry = DutyLogEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.checked_at is None:
        entry.checked_by, entry.checked_at = by, timezone.now()
        entry.save(update_fields=["checked_by", "checked_at", "updated_at"])
    return entry


CUSTOMER_SERVICE_DEPARTMENT = "customer_service"


@transaction.atomic
def staff_rate(
    *, by: Any, staff: Any, score: int, comment: str = "", month: dt.date | None = None, request: Request | None = None
) -> StaffRating:
    """A zone manager rates a staff member of another department who works in their zones' project."""
    require(by, policies.RATE_STAFF)
    scope = scope_of(by)
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise ServiceError(_("A rating is a score from 1 to 5."), code="score_invalid", field="score")
    member = staff_selectors.staff_member_of(staff)
    if member is None or member.project_id is None or not scope.sees_project(member.project_id):
        raise NotFound(_("No such staff member."))
    if member.department is None or member.department.code == CUSTOMER_SERVICE_DEPARTMENT or staff.pk == by.pk:
        raise ServiceError(
            _("Zone managers rate the staff of other departments."), code="not_other_department", field="staff"
        )
    if request is not None:
        _require_place(by, project_id=request.project_id, zone_id=request.zone_id)
    first = (month or timezone.localdate()).replace(day=1)
    try:
        with transaction.atomic():
            return StaffRating.objects.create(
                rater=by,
                staff=staff,
                project_id=member.project_id,
                month=first,
                score=score,
                comment=_text(comment, field="comment"),
                request=request,
            )
    except IntegrityError:
        raise ServiceError(
            _("You already rated this person this month."), code="already_rated", field="staff"
        ) from None
