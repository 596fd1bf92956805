"""Reads of the helpdesk, with their joins done and scoped to what the viewer may see.

Staff see the requests of their scope (a project role its project, a zone manager their zones); an owner
sees the requests they raised and those about a unit of their household, and nothing else. A request the
viewer may not see is "not found", never "forbidden": its existence is not theirs to learn.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from modules.households import selectors as households_selectors
from modules.staff import selectors as staff_selectors
from wuye.core.errors import NotFound
from wuye.core.ids import as_uuid
from wuye.core.policies import require
from wuye.core.scope import scope_of

from . import policies
from .models import (
    INTERNAL_EVENTS,
    OPEN_STATUSES,
    DeadlinePolicy,
    DutyLogEntry,
    Notification,
    ReceptionEntry,
    Request,
    RequestEvent,
    RequestPhoto,
    ReturnVisit,
    StaffRating,
    Status,
)
from .services import is_requester

QUEUES = ("all", "mine", "department", "zone", "overdue", "visits")


def _with_places(requests: QuerySet[Request]) -> QuerySet[Request]:
    return requests.select_related("project", "zone", "building", "unit", "department", "assignee")


def _staff_requests(viewer: Any) -> QuerySet[Request]:
    require(viewer, policies.VIEW)
    return scope_of(viewer).filter(Request.objects.all(), project="project_id", zone="zone_id")


def request_list(
    *,
    viewer: Any,
    queue: str = "all",
    status: Sequence[str] = (),
    kind: str = "",
    project: Any = None,
    search: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[Request]:
    """A staff queue: everything in scope, mine, my department's, my zones', the overdue ones (most
    overdue first), or the return visits due. Open requests only for the work queues."""
    requests = _staff_requests(viewer)
    moment = now or timezone.now()
    if queue == "mine":
        requests = requests.filter(assignee=viewer, status__in=OPEN_STATUSES)
    elif queue == "department":
        department_id = staff_selectors.department_of(user_id=viewer.pk)
        requests = (
            requests.filter(department_id=department_id, status__in=OPEN_STATUSES)
            if department_id is not None
            else requests.none()
        )
    elif queue == "zone":
        requests = requests.filter(zone_id__in=scope_of(viewer).zone_ids)
    elif queue == "overdue":
        requests = requests.filter(next_due_at__lt=moment, status__in=OPEN_STATUSES)
    elif queue == "visits":
        requests = requests.filter(status=Status.DONE, visit_due_at__lte=moment)
    if status:
        requests = requests.filter(status__in=list(status))
    if kind:
        requests = requests.filter(kind=kind)
    if project:
        requests = requests.filter(project_id=project)
    if search.strip():
        term = search.strip()
        requests = requests.filter(Q(number__startswith=term) | Q(title__icontains=term) | Q(unit__number=term))
    order = ("next_due_at", "id") if queue == "overdue" else ("visit_due_at", "id") if queue == "visits" else (
        "-raised_at", "-id")  # fmt: skip
    return _with_places(requests).order_by(*order)


def _events(internal: bool) -> Prefetch[Any]:
    events = RequestEvent.objects.select_related("actor").order_by("at", "id")
    if not internal:
        events = events.exclude(kind__in=INTERNAL_EVENTS).exclude(internal=True)
    return Prefetch("events", queryset=events)


def _detailed(requests: QuerySet[Request], *, staff: bool) -> QuerySet[Request]:
    return (
        _with_places(requests)
        .select_related("charge")
        .prefetch_related(
            _events(staff),
            Prefetch("photos", queryset=RequestPhoto.objects.order_by("uploaded_at", "id")),
            "materials",
            Prefetch("visits", queryset=ReturnVisit.objects.select_related("by").order_by("attempt")),
        )
    )


def request_get(*, viewer: Any, request_id: Any) -> Request:
    """A request with its timeline, photos, materials and visits, for staff in scope."""
    key = as_uuid(request_id)
    found = _detailed(_staff_requests(viewer), staff=True).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("No such request."))
    return found


def owner_request_list(*, user: Any) -> QuerySet[Request]:
    """An owner's requests: raised by them, or about a unit of their household."""
    from .services import owner_unit_ids

    units = owner_unit_ids(user)
    return _with_places(Request.objects.filter(Q(owner_user=user) | Q(unit_id__in=units))).order_by("-raised_at", "-id")


