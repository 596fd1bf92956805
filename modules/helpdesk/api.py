"""REST API of the helpdesk (DOMAIN.md §2, §4): requests and their queues, each step of the work, photos,
materials, return visits, the reception log, the duty log, deadlines, dispatch modes, zone managers'
ratings, the satisfaction report, notifications; and for owners their own requests (/my/requests/).

Every id named in a request body is looked up in the user's scope: an id the user may not see is "not
found", as in a URL. Departments are named by their code ("engineering"). Times are ISO 8601.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request as ApiRequest
from rest_framework.response import Response
from rest_framework.views import APIView

from modules.estate import selectors as estate_selectors
from modules.staff import selectors as staff_selectors
from wuye.accounts.models import User
from wuye.accounts.policies import acting_user
from wuye.core.errors import NotFound, PolicyDenied
from wuye.core.ids import as_uuid
from wuye.core.pagination import PageNumberPagination

from . import selectors, services
from .models import (
    Channel,
    DeadlinePolicy,
    DispatchMode,
    DutyLogEntry,
    Grade,
    Kind,
    MaterialLine,
    Notification,
    PhotoStage,
    ReceptionEntry,
    Request,
    RequestEvent,
    RequestPhoto,
    ReturnVisit,
    StaffRating,
    Status,
)

TAGS = ["helpdesk"]


# ------------------------------------------------------------------------------------------ helpers
def _input(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    found = serializer_class(data=data)
    found.is_valid(raise_exception=True)
    return dict(found.validated_data)


def _query(serializer_class: type[serializers.Serializer], request: ApiRequest) -> dict[str, Any]:
    return _input(serializer_class, {key: value for key, value in request.query_params.items() if value != ""})


def _page(view: APIView, request: ApiRequest, rows: Any, output: type[serializers.Serializer]) -> Response:
    paginator = PageNumberPagination()
    page: Any = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(output(page, many=True).data)


def _staff(request: ApiRequest) -> User:
    user = acting_user(request)
    if user.kind != "staff":
        raise PolicyDenied(_("This is for the company's staff."))
    return user


def _owner(request: ApiRequest) -> User:
    user = acting_user(request)
    if user.kind != "owner":
        raise NotFound(_("No such request."))
    return user


def _department(code: str) -> Any:
    found = staff_selectors.department_by_code(code)
    if found is None:
        raise NotFound(_("No such department."))
    return found


def _staff_user(user_id: Any) -> User:
    key = as_uuid(user_id)
    found = User.objects.filter(pk=key, kind="staff", is_active=True).first() if key else None
    if found is None:
        raise NotFound(_("No such staff member."))
    return found


# ------------------------------------------------------------------------------------------ serializers
class RequestOutput(serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)
    zone_name = serializers.CharField(source="zone.name", read_only=True, default=None)
    building_name = serializers.CharField(source="building.name", read_only=True, default=None)
    unit_number = serializers.CharField(source="unit.number", read_only=True, default=None)
    department = serializers.CharField(source="department.code", read_only=True, default=None)
    department_name = serializers.CharField(source="department.name", read_only=True, default=None)
    assignee_name = serializers.CharField(source="assignee.name", read_only=True, default=None)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Request
        fields = [
            "id", "number", "kind", "grade", "channel", "status", "title", "project", "project_name", "zone",
            "zone_name", "building_name", "unit", "unit_number", "place", "department", "department_name",
            "assignee", "assignee_name", "raised_at", "accepted_at", "on_site_at", "completed_at", "closed_at",
            "respond_by", "attend_by", "close_by", "next_due_at", "overdue", "escalation_level", "reopened_count",
            "visit_due_at",
        ]  # fmt: skip

    def get_overdue(self, request: Request) -> bool:
        return request.is_overdue(self.context.get("now"))


class EventOutput(serializers.ModelSerializer):
    actor_name = serializers.CharField(source="actor.name", read_only=True, default=None)

    class Meta:
        model = RequestEvent
        fields = ["at", "kind", "from_status", "to_status", "text", "internal", "actor_name"]


class PhotoOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = RequestPhoto
        fields = ["id", "stage", "content_type", "size", "uploaded_at", "url"]

    def get_url(self, photo: RequestPhoto) -> str:
        return f"/api/v1/helpdesk/photos/{photo.pk}/"


class MaterialOutput(serializers.ModelSerializer):
    class Meta:
        model = MaterialLine
        fields = ["id", "description", "quantity", "unit_price", "amount", "added_at"]


class VisitOutput(serializers.ModelSerializer):
    class Meta:
        model = ReturnVisit
        fields = ["attempt", "at", "channel", "reached", "resolved", "satisfaction", "comment"]


class RequestDetailOutput(RequestOutput):
    events = EventOutput(many=True, read_only=True)
    photos = PhotoOutput(many=True, read_only=True)
    materials = MaterialOutput(many=True, read_only=True)
    visits = VisitOutput(many=True, read_only=True)
    billed_amount = serializers.SerializerMethodField()

    class Meta(RequestOutput.Meta):
        fields = [*RequestOutput.Meta.fields, "description", "contact_name", "contact_phone", "price",
                  "resolution", "events", "photos", "materials", "visits", "billed_amount"]  # fmt: skip

    def get_billed_amount(self, request: Request) -> str | None:
        charge = getattr(request, "charge", None)
        return str(charge.amount) if charge is not None else None


class RequestQuery(serializers.Serializer):
    queue = serializers.ChoiceField(choices=selectors.QUEUES, required=False, default="all")
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    project = serializers.UUIDField(required=False)
    search = serializers.CharField(required=False, default="", max_length=100)


class RequestInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Kind.choices)
    grade = serializers.ChoiceField(choices=Grade.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, default=Channel.PHONE)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, default="", allow_blank=True, max_length=5000)
    project = serializers.UUIDField(required=False, help_text="For a common area; a unit names its project")
    zone = serializers.UUIDField(required=False)
    unit = serializers.UUIDField(required=False)
    place = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)
    contact_name = serializers.CharField(required=False, default="", allow_blank=True, max_length=100)
    contact_phone = serializers.CharField(required=False, default="", allow_blank=True, max_length=32)
    reception = serializers.UUIDField(required=False, help_text="The reception log entry it came from")
    price = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)
    department = serializers.CharField(required=False, help_text="Dispatch at once to this department (code)")
    assignee = serializers.UUIDField(required=False)


class DispatchInput(serializers.Serializer):
    department = serializers.CharField(help_text="Department code, like engineering")
    assignee = serializers.UUIDField(required=False, allow_null=True)
    done_by = serializers.DateTimeField(required=False, help_text="A deadline of its own, ahead of now")


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class RequestTransferInput(serializers.Serializer):
    department = serializers.CharField(help_text="Department code, like engineering")
    assignee = serializers.UUIDField(required=False, allow_null=True)
    reason = serializers.CharField(max_length=200)


class NoteInput(serializers.Serializer):
    text = serializers.CharField(max_length=2000)
    internal = serializers.BooleanField(required=False, default=False)


class ResolutionInput(serializers.Serializer):
    resolution = serializers.CharField(required=False, default="", allow_blank=True, max_length=5000)


class MaterialInput(serializers.Serializer):
    description = serializers.CharField(max_length=200)
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)


class PhotoInput(serializers.Serializer):
    stage = serializers.ChoiceField(choices=[PhotoStage.BEFORE, PhotoStage.AFTER])
    photo = serializers.FileField(help_text="JPEG, PNG, WebP or GIF; at most 10 MB; six a stage")


class VisitInput(serializers.Serializer):
    reached = serializers.BooleanField()
    resolved = serializers.BooleanField(required=False, allow_null=True, default=None)
    satisfaction = serializers.IntegerField(required=False, allow_null=True, default=None)
    comment = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, default=Channel.PHONE)


class OwnerVisitInput(serializers.Serializer):
    resolved = serializers.BooleanField()
    satisfaction = serializers.IntegerField()
    comment = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


def _detail(request: Request) -> dict[str, Any]:
    return dict(RequestDetailOutput(request, context={"now": timezone.now()}).data)


# ------------------------------------------------------------------------------------------ requests
class RequestListApi(APIView):
    @extend_schema(parameters=[RequestQuery], responses=RequestOutput(many=True), tags=TAGS,
                   summary="A queue: all in scope, mine, my department's, my zones', overdue, visits due")  # fmt: skip
    def get(self, request: ApiRequest) -> Response:
        query = _query(RequestQuery, request)
        rows = selectors.request_list(
            viewer=_staff(request),
            queue=query["queue"],
            status=[query["status"]] if query.get("status") else [],
            kind=query.get("kind", ""),
            project=query.get("project"),
            search=query["search"],
        )
        return _page(self, request, rows, RequestOutput)

    @extend_schema(request=RequestInput, responses={201: RequestDetailOutput}, tags=TAGS,
                   summary="Raise a request (at the desk, on the phone, on a patrol)")  # fmt: skip
    def post(self, request: ApiRequest) -> Response:
        viewer = _staff(request)
        data = _input(RequestInput, request.data)
        unit = estate_selectors.unit_get(viewer=viewer, unit_id=data["unit"]) if data.get("unit") else None
        project = (
            estate_selectors.project_get(viewer=viewer, project_id=data["project"]) if data.get("project") else None
        )
        zone = estate_selectors.zone_get(viewer=viewer, zone_id=data["zone"]) if data.get("zone") else None
        reception = None
        if data.get("reception"):
            reception = selectors.reception_list(viewer=viewer).filter(pk=data["reception"]).first()
            if reception is None:
                raise NotFound(_("No such reception log entry."))
        made = services.request_raise(
            by=viewer,
            kind=data["kind"],
            grade=data.get("grade"),
            channel=data["channel"],
            title=data["title"],
            description=data["description"],
            project=project,
            unit=unit,
            zone=zone,
            place=data["place"],
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
            reception=reception,
            price=data.get("price"),
            department=_department(data["department"]) if data.get("department") else None,
            assignee=_staff_user(data["assignee"]) if data.get("assignee") else None,
        )
        return Response(_detail(selectors.request_get(viewer=viewer, request_id=made.pk)), status=201)


class RequestDetailApi(APIView):
    @extend_schema(responses=RequestDetailOutput, tags=TAGS, summary="A request with its timeline and photos")
    def get(self, request: ApiRequest, request_id: str) -> Response:
        viewer = _staff(request)
        return Response(_detail(selectors.request_get(viewer=viewer, request_id=request_id)))


def _action(
    summary: str, call: Callable[[User, Request, dict[str, Any]], Any], input_class: type[serializers.Serializer] | None
) -> type[APIView]:
    """A step of the work on one request: look it up in scope, call the service, answer the request."""

    class ActionApi(APIView):
        parser_classes = [JSONParser, FormParser, MultiPartParser]

        @extend_schema(request=input_class, responses=RequestDetailOutput, tags=TAGS, summary=summary)
        def post(self, request: ApiRequest, request_id: str) -> Response:
            viewer = _staff(request)
            found = selectors.request_get(viewer=viewer, request_id=request_id)
            data = _input(input_class, request.data) if input_class is not None else {}
            call(viewer, found, data)
            return Response(_detail(selectors.request_get(viewer=viewer, request_id=request_id)))

    ActionApi.__name__ = ActionApi.__qualname__ = "".join(part.title() for part in summary.split()[:3]) + "Api"
    return ActionApi


def _dispatch(viewer: User, found: Request, data: dict[str, Any]) -> Any:
    return services.request_dispatch(
        by=viewer,
        request=found,
        department=_department(data["department"]),
        assignee=_staff_user(data["assignee"]) if data.get("assignee") else None,
        done_by=data.get("done_by"),
    )


def _photo(viewer: User, found: Request, data: dict[str, Any]) -> Any:
    return services.photo_add(by=viewer, request=found, stage=data["stage"], upload=data["photo"])


def _transfer(viewer: User, found: Request, data: dict[str, Any]) -> Any:
    return services.request_transfer(
        by=viewer,
        request=found,
        department=_department(data["department"]),
        assignee=_staff_user(data["assignee"]) if data.get("assignee") else None,
        reason=data["reason"],
    )


RequestDispatchApi = _action("Dispatch to a department and person", _dispatch, DispatchInput)
RequestTransferApi = _action("Transfer accepted work to another department or person", _transfer, RequestTransferInput)
RequestWithdrawApi = _action(
    "Withdraw a request nobody accepted (raised by mistake)",
    lambda u, r, d: services.request_withdraw(by=u, request=r, reason=d["reason"]),
    ReasonInput,
)
RequestTakeApi = _action("Take from the department queue", lambda u, r, d: services.request_take(by=u, request=r), None)
RequestAcceptApi = _action("Accept an assigned request", lambda u, r, d: services.request_accept(by=u, request=r), None)
RequestOnSiteApi = _action("Arrive on site", lambda u, r, d: services.request_on_site(by=u, request=r), None)
RequestWaitApi = _action(
    "Wait for the owner (the clock stops)",
    lambda u, r, d: services.request_wait(by=u, request=r, reason=d["reason"]),
    ReasonInput,
)
RequestResumeApi = _action("Resume after waiting", lambda u, r, d: services.request_resume(by=u, request=r), None)
RequestNoteApi = _action(
    "Add a note",
    lambda u, r, d: services.request_note(by=u, request=r, text=d["text"], internal=d["internal"]),
    NoteInput,
)
RequestPhotoApi = _action("Add a photo before or after the work", _photo, PhotoInput)
RequestMaterialApi = _action(
    "Add materials to a special service",
    lambda u, r, d: services.material_add(
        by=u, request=r, description=d["description"], quantity=d["quantity"], unit_price=d["unit_price"]
    ),
    MaterialInput,
)


class PriceInput(serializers.Serializer):
    price = serializers.DecimalField(max_digits=12, decimal_places=2)


RequestPriceApi = _action(
    "Set a special service's price",
    lambda u, r, d: services.price_set(by=u, request=r, price=d["price"]),
    PriceInput,
)
RequestCompleteApi = _action(
    "Finish the work (bills a special service once)",
    lambda u, r, d: services.request_complete(by=u, request=r, resolution=d["resolution"]),
    ResolutionInput,
)
RequestCloseApi = _action(
    "Close an accepted request",
    lambda u, r, d: services.request_close(by=u, request=r, resolution=d["resolution"]),
    ResolutionInput,
)
RequestVisitApi = _action(
    "Record a return visit",
    lambda u, r, d: services.visit_record(
        by=u,
        request=r,
        reached=d["reached"],
        resolved=d["resolved"],
        satisfaction=d["satisfaction"],
        comment=d["comment"],
        channel=d["channel"],
    ),
    VisitInput,
)


class BoardColumnOutput(serializers.Serializer):
    status = serializers.CharField()
    title = serializers.CharField(help_text="The status in the user's language")
    count = serializers.IntegerField()
    requests = RequestOutput(many=True)


class BoardApi(APIView):
    @extend_schema(responses=BoardColumnOutput(many=True), tags=TAGS, summary="Open work by status")
    def get(self, request: ApiRequest) -> Response:
        found = selectors.board(viewer=_staff(request), project=request.query_params.get("project") or None)
        columns = [{"status": s, "title": label, "count": n, "requests": rows} for s, label, n, rows in found.columns]
        return Response(BoardColumnOutput(columns, many=True, context={"now": timezone.now()}).data)


# ------------------------------------------------------------------------------------------ photos
def photo_response(photo: RequestPhoto) -> FileResponse:
    """The photo's bytes, private to whoever asked: no shared cache keeps them."""
    response = FileResponse(photo.file.open("rb"), content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


class PhotoApi(APIView):
    @extend_schema(responses={(200, "image/*"): OpenApiResponse(description="The photo")}, tags=TAGS,
                   summary="A photo, for staff in scope and the owner's household")  # fmt: skip
    def get(self, request: ApiRequest, photo_id: str) -> Any:
        return photo_response(selectors.photo_get(viewer=acting_user(request), photo_id=photo_id))


# ------------------------------------------------------------------------------------------ reception, duty log
class ReceptionOutput(serializers.ModelSerializer):
    logged_by_name = serializers.CharField(source="logged_by.name", read_only=True)

    class Meta:
        model = ReceptionEntry
        fields = ["id", "project", "unit", "person", "visitor_name", "phone", "channel", "topic", "notes",
                  "received_at", "logged_by_name"]  # fmt: skip


class ReceptionInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    topic = serializers.CharField(max_length=200)
    project = serializers.UUIDField(required=False)
    unit = serializers.UUIDField(required=False)
    visitor_name = serializers.CharField(required=False, default="", allow_blank=True, max_length=100)
    phone = serializers.CharField(required=False, default="", allow_blank=True, max_length=32)
    notes = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


class ReceptionApi(APIView):
    @extend_schema(responses=ReceptionOutput(many=True), tags=TAGS, summary="The reception log (业户接待)")
    def get(self, request: ApiRequest) -> Response:
        return _page(self, request, selectors.reception_list(viewer=_staff(request)), ReceptionOutput)

    @extend_schema(request=ReceptionInput, responses={201: ReceptionOutput}, tags=TAGS, summary="Log a contact")
    def post(self, request: ApiRequest) -> Response:
        viewer = _staff(request)
        data = _input(ReceptionInput, request.data)
        entry = services.reception_log(
            by=viewer,
            channel=data["channel"],
            topic=data["topic"],
            project=estate_selectors.project_get(viewer=viewer, project_id=data["project"])
            if data.get("project")
            else None,
            unit=estate_selectors.unit_get(viewer=viewer, unit_id=data["unit"]) if data.get("unit") else None,
            visitor_name=data["visitor_name"],
            phone=data["phone"],
            notes=data["notes"],
        )
        return Response(ReceptionOutput(entry).data, status=201)


class DutyLogOutput(serializers.ModelSerializer):
    on_duty_name = serializers.CharField(source="on_duty.name", read_only=True)

    class Meta:
        model = DutyLogEntry
        fields = ["id", "project", "shift_start", "shift_end", "on_duty_name", "events", "handover", "checked_at"]


class DutyLogInput(serializers.Serializer):
    project = serializers.UUIDField()
    shift_start = serializers.DateTimeField()
    shift_end = serializers.DateTimeField()
    events = serializers.CharField(max_length=10000)
    handover = serializers.CharField(required=False, default="", allow_blank=True, max_length=5000)


class DutyLogApi(APIView):
    @extend_schema(responses=DutyLogOutput(many=True), tags=TAGS, summary="The duty log (值班记录表)")
    def get(self, request: ApiRequest) -> Response:
        return _page(self, request, selectors.duty_log_list(viewer=_staff(request)), DutyLogOutput)

    @extend_schema(request=DutyLogInput, responses={201: DutyLogOutput}, tags=TAGS, summary="Write a shift's entry")
    def post(self, request: ApiRequest) -> Response:
        viewer = _staff(request)
        data = _input(DutyLogInput, request.data)
        entry = services.duty_log_write(
            by=viewer,
            project=estate_selectors.project_get(viewer=viewer, project_id=data["project"]),
            shift_start=data["shift_start"],
            shift_end=data["shift_end"],
            events=data["events"],
            handover=data["handover"],
        )
        return Response(DutyLogOutput(entry).data, status=201)


class DutyLogCheckApi(APIView):
    @extend_schema(request=None, responses=DutyLogOutput, tags=TAGS, summary="Mark an entry read (daily check)")
    def post(self, request: ApiRequest, entry_id: str) -> Response:
        viewer = _staff(request)
        entry = services.duty_log_check(by=viewer, entry=selectors.duty_log_get(viewer=viewer, entry_id=entry_id))
        return Response(DutyLogOutput(entry).data)


class DailyCheckOutput(serializers.Serializer):
    open_total = serializers.IntegerField()
    overdue = serializers.IntegerField()
    duty_log = DutyLogOutput(many=True)
    open_requests = RequestOutput(many=True)


class DailyCheckApi(APIView):
    @extend_schema(responses=DailyCheckOutput, tags=TAGS,
                   summary="The CS manager's daily check: duty log and open requests, overdue first")  # fmt: skip
    def get(self, request: ApiRequest) -> Response:
        found = selectors.daily_check(viewer=_staff(request), project=request.query_params.get("project") or None)
        return Response(DailyCheckOutput(found, context={"now": timezone.now()}).data)


# ------------------------------------------------------------------------------------------ settings, ratings, report
class DeadlineOutput(serializers.ModelSerializer):
    class Meta:
        model = DeadlinePolicy
        fields = ["id", "project", "kind", "grade", "respond_minutes", "attend_minutes", "close_minutes",
                  "escalate_every_minutes"]  # fmt: skip


class DeadlineInput(serializers.Serializer):
    project = serializers.UUIDField(required=False, allow_null=True, help_text="None: the company's default")
    kind = serializers.ChoiceField(choices=Kind.choices)
    grade = serializers.ChoiceField(choices=Grade.choices)
    respond_minutes = serializers.IntegerField(min_value=1)
    attend_minutes = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    close_minutes = serializers.IntegerField(min_value=1)
    escalate_every_minutes = serializers.IntegerField(min_value=1, required=False, default=240)


class DeadlineApi(APIView):
    @extend_schema(responses=DeadlineOutput(many=True), tags=TAGS, summary="Deadlines by kind and grade")
    def get(self, request: ApiRequest) -> Response:
        rows = selectors.deadline_policies(viewer=_staff(request))
        return Response(DeadlineOutput(rows, many=True).data)

    @extend_schema(request=DeadlineInput, responses=DeadlineOutput, tags=TAGS, summary="Set a kind's deadlines")
    def put(self, request: ApiRequest) -> Response:
        viewer = _staff(request)
        data = _input(DeadlineInput, request.data)
        project = data.pop("project", None)
        policy = services.deadline_policy_set(
            by=viewer,
            project=estate_selectors.project_get(viewer=viewer, project_id=project) if project else None,
            **data,
        )
        return Response(DeadlineOutput(policy).data)


class DispatchModeInput(serializers.Serializer):
    department = serializers.CharField()
    mode = serializers.ChoiceField(choices=DispatchMode.choices)


class DispatchModeApi(APIView):
    @extend_schema(request=DispatchModeInput, responses=DispatchModeInput, tags=TAGS,
                   summary="How a department takes requests: assign or grab")  # fmt: skip
    def put(self, request: ApiRequest) -> Response:
        data = _input(DispatchModeInput, request.data)
        desk = services.department_mode_set(
            by=_staff(request), department=_department(data["department"]), mode=data["mode"]
        )
        return Response({"department": data["department"], "mode": desk.mode})


class RatingOutput(serializers.ModelSerializer):
    staff_name = serializers.CharField(source="staff.name", read_only=True)
    rater_name = serializers.CharField(source="rater.name", read_only=True)

    class Meta:
        model = StaffRating
        fields = ["id", "staff", "staff_name", "rater_name", "project", "month", "score", "comment", "request"]


class RatingInput(serializers.Serializer):
    staff = serializers.UUIDField()
    score = serializers.IntegerField()
    comment = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
    request = serializers.UUIDField(required=False)


class RatingApi(APIView):
    @extend_schema(responses=RatingOutput(many=True), tags=TAGS, summary="Zone managers' ratings of staff")
    def get(self, request: ApiRequest) -> Response:
        return _page(self, request, selectors.rating_list(viewer=_staff(request)), RatingOutput)

    @extend_schema(request=RatingInput, responses={201: RatingOutput}, tags=TAGS,
                   summary="Rate another department's staff member (zone managers)")  # fmt: skip
    def post(self, request: ApiRequest) -> Response:
        viewer = _staff(request)
        data = _input(RatingInput, request.data)
        about = selectors.request_get(viewer=viewer, request_id=data["request"]) if data.get("request") else None
        rating = services.staff_rate(
            by=viewer, staff=_staff_user(data["staff"]), score=data["score"], comment=data["comment"], request=about
        )
        return Response(RatingOutput(rating).data, status=201)


class SatisfactionQuery(serializers.Serializer):
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
    project = serializers.UUIDField(required=False)


class SatisfactionRowOutput(serializers.Serializer):
    key = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    visits = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True)
    resolved_rate = serializers.FloatField(allow_null=True)


