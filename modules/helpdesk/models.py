"""Helpdesk (客户服务, DOMAIN.md §2 and §4): the reception log, owner requests of five kinds with their
dispatch, deadlines, work steps, photos and materials, return visits, the duty log, zone managers'
ratings of other departments' staff, and in-app notifications.

A request's timeline is its events: every transition, note and escalation is one append-only row, so
"who did what when" is never rewritten. Deadlines are stored (respond_by, attend_by, close_by and the
earliest still pending, next_due_at) so that the overdue queue and the escalation are index scans; they
are worked out by deadlines.py from the request's targets and its pauses, never edited by hand.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuye.core.ids import uuid7
from wuye.core.models import TimeStampedModel


def _valid(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": [choice.value for choice in choices]})


class Channel(models.TextChoices):
    """How a request or a visit reached the service centre."""

    VISIT = "visit", _("Visit to the service centre")  # 来访
    PHONE = "phone", _("Phone call")  # 来电
    PORTAL = "portal", _("Owner portal")  # 业主端
    PATROL = "patrol", _("Found on a patrol")  # 巡查发现
    OTHER = "other", pgettext_lazy("channel", "Other")


class Kind(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")  # 咨询
    REPAIR = "repair", _("Repair")  # 报修
    COMPLAINT = "complaint", _("Complaint")  # 投诉
    SPECIAL_SERVICE = "special_service", _("Special service")  # 特约服务
    SUGGESTION = "suggestion", _("Suggestion or praise")  # 建议、表扬


class Grade(models.TextChoices):
    """Urgency of a request; a complaint is graded by severity instead (handbook: 不同程度的业户投诉)."""

    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    GENERAL = "general", _("General complaint")  # 一般投诉
    SERIOUS = "serious", _("Serious complaint")  # 严重投诉
    MAJOR = "major", _("Major complaint")  # 重大投诉


COMPLAINT_GRADES = (Grade.GENERAL, Grade.SERIOUS, Grade.MAJOR)
OTHER_GRADES = (Grade.NORMAL, Grade.URGENT)
# Kinds whose work is done somewhere: a deadline to be on site, and photos before and after.
ATTENDED_KINDS = (Kind.REPAIR, Kind.SPECIAL_SERVICE)

# A complaint has a severity grade, every other kind an urgency: the database refuses a mix.
GRADE_FITS_KIND = Q(kind=Kind.COMPLAINT, grade__in=COMPLAINT_GRADES) | (
    ~Q(kind=Kind.COMPLAINT) & Q(grade__in=OTHER_GRADES)
)


class Status(models.TextChoices):
    NEW = "new", _("New")  # 待派单
    DISPATCHED = "dispatched", _("Dispatched")  # 已派单 (to a department, maybe a person)
    ACCEPTED = "accepted", _("Accepted")  # 已受理
    ON_SITE = "on_site", _("On site")  # 已到场
    WAITING = "waiting", _("Waiting for the owner")  # 等待业主 (the clock is paused)
    DONE = "done", pgettext_lazy("request", "Done")  # 已完成 (awaiting the return visit)
    CLOSED = "closed", pgettext_lazy("request", "Closed")  # 已关闭
    WITHDRAWN = "withdrawn", _("Withdrawn")  # 已撤销 (raised by mistake or twice; nothing was done)


OPEN_STATUSES = (Status.NEW, Status.DISPATCHED, Status.ACCEPTED, Status.ON_SITE, Status.WAITING)
# Written as the queues' filters are (status IN ...), so that PostgreSQL matches the partial indexes.
OPEN_CONDITION = Q(status__in=OPEN_STATUSES)


class DispatchMode(models.TextChoices):
    ASSIGN = "assign", _("Team leaders assign")  # 派单
    GRAB = "grab", _("Staff take work from the queue")  # 抢单


# ------------------------------------------------------------------------------------------ settings
class DeadlinePolicy(TimeStampedModel):
    """How long a kind and grade of request may take (时限), in minutes of running time. A row without a
    project is the company's default (seeded); a project's own row overrides it."""

    project = models.ForeignKey(
        "estate.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="helpdesk_deadlines"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    respond_minutes = models.PositiveIntegerField(_("accept within (minutes)"))
    attend_minutes = models.PositiveIntegerField(_("on site within (minutes)"), null=True, blank=True)
    close_minutes = models.PositiveIntegerField(_("done within (minutes)"))
    escalate_every_minutes = models.PositiveIntegerField(
        _("escalate every (minutes)"),
        default=240,
        help_text=_("Overdue work goes one level up the hierarchy each time this much more time passes."),
    )

    class Meta:
        ordering = ["project", "kind", "grade"]
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind", "grade"],
                nulls_distinct=False,
                name="helpdesk_deadline_unique",
                violation_error_message=_("This kind and grade already has deadlines here."),
            ),
            models.CheckConstraint(condition=_valid("kind", Kind), name="helpdesk_deadline_kind_valid"),
            models.CheckConstraint(condition=GRADE_FITS_KIND, name="helpdesk_deadline_grade_fits_kind"),
            models.CheckConstraint(
                condition=Q(respond_minutes__gt=0) & Q(escalate_every_minutes__gt=0),
                name="helpdesk_deadline_positive",
            ),
            models.CheckConstraint(
                condition=Q(close_minutes__gte=F("respond_minutes"))
                & (Q(attend_minutes__isnull=True) | Q(attend_minutes__lte=F("close_minutes"))),
                name="helpdesk_deadline_order",
                violation_error_message=_("Work is accepted before it is attended, and attended before it is done."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_grade_display()}"


class DepartmentDesk(models.Model):
    """How a department takes on requests: its team leaders assign them, or its staff take them from the
    department's queue (抢单). A department without a row assigns."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    department = models.OneToOneField("staff.Department", on_delete=models.CASCADE, related_name="helpdesk_desk")
    mode = models.CharField(_("dispatch"), max_length=8, choices=DispatchMode.choices, default=DispatchMode.ASSIGN)

    class Meta:
        verbose_name = _("department dispatch mode")
        constraints = [models.CheckConstraint(condition=_valid("mode", DispatchMode), name="helpdesk_desk_mode_valid")]

    def __str__(self) -> str:
        return f"{self.department}: {self.get_mode_display()}"