def owner_request_get(*, user: Any, request_id: Any) -> Request:
    key = as_uuid(request_id)
    found = _detailed(owner_request_list(user=user), staff=False).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("No such request."))
    return found


def owner_units(*, user: Any) -> list[Any]:
    """The units an owner may raise requests about: those of their household today."""
    home = households_selectors.owner_home(user=user)
    if home is None:
        return []
    units = {o.unit_id: o.unit for o in home["ownerships"]}
    units.update({o.unit_id: o.unit for o in home["occupancies"]})
    return sorted(units.values(), key=lambda unit: (unit.building.name, unit.number))


def photo_get(*, viewer: Any, photo_id: Any) -> RequestPhoto:
    """A photo, for someone who may see its request: staff in scope, or the owner's household."""
    key = as_uuid(photo_id)
    photo = RequestPhoto.objects.select_related("request").filter(pk=key).first() if key else None
    if photo is None:
        raise NotFound(_("No such photo."))
    request = photo.request
    if is_requester(viewer, request):
        return photo
    if (
        getattr(viewer, "kind", "") == "staff"
        and policies.can(viewer, policies.VIEW)
        and scope_of(viewer).covers(project_id=request.project_id, zone_id=request.zone_id)
    ):
        return photo
    raise NotFound(_("No such photo."))


# ------------------------------------------------------------------------------------------ board, daily check
@dataclass
class Board:
    columns: list[tuple[str, str, int, list[Request]]]  # (status, label, count, first requests)


BOARD_STATUSES = (Status.NEW, Status.DISPATCHED, Status.ACCEPTED, Status.ON_SITE, Status.WAITING, Status.DONE)


def board(*, viewer: Any, project: Any = None, per_column: int = 10) -> Board:
    """The open work by status (a board), the oldest first in each column. One query for the counts and
    one per column."""
    requests = _staff_requests(viewer)
    if project:
        requests = requests.filter(project_id=project)
    counts = dict(
        requests.filter(status__in=BOARD_STATUSES)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    columns = []
    for status in BOARD_STATUSES:
        first = list(_with_places(requests.filter(status=status)).order_by("raised_at", "id")[:per_column])
        columns.append((str(status), str(Status(status).label), counts.get(status, 0), first))
    return Board(columns=columns)


@dataclass
class DailyCheck:
    duty_log: list[DutyLogEntry]
    open_requests: list[Request]
    overdue: int
    open_total: int


def daily_check(*, viewer: Any, project: Any = None, limit: int = 60, now: dt.datetime | None = None) -> DailyCheck:
    """The CS manager's daily check (DOMAIN.md §4): the last day's duty log, and the open requests with
    their progress, overdue first (most overdue first), then by deadline."""
    require(viewer, policies.DUTY_CHECK)
    moment = now or timezone.now()
    entries = duty_log_list(viewer=viewer, project=project).filter(shift_end__gte=moment - dt.timedelta(days=1))
    open_requests = _staff_requests(viewer).filter(status__in=OPEN_STATUSES)
    if project:
        open_requests = open_requests.filter(project_id=project)
    totals = open_requests.aggregate(total=Count("id"), overdue=Count("id", filter=Q(next_due_at__lt=moment)))
    ordered = _with_places(open_requests).order_by(F("next_due_at").asc(nulls_last=True), "raised_at")
    return DailyCheck(
        duty_log=list(entries[:50]),
        open_requests=list(ordered[:limit]),
        overdue=totals["overdue"],
        open_total=totals["total"],
    )


# ------------------------------------------------------------------------------------------ logs, settings
def reception_list(*, viewer: Any, project: Any = None, day: dt.date | None = None) -> QuerySet[ReceptionEntry]:
    require(viewer, policies.RAISE)
    entries = scope_of(viewer).filter(ReceptionEntry.objects.all(), project="project_id", zone="zone_id")
    if project:
        entries = entries.filter(project_id=project)
    if day:
        entries = entries.filter(received_at__date=day)
    return entries.select_related("project", "unit", "person", "logged_by").order_by("-received_at", "-id")


def duty_log_list(*, viewer: Any, project: Any = None) -> QuerySet[DutyLogEntry]:
    if not (policies.can(viewer, policies.DUTY_LOG) or policies.can(viewer, policies.DUTY_CHECK)):
        require(viewer, policies.DUTY_LOG)
    entries = scope_of(viewer).filter(DutyLogEntry.objects.all(), project="project_id")
    if project:
        entries = entries.filter(project_id=project)
    return entries.select_related("project", "on_duty", "checked_by").order_by("-shift_start", "-id")


def duty_log_get(*, viewer: Any, entry_id: Any) -> DutyLogEntry:
    key = as_uuid(entry_id)
    found = duty_log_list(viewer=viewer).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("No such duty log entry."))
    return found