class SatisfactionOutput(serializers.Serializer):
    departments = SatisfactionRowOutput(many=True)
    people = SatisfactionRowOutput(many=True)


class SatisfactionApi(APIView):
    @extend_schema(parameters=[SatisfactionQuery], responses=SatisfactionOutput, tags=TAGS,
                   summary="Owners' satisfaction on return visits, per department and person")  # fmt: skip
    def get(self, request: ApiRequest) -> Response:
        query = _query(SatisfactionQuery, request)
        until = query.get("until") or timezone.localdate()
        since = query.get("since") or until - dt.timedelta(days=30)
        found = selectors.satisfaction_report(
            viewer=_staff(request), since=since, until=until, project=query.get("project")
        )
        return Response(SatisfactionOutput(found).data)


# ------------------------------------------------------------------------------------------ notifications
class NotificationOutput(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "text", "request", "created_at", "read_at", "urgent"]


class NotificationListApi(APIView):
    @extend_schema(responses=NotificationOutput(many=True), tags=TAGS, summary="My notifications")
    def get(self, request: ApiRequest) -> Response:
        rows = selectors.notification_list(user=acting_user(request))
        return _page(self, request, rows, NotificationOutput)


class NotificationReadApi(APIView):
    @extend_schema(request=None, responses=NotificationOutput, tags=TAGS, summary="Mark a notification read")
    def post(self, request: ApiRequest, notification_id: str) -> Response:
        notice = services.notification_read(user=acting_user(request), notification_id=as_uuid(notification_id))
        return Response(NotificationOutput(notice).data)