# ------------------------------------------------------------------------------------------ reception
class ReceptionEntry(TimeStampedModel):
    """One contact with a household (业户接待记录): who, how, about what. Logged in seconds; may become a
    request."""

    project = models.ForeignKey("estate.Project", on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey("estate.Zone", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    unit = models.ForeignKey("estate.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    person = models.ForeignKey("households.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    visitor_name = models.CharField(_("name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    topic = models.CharField(_("topic"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    received_at = models.DateTimeField(_("when"), default=timezone.now)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("reception log entry")
        verbose_name_plural = _("reception log")
        constraints = [
            models.CheckConstraint(condition=_valid("channel", Channel), name="helpdesk_reception_channel_valid"),
            models.CheckConstraint(condition=~Q(topic=""), name="helpdesk_reception_topic_present"),
        ]
        indexes = [models.Index(fields=["project", "-received_at"], name="helpdesk_reception_project")]

    def __str__(self) -> str:
        return self.topic


# ------------------------------------------------------------------------------------------ requests
class RequestCounter(models.Model):
    """The last request number of a day: numbers are "YYYYMMDD-NNNN", read out on the phone."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


class Request(TimeStampedModel):
    """An owner request (业户报事): a consultation, repair, complaint, special service, or suggestion."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    title = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # Where: a unit (its building and zone copied, for scope filters without joins), or a common area of
    # the project (a place in words, and the zone if known).
    project = models.ForeignKey("estate.Project", on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey("estate.Zone", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    building = models.ForeignKey("estate.Building", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    unit = models.ForeignKey("estate.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    place = models.CharField(_("place"), max_length=200, blank=True)
    # Who asked: the household's person on file, the owner's portal account, and how to reach them.
    person = models.ForeignKey("households.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contact_name = models.CharField(_("contact"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    reception = models.ForeignKey(
        ReceptionEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    # Who does it.
    department = models.ForeignKey(
        "staff.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    on_site_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The clock: targets are copied from the deadline policy when the request is raised (a later change of
    # policy does not move promises already made); the clock restarts when a request is reopened.
    clock_started_at = models.DateTimeField(default=timezone.now)
    respond_minutes = models.PositiveIntegerField()
    attend_minutes = models.PositiveIntegerField(null=True, blank=True)
    close_minutes = models.PositiveIntegerField()
    escalate_every_minutes = models.PositiveIntegerField(default=240)
    paused_since = models.DateTimeField(null=True, blank=True)
    respond_by = models.DateTimeField(_("accept by"), null=True, blank=True)
    attend_by = models.DateTimeField(_("on site by"), null=True, blank=True)
    close_by = models.DateTimeField(_("done by"), null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    # A special service's agreed price for the work (materials are lines of their own).
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    reopened_count = models.PositiveSmallIntegerField(default=0)
    visit_due_at = models.DateTimeField(_("return visit due"), null=True, blank=True)

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        constraints = [
            models.CheckConstraint(condition=_valid("kind", Kind), name="helpdesk_request_kind_valid"),
            models.CheckConstraint(condition=_valid("status", Status), name="helpdesk_request_status_valid"),
            models.CheckConstraint(condition=_valid("channel", Channel), name="helpdesk_request_channel_valid"),
            models.CheckConstraint(condition=GRADE_FITS_KIND, name="helpdesk_request_grade_fits_kind"),
            models.CheckConstraint(condition=~Q(title=""), name="helpdesk_request_title_present"),
            # Somewhere: a unit, or a named common area.
            models.CheckConstraint(
                condition=Q(unit__isnull=False) | ~Q(place=""),
                name="helpdesk_request_located",
                violation_error_message=_("Say which unit, or where in the common areas."),
            ),
            # A special service is done in a household's unit and billed to it.
            models.CheckConstraint(
                condition=~Q(kind=Kind.SPECIAL_SERVICE) | Q(unit__isnull=False),
                name="helpdesk_request_service_has_unit",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | (Q(price__gte=0) & Q(kind=Kind.SPECIAL_SERVICE)),
                name="helpdesk_request_price_for_services",
            ),
            models.CheckConstraint(
                condition=Q(assignee__isnull=True) | Q(department__isnull=False),
                name="helpdesk_request_assignee_in_department",
            ),
            # The status and the steps' times agree: nothing is accepted before it is dispatched, nothing
            # done before it is accepted, nothing closed that was never accepted.
            models.CheckConstraint(
                condition=Q(status__in=[Status.NEW, Status.CLOSED, Status.WITHDRAWN]) | Q(department__isnull=False),
                name="helpdesk_request_dispatched_has_department",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[Status.ACCEPTED, Status.ON_SITE, Status.DONE, Status.CLOSED])
                | Q(accepted_at__isnull=False),
                name="helpdesk_request_accepted_before",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[Status.DONE, Status.CLOSED]) | Q(completed_at__isnull=False),
                name="helpdesk_request_completed_when_done",
            ),
            models.CheckConstraint(
                condition=(Q(status=Status.WAITING) & Q(paused_since__isnull=False))
                | (~Q(status=Status.WAITING) & Q(paused_since__isnull=True)),
                name="helpdesk_request_paused_when_waiting",
            ),
            models.CheckConstraint(
                condition=Q(escalation_level__gte=0) & Q(escalation_level__lte=4), name="helpdesk_request_level_range"
            ),
            models.CheckConstraint(
                condition=Q(close_minutes__gte=F("respond_minutes")) & Q(respond_minutes__gt=0),
                name="helpdesk_request_targets_order",
            ),
        ]
        indexes = [
            # Each queue is one index range read in its order, LIMIT and OFFSET included (see the helpdesk
            # benchmark): everything of a project or zone newest first; the open work of a person or a
            # department (partial: the closed nine tenths are not in it); the overdue scan and the board.
            models.Index(fields=["project", "-raised_at", "-id"], name="helpdesk_request_project"),
            models.Index(fields=["zone", "-raised_at", "-id"], name="helpdesk_request_zone"),
            models.Index(
                fields=["assignee", "-raised_at", "-id"], condition=OPEN_CONDITION, name="helpdesk_request_mine"
            ),
            models.Index(
                fields=["department", "-raised_at", "-id"], condition=OPEN_CONDITION, name="helpdesk_request_department"
            ),
            models.Index(fields=["project", "status", "raised_at"], name="helpdesk_request_board"),
            models.Index(fields=["next_due_at"], condition=Q(next_due_at__isnull=False), name="helpdesk_request_due"),
            models.Index(fields=["unit", "-raised_at"], name="helpdesk_request_unit"),
            models.Index(fields=["owner_user", "-raised_at"], name="helpdesk_request_owner"),
        ]
        permissions = [
            ("dispatch_request", "Can send requests to departments and assign them"),
            ("work_request", "Can work on requests"),
            ("close_request", "Can close requests"),
            ("view_satisfaction", "Can see the satisfaction report"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def needs_attendance(self) -> bool:
        return self.kind in ATTENDED_KINDS

    def is_overdue(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return self.next_due_at is not None and self.next_due_at < moment  # type: ignore[operator]


class EventKind(models.TextChoices):
    RAISED = "raised", _("Raised")
    DISPATCHED = "dispatched", _("Dispatched")
    ASSIGNED = "assigned", _("Assigned")
    TAKEN = "taken", _("Taken from the queue")
    ACCEPTED = "accepted", _("Accepted")
    ON_SITE = "on_site", _("On site")
    NOTE = "note", _("Note")
    PHOTO = "photo", _("Photo")
    MATERIAL = "material", _("Materials")
    PAUSED = "paused", _("Waiting for the owner")
    RESUMED = "resumed", _("Work resumed")
    COMPLETED = "completed", pgettext_lazy("request", "Done")
    BILLED = "billed", _("Billed")
    CLOSED = "closed", pgettext_lazy("request", "Closed")
    VISITED = "visited", _("Return visit")
    REOPENED = "reopened", _("Reopened")
    ESCALATED = "escalated", _("Escalated")
    TRANSFERRED = "transferred", pgettext_lazy("request", "Transferred")  # 转派
    WITHDRAWN = "withdrawn", _("Withdrawn")  # 撤销


# What an owner does not see of their request's timeline: the staff's internal steps.
INTERNAL_EVENTS = (EventKind.ESCALATED,)


class RequestEvent(models.Model):
    """One line of a request's timeline. Append-only (migration 0002 refuses UPDATE and DELETE). Its key is
    a sequence: events of one moment (a dispatch right after the raise) keep the order they were written."""

    id = models.BigAutoField(primary_key=True)
    request = models.ForeignKey(Request, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    text = models.TextField(blank=True)
    # A staff note the owner does not see.
    internal = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=_valid("kind", EventKind), name="helpdesk_event_kind_valid"),
        ]
        indexes = [models.Index(fields=["request", "at"], name="helpdesk_event_request")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"


class Pause(models.Model):
    """A stretch of time the request waited for the owner: its clock stood still."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(Request, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    # The step the request was at, to go back to when the owner is ready.
    resume_status = models.CharField(max_length=12, choices=Status.choices)

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")), name="helpdesk_pause_order"
            ),
            # At most one pause still going per request.
            models.UniqueConstraint(
                fields=["request"], condition=Q(ended_at__isnull=True), name="helpdesk_pause_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.reason}"


class PhotoStage(models.TextChoices):
    OWNER = "owner", _("From the owner")
    BEFORE = "before", _("Before the work")
    AFTER = "after", _("After the work")


PHOTOS_PER_STAGE = 6
PHOTO_MAX_BYTES = 10 * 1024 * 1024


def photo_path(instance: RequestPhoto, filename: str) -> str:
    """Where a photo is stored: under the company (the storage adds the company's folder, see
    services._company_prefix), the request, and a fresh name (the owner's file name is not trusted)."""
    return instance.storage_name


class RequestPhoto(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(Request, on_delete=models.PROTECT, related_name="photos")
    stage = models.CharField(_("stage"), max_length=8, choices=PhotoStage.choices)
    file = models.FileField(upload_to=photo_path, max_length=300)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    # Set by the service before saving; the upload_to callable reads it.
    storage_name: str = ""

    class Meta:
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=_valid("stage", PhotoStage), name="helpdesk_photo_stage_valid"),
            models.CheckConstraint(
                condition=Q(size__gt=0) & Q(size__lte=PHOTO_MAX_BYTES), name="helpdesk_photo_size_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.file.name}"


class MaterialLine(models.Model):
    """Materials used on a special service (材料), billed with its price when it is done."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(Request, on_delete=models.PROTECT, related_name="materials")
    description = models.CharField(_("material"), max_length=200)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="helpdesk_material_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="helpdesk_material_price_not_negative"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="helpdesk_material_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}"


class ServiceCharge(models.Model):
    """The one bill a special service was charged on. One per request, one per bill: whatever completes
    the request again (a reopened request done twice), it is billed once."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.OneToOneField(Request, on_delete=models.PROTECT, related_name="charge")
    bill = models.OneToOneField("fees.Bill", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    billed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="helpdesk_charge_amount_positive")]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.amount}"


# ------------------------------------------------------------------------------------------ return visits
MAX_VISIT_ATTEMPTS = 3


class ReturnVisit(models.Model):
    """One attempt to ask the owner whether the request was resolved and how satisfied they are (回访)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(Request, on_delete=models.PROTECT, related_name="visits")
    attempt = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    reached = models.BooleanField(_("owner reached"))
    resolved = models.BooleanField(_("resolved"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    # Who the visit is about (copied: the report groups by them even after the request is reassigned).
    department = models.ForeignKey(
        "staff.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["request", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["request", "attempt"], name="helpdesk_visit_attempt_unique"),
            models.CheckConstraint(condition=Q(attempt__gte=1), name="helpdesk_visit_attempt_positive"),
            models.CheckConstraint(condition=_valid("channel", Channel), name="helpdesk_visit_channel_valid"),
            # Reached: an answer on both questions; not reached: none.
            models.CheckConstraint(
                condition=(
                    Q(reached=True, resolved__isnull=False, satisfaction__gte=1, satisfaction__lte=5)
                    | Q(reached=False, resolved__isnull=True, satisfaction__isnull=True)
                ),
                name="helpdesk_visit_answer_when_reached",
            ),
        ]
        indexes = [models.Index(fields=["department", "at"], name="helpdesk_visit_department")]

    def __str__(self) -> str:
        return f"{self.request_id} #{self.attempt}"


# ------------------------------------------------------------------------------------------ duty log, ratings
class DutyLogEntry(TimeStampedModel):
    """A shift's entry in the duty log (值班记录表): what happened, what is handed over."""

    project = models.ForeignKey("estate.Project", on_delete=models.PROTECT, related_name="+")
    shift_start = models.DateTimeField(_("shift from"))
    shift_end = models.DateTimeField(_("shift until"))
    on_duty = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    events = models.TextField(_("what happened"))
    handover = models.TextField(_("handed over"), blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-shift_start"]
        verbose_name = _("duty log entry")
        verbose_name_plural = _("duty log")
        constraints = [
            models.CheckConstraint(
                condition=Q(shift_end__gt=F("shift_start")),
                name="helpdesk_duty_shift_order",
                violation_error_message=_("A shift ends after it starts."),
            ),
            models.CheckConstraint(condition=~Q(events=""), name="helpdesk_duty_events_present"),
        ]
        indexes = [models.Index(fields=["project", "-shift_start"], name="helpdesk_duty_project")]
        permissions = [("check_dutylogentry", "Can check the duty log")]

    def __str__(self) -> str:
        return f"{self.shift_start:%Y-%m-%d %H:%M} {self.on_duty_id}"


class StaffRating(TimeStampedModel):
    """A zone manager's rating of another department's staff member (DOMAIN.md §1: it carries great weight
    in their performance review), once a month per person, optionally about one request."""

    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("estate.Project", on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"))
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)
    request = models.ForeignKey(Request, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-month", "staff"]
        constraints = [
            models.UniqueConstraint(
                fields=["rater", "staff", "month"],
                name="helpdesk_rating_once_a_month",
                violation_error_message=_("You already rated this person this month."),
            ),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="helpdesk_rating_score_range"),
            models.CheckConstraint(condition=Q(month__day=1), name="helpdesk_rating_month_first_day"),
            models.CheckConstraint(condition=~Q(rater=F("staff")), name="helpdesk_rating_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.staff_id}: {self.score}"


# ------------------------------------------------------------------------------------------ notifications
class Notification(models.Model):
    """An in-app notice to one user (the bell); e-mail and text messages are sent from it by a task."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(Request, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Sent by e-mail / text message too (escalations and owners' updates are; the rest stays in the app).
    urgent = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="helpdesk_notice_user")]

    def __str__(self) -> str:
        return self.text


ZERO = Decimal("0.00")