def deadline_policies(*, viewer: Any, project: Any = None) -> QuerySet[DeadlinePolicy]:
    """The company's defaults and the projects' own deadlines the viewer may see."""
    require(viewer, policies.VIEW)
    scope = scope_of(viewer)
    rows = DeadlinePolicy.objects.select_related("project")
    if not scope.everything:
        rows = rows.filter(Q(project__isnull=True) | Q(project_id__in=scope.project_ids | scope.zone_project_ids))
    if project:
        rows = rows.filter(Q(project_id=project) | Q(project__isnull=True))
    return rows.order_by(F("project_id").asc(nulls_first=True), "kind", "grade")


def notification_list(*, user: Any, unread_only: bool = False) -> QuerySet[Notification]:
    notices = Notification.objects.filter(user=user).select_related("request")
    return notices.filter(read_at__isnull=True) if unread_only else notices


def rating_list(*, viewer: Any, month: dt.date | None = None) -> QuerySet[StaffRating]:
    """Ratings of the viewer's scope: a zone manager sees their own; managers their project's."""
    require(viewer, policies.VIEW_RATINGS)
    ratings = StaffRating.objects.select_related("rater", "staff", "project")
    scope = scope_of(viewer)
    if not scope.everything:
        ratings = ratings.filter(Q(project_id__in=scope.project_ids) | Q(rater=viewer))
    if month:
        ratings = ratings.filter(month=month.replace(day=1))
    return ratings.order_by("-month", "staff__name")


# ------------------------------------------------------------------------------------------ satisfaction
@dataclass
class SatisfactionRow:
    key: uuid.UUID | None
    name: str
    visits: int
    average: float | None
    resolved_rate: float | None  # percentage of the reached visits that found the request resolved


def satisfaction_report(
    *, viewer: Any, since: dt.date, until: dt.date, project: Any = None
) -> dict[str, list[SatisfactionRow]]:
    """Satisfaction of the owners reached on return visits in [since, until], per department and per
    person who did the work: two grouped queries."""
    require(viewer, policies.REPORT)
    visits = scope_of(viewer).filter(
        ReturnVisit.objects.filter(reached=True, at__date__gte=since, at__date__lte=until),
        project="request__project_id",
        zone="request__zone_id",
    )
    if project:
        visits = visits.filter(request__project_id=project)

    def rows(key: str, name: str) -> list[SatisfactionRow]:
        grouped = (
            visits.values(key, name)
            .annotate(n=Count("id"), average=Avg("satisfaction"), resolved=Count("id", filter=Q(resolved=True)))
            .order_by(name)
        )
        return [
            SatisfactionRow(
                key=row[key],
                name=row[name] or "—",
                visits=row["n"],
                average=round(float(row["average"]), 2) if row["average"] is not None else None,
                resolved_rate=round(100.0 * row["resolved"] / row["n"], 1) if row["n"] else None,
            )
            for row in grouped
        ]

    return {"departments": rows("department_id", "department__name"), "people": rows("assignee_id", "assignee__name")}