# ------------------------------------------------------------------------------------------ owners
class OwnerRequestInput(serializers.Serializer):
    unit = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=Kind.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, default="", allow_blank=True, max_length=5000)
    place = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class MyRequestListApi(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses=RequestOutput(many=True), tags=TAGS, summary="An owner's own requests")
    def get(self, request: ApiRequest) -> Response:
        return _page(self, request, selectors.owner_request_list(user=_owner(request)), RequestOutput)

    @extend_schema(request=OwnerRequestInput, responses={201: RequestDetailOutput}, tags=TAGS,
                   summary="Submit a request with up to six photos")  # fmt: skip
    def post(self, request: ApiRequest) -> Response:
        owner = _owner(request)
        data = dict(request.data.lists()) if hasattr(request.data, "lists") else dict(request.data)
        flat = {
            key: (value[0] if isinstance(value, list) and key != "photos" else value) for key, value in data.items()
        }
        found = _input(OwnerRequestInput, flat)
        units = {unit.pk: unit for unit in selectors.owner_units(user=owner)}
        unit = units.get(found["unit"])
        if unit is None:
            raise NotFound(_("No such unit."))
        made = services.request_submit(
            owner=owner,
            unit=unit,
            kind=found["kind"],
            title=found["title"],
            description=found["description"],
            place=found["place"],
            photos=found["photos"],
        )
        detail = selectors.owner_request_get(user=owner, request_id=made.pk)
        return Response(_detail(detail), status=201)


class MyRequestDetailApi(APIView):
    @extend_schema(responses=RequestDetailOutput, tags=TAGS, summary="An owner's request and its timeline")
    def get(self, request: ApiRequest, request_id: str) -> Response:
        return Response(_detail(selectors.owner_request_get(user=_owner(request), request_id=request_id)))


class OwnerNoteInput(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


def _owner_action(
    summary: str, call: Callable[[User, Request, dict[str, Any]], Any], input_class: type[serializers.Serializer]
) -> type[APIView]:
    """A step an owner takes on their own request (as `_action` is for staff): found among theirs only."""

    class OwnerActionApi(APIView):
        @extend_schema(request=input_class, responses=RequestDetailOutput, tags=TAGS, summary=summary)
        def post(self, request: ApiRequest, request_id: str) -> Response:
            owner = _owner(request)
            found = selectors.owner_request_get(user=owner, request_id=request_id)
            call(owner, found, _input(input_class, request.data))
            return Response(_detail(selectors.owner_request_get(user=owner, request_id=request_id)))

    OwnerActionApi.__name__ = OwnerActionApi.__qualname__ = (
        "My" + "".join(part.title() for part in summary.split()[:3]) + "Api"
    )
    return OwnerActionApi


MyRequestNoteApi = _owner_action(
    "Add information to one's own request",
    lambda u, r, d: services.request_note(by=u, request=r, text=d["text"]),
    OwnerNoteInput,
)
MyRequestWithdrawApi = _owner_action(
    "Withdraw one's own request before anybody accepted it",
    lambda u, r, d: services.request_withdraw(by=u, request=r, reason=d["reason"]),
    ReasonInput,
)
MyRequestVisitApi = _owner_action(
    "Answer the return visit: resolved? how satisfied (1-5)?",
    lambda u, r, d: services.visit_record(
        by=u, request=r, reached=True, resolved=d["resolved"], satisfaction=d["satisfaction"], comment=d["comment"]
    ),
    OwnerVisitInput,
)
