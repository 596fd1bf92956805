"""Portal pages of the helpdesk, phone-sized: the staff's queues (mine, my department, my zones, overdue,
return visits due), the board by status, a request with the actions the viewer may take, the CS manager's
daily check, the duty log; for owners their requests, a form to submit one with photos, each request's
timeline and the return visit to answer. Photos are served here only through a permission check.

Reads go through selectors and writes through services, which check permission and scope: a refusal
that is a 403 or 404 answers with the portal's refusal page, any other shows on the page that asked."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from modules.staff import selectors as staff_selectors
from wuye.accounts.models import User
from wuye.accounts.policies import acting_user
from wuye.core.errors import NotFound, PolicyDenied, ServiceError
from wuye.core.ids import as_uuid
from wuye.portal.views import form_errors_add, message_page, refusal

from . import policies, selectors, services
from .api import photo_response
from .models import Channel, Grade, Kind, PhotoStage, Status

PAGE_SIZE = 30
STATUS_BADGES = {
    Status.NEW: "warn", Status.DISPATCHED: "warn", Status.ACCEPTED: "ok", Status.ON_SITE: "ok",
    Status.WAITING: "muted", Status.DONE: "ok", Status.CLOSED: "muted",
}  # fmt: skip
QUEUE_LABELS = [
    ("mine", gettext_lazy("Mine")),
    ("department", gettext_lazy("My department")),
    ("zone", gettext_lazy("My zones")),
    ("overdue", gettext_lazy("Overdue")),
    ("visits", gettext_lazy("Return visits due")),
    ("all", gettext_lazy("All")),
]


def _choices(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast(forms.ChoiceField, form.fields[name])


def _staff(request: HttpRequest) -> User:
    user = acting_user(request)
    if user.kind != "staff" or not policies.can(user, policies.VIEW):
        raise PolicyDenied(_("You do not have permission to do this."))
    return user


def _page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return render(request, f"helpdesk/{template}", {"badges": STATUS_BADGES, "now": timezone.now(), **context},
                  status=status)  # fmt: skip


# ------------------------------------------------------------------------------------------ staff
@login_required
def queue(request: HttpRequest) -> HttpResponse:
    try:
        viewer = _staff(request)
    except ServiceError as error:
        return refusal(request, error)
    name = request.GET.get("queue") or "mine"
    if name not in selectors.QUEUES:
        name = "mine"
    rows = selectors.request_list(viewer=viewer, queue=name, search=request.GET.get("q", "")[:100])
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return _page(
        request,
        "queue.html",
        {
            "page": page,
            "queue": name,
            "queues": QUEUE_LABELS,
            "query": f"queue={name}",
            "search": request.GET.get("q", ""),
        },
    )


@login_required
def board(request: HttpRequest) -> HttpResponse:
    try:
        found = selectors.board(viewer=_staff(request))
    except ServiceError as error:
        return refusal(request, error)
    return _page(request, "board.html", {"board": found})


class DispatchForm(forms.Form):
    department = forms.ChoiceField(label=gettext_lazy("Department"))
    assignee = forms.ChoiceField(label=gettext_lazy("Person"), required=False)
    done_by = forms.DateTimeField(
        label=gettext_lazy("Done by (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


def _dispatch_form(viewer: Any, found: Any, data: Any = None) -> DispatchForm | None:
    """The departments and people the viewer may dispatch to (one query each), or None if they may not."""
    if not policies.can(viewer, policies.DISPATCH):
        return None
    form = DispatchForm(data)
    departments = staff_selectors.departments_active()
    _choices(form, "department").choices = [(d.code, d.name) for d in departments]
    _choices(form, "assignee").choices = [("", "—")] + [
        (str(m.user_id), f"{m.user.name} · {m.department.name if m.department else ''}")
        for m in staff_selectors.members_in_project(project_id=found.project_id)
    ]
    return form


@login_required
def request_detail(request: HttpRequest, request_id: str) -> HttpResponse:
    try:
        viewer = _staff(request)
        found = selectors.request_get(viewer=viewer, request_id=request_id)
    except ServiceError as error:
        return refusal(request, error)
    is_assignee = found.assignee_id == viewer.pk
    can = {
        "dispatch": policies.can(viewer, policies.DISPATCH) and found.status in (Status.NEW, Status.DISPATCHED),
        "take": found.status == Status.DISPATCHED and found.assignee_id is None,
        "accept": is_assignee and found.status == Status.DISPATCHED,
        "on_site": found.status == Status.ACCEPTED and found.needs_attendance,
        "wait": found.status in (Status.DISPATCHED, Status.ACCEPTED, Status.ON_SITE),
        "resume": found.status == Status.WAITING,
        "complete": found.status in (Status.ACCEPTED, Status.ON_SITE),
        "close": policies.can(viewer, policies.CLOSE) and found.accepted_at is not None and found.is_open,
        "visit": policies.can(viewer, policies.VISIT) and found.status == Status.DONE,
        "photo": found.status in (Status.ACCEPTED, Status.ON_SITE, Status.WAITING, Status.DONE),
        "material": found.kind == Kind.SPECIAL_SERVICE and found.status in (Status.ACCEPTED, Status.ON_SITE),
        "price": found.kind == Kind.SPECIAL_SERVICE and found.is_open and policies.can(viewer, policies.DISPATCH),
        "transfer": policies.can(viewer, policies.DISPATCH) and found.status in (Status.ACCEPTED, Status.ON_SITE),
        "withdraw": policies.can(viewer, policies.DISPATCH)
        and found.status in (Status.NEW, Status.DISPATCHED)
        and found.accepted_at is None,
    }
    form = _dispatch_form(viewer, found) if can["dispatch"] or can["transfer"] else None
    return _page(request, "request_detail.html", {"item": found, "can": can, "dispatch_form": form})


def _staff_user(user_id: Any) -> User:
    key = as_uuid(user_id)
    found = User.objects.filter(pk=key, kind="staff", is_active=True).first() if key else None
    if found is None:
        raise NotFound(_("No such staff member."))
    return found


def _act(viewer: Any, found: Any, action: str, post: Any, files: Any) -> str:
    """Carry out one action of the detail page; the message to show."""
    if action in ("dispatch", "transfer"):
        form = _dispatch_form(viewer, found, post)
        if form is None or not form.is_valid():
            raise ServiceError(_("Choose a department."), code="invalid", field="department")
        department = staff_selectors.department_by_code(form.cleaned_data["department"])
        assignee = _staff_user(form.cleaned_data["assignee"]) if form.cleaned_data["assignee"] else None
        if action == "transfer":
            services.request_transfer(
                by=viewer, request=found, department=department, assignee=assignee, reason=post.get("reason", "")
            )
            return pgettext("request", "Transferred.")
        services.request_dispatch(
            by=viewer, request=found, department=department, assignee=assignee, done_by=form.cleaned_data["done_by"]
        )
        return _("Dispatched.")
    if action == "withdraw":
        services.request_withdraw(by=viewer, request=found, reason=post.get("reason", ""))
        return _("Withdrawn.")
    if action == "take":
        services.request_take(by=viewer, request=found)
        return _("It is yours.")
    if action == "accept":
        services.request_accept(by=viewer, request=found)
        return _("Accepted.")
    if action == "on_site":
        services.request_on_site(by=viewer, request=found)
        return _("On site.")
    if action == "wait":
        services.request_wait(by=viewer, request=found, reason=post.get("reason", ""))
        return _("Waiting for the owner: the clock stops.")
    if action == "resume":
        services.request_resume(by=viewer, request=found)
        return _("Work resumed.")
    if action == "note":
        services.request_note(by=viewer, request=found, text=post.get("text", ""), internal=bool(post.get("internal")))
        return _("Note added.")
    if action == "photo":
        upload = files.get("photo")
        if upload is None:
            raise ServiceError(_("Choose a photo."), code="photo_required", field="photo")
        services.photo_add(by=viewer, request=found, stage=post.get("stage", ""), upload=upload)
        return _("Photo added.")
    if action == "material":
        services.material_add(
            by=viewer,
            request=found,
            description=post.get("description", ""),
            quantity=post.get("quantity", ""),
            unit_price=post.get("unit_price", ""),
        )
        return _("Materials added.")
    if action == "price":
        services.price_set(by=viewer, request=found, price=post.get("price", ""))
        return _("Price set.")
    if action == "complete":
        services.request_complete(by=viewer, request=found, resolution=post.get("resolution", ""))
        return _("Done.")
    if action == "close":
        services.request_close(by=viewer, request=found, resolution=post.get("resolution", ""))
        return _("Closed.")
    if action == "visit":
        reached = post.get("reached") == "yes"
        score = post.get("satisfaction", "")
        services.visit_record(
            by=viewer,
            request=found,
            reached=reached,
            resolved=(post.get("resolved") == "yes") if reached else None,
            satisfaction=int(score) if score.isdigit() else None,
            comment=post.get("comment", ""),
        )
        return _("Return visit recorded.")
    raise NotFound(_("No such action."))


@login_required
@require_POST
def request_action(request: HttpRequest, request_id: str, action: str) -> HttpResponse:
    try:
        viewer = _staff(request)
        found = selectors.request_get(viewer=viewer, request_id=request_id)
        messages.success(request, _act(viewer, found, action, request.POST, request.FILES))
    except ServiceError as error:
        if error.http_status in (403, 404):
            return refusal(request, error)
        messages.error(request, error.message)
    return redirect("helpdesk:request_detail", request_id=request_id)


@login_required
def daily(request: HttpRequest) -> HttpResponse:
    """The CS manager's daily check (DOMAIN.md §4)."""
    try:
        found = selectors.daily_check(viewer=acting_user(request))
    except ServiceError as error:
        return refusal(request, error)
    return _page(request, "daily.html", {"check": found})


class DutyLogForm(forms.Form):
    project = forms.ChoiceField(label=gettext_lazy("Project"))
    shift_start = forms.DateTimeField(
        label=gettext_lazy("Shift from"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    shift_end = forms.DateTimeField(
        label=gettext_lazy("Shift until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    events = forms.CharField(label=gettext_lazy("What happened"), widget=forms.Textarea(attrs={"rows": 4}))
    handover = forms.CharField(
        label=gettext_lazy("Handed over"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


@login_required
def duty_log(request: HttpRequest) -> HttpResponse:
    from modules.estate import selectors as estate_selectors

    viewer = acting_user(request)
    try:
        entries = selectors.duty_log_list(viewer=viewer)
    except ServiceError as error:
        return refusal(request, error)
    form = None
    if policies.can(viewer, policies.DUTY_LOG):
        form = DutyLogForm(request.POST or None)
        _choices(form, "project").choices = [(str(p.pk), p.name) for p in estate_selectors.project_list(viewer=viewer)]
        if request.method == "POST" and form.is_valid():
            try:
                services.duty_log_write(
                    by=viewer,
                    project=estate_selectors.project_get(viewer=viewer, project_id=form.cleaned_data["project"]),
                    shift_start=form.cleaned_data["shift_start"],
                    shift_end=form.cleaned_data["shift_end"],
                    events=form.cleaned_data["events"],
                    handover=form.cleaned_data["handover"],
                )
                messages.success(request, _("Entry written."))
                return redirect("helpdesk:duty_log")
            except ServiceError as error:
                form.add_error(None, error.message)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return _page(request, "duty_log.html", {"page": page, "form": form, "query": ""})


@login_required
def photo(request: HttpRequest, photo_id: str) -> HttpResponseBase:
    """A photo, to staff who may see its request and to the owner's household; "not found" to anyone else."""
    try:
        found = selectors.photo_get(viewer=acting_user(request), photo_id=photo_id)
    except ServiceError as error:
        return refusal(request, error)
    return photo_response(found)


# ------------------------------------------------------------------------------------------ owners
class OwnerRequestForm(forms.Form):
    unit = forms.ChoiceField(label=gettext_lazy("Unit"))
    kind = forms.ChoiceField(label=gettext_lazy("What is it?"), choices=Kind.choices)
    title = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Details"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    place = forms.CharField(label=gettext_lazy("Where, if not in the unit"), required=False, max_length=200)


@login_required
def my_requests(request: HttpRequest) -> HttpResponse:
    """An owner's requests and the form to submit one, with up to six photos."""
    owner = acting_user(request)
    if owner.kind != "owner":
        return redirect("helpdesk:queue")
    units = selectors.owner_units(user=owner)
    if not units:
        return message_page(request, _("My requests"), _("No unit is linked to you. Ask the front desk."), status=404)
    form = OwnerRequestForm(request.POST or None)
    _choices(form, "unit").choices = [(str(u.pk), f"{u.building.name} {u.number}") for u in units]
    if request.method == "POST" and form.is_valid():
        unit = next(u for u in units if str(u.pk) == form.cleaned_data["unit"])
        try:
            made = services.request_submit(
                owner=owner,
                unit=unit,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                place=form.cleaned_data["place"],
                photos=request.FILES.getlist("photos"),
            )
            messages.success(
                request, _("Thank you: your request %(number)s is with the service centre.") % {"number": made.number}
            )
            return redirect("helpdesk:my_request", request_id=made.pk)
        except ServiceError as error:
            form.add_error(None, error.message)
    rows = selectors.owner_request_list(user=owner)[:50]
    return _page(request, "my_requests.html", {"form": form, "rows": rows})


@login_required
def my_request(request: HttpRequest, request_id: str) -> HttpResponse:
    owner = acting_user(request)
    try:
        found = selectors.owner_request_get(user=owner, request_id=request_id)
        if request.method == "POST" and "text" in request.POST:
            services.request_note(by=owner, request=found, text=request.POST.get("text", ""))
            messages.success(request, _("Note added."))
            return redirect("helpdesk:my_request", request_id=request_id)
        if request.method == "POST" and "withdraw" in request.POST:
            services.request_withdraw(by=owner, request=found, reason=request.POST.get("reason", ""))
            messages.success(request, _("Withdrawn."))
            return redirect("helpdesk:my_request", request_id=request_id)
        if request.method == "POST":
            score = request.POST.get("satisfaction", "")
            services.visit_record(
                by=owner,
                request=found,
                reached=True,
                resolved=request.POST.get("resolved") == "yes",
                satisfaction=int(score) if score.isdigit() else None,
                comment=request.POST.get("comment", ""),
            )
            messages.success(request, _("Thank you for your answer."))
            return redirect("helpdesk:my_request", request_id=request_id)
    except ServiceError as error:
        if error.http_status in (403, 404):
            return refusal(request, error)
        messages.error(request, error.message)
        found = selectors.owner_request_get(user=owner, request_id=request_id)
    return _page(request, "my_request.html", {"item": found, "stages": PhotoStage})


# ------------------------------------------------------------------------------------------ reception
class ReceptionForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("How"), choices=Channel.choices)
    project = forms.ChoiceField(label=gettext_lazy("Project"))
    unit = forms.CharField(
        label=gettext_lazy("Unit"), required=False, max_length=60,
        help_text=gettext_lazy("Building and unit number, like 3栋 1201"),
    )  # fmt: skip
    visitor_name = forms.CharField(label=gettext_lazy("Name"), required=False, max_length=100)
    phone = forms.CharField(label=gettext_lazy("Phone"), required=False, max_length=32)
    topic = forms.CharField(label=gettext_lazy("About"), max_length=200)
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    kind = forms.ChoiceField(
        label=gettext_lazy("Make it a request"), required=False,
        choices=[("", gettext_lazy("No, only log it")), *Kind.choices],
    )  # fmt: skip
    grade = forms.ChoiceField(label=gettext_lazy("Grade"), required=False, choices=[("", "—"), *Grade.choices])
    place = forms.CharField(label=gettext_lazy("Where, for a common area"), required=False, max_length=200)
    department = forms.ChoiceField(label=gettext_lazy("Dispatch to"), required=False)


def _unit_named(viewer: Any, project_id: Any, text: str) -> Any:
    """The unit "3栋 1201" (building, then number) of the project, in the viewer's scope."""
    from modules.estate import selectors as estate_selectors

    parts = text.replace("-", " ").split()
    if len(parts) != 2:
        raise ServiceError(
            _("Give the building and the unit number, like 3栋 1201."), code="unit_unknown", field="unit"
        )
    building, number = parts
    found = list(estate_selectors.unit_list(viewer=viewer, project=project_id).filter(building__name=building,
                                                                                      number=number)[:2])  # fmt: skip
    if len(found) != 1:
        raise ServiceError(_("No such unit in this project."), code="unit_unknown", field="unit")
    return found[0]


@login_required
def reception(request: HttpRequest) -> HttpResponse:
    """The reception log (业户接待): log a visit or call in seconds, and make it a request at once."""
    from modules.estate import selectors as estate_selectors

    try:
        viewer = _staff(request)
        entries = selectors.reception_list(viewer=viewer, day=timezone.localdate())
    except ServiceError as error:
        return refusal(request, error)
    form = ReceptionForm(request.POST or None)
    _choices(form, "project").choices = [(str(p.pk), p.name) for p in estate_selectors.project_list(viewer=viewer)]
    _choices(form, "department").choices = [("", "—")] + [
        (d.code, d.name) for d in staff_selectors.departments_active()
    ]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                project = estate_selectors.project_get(viewer=viewer, project_id=data["project"])
                unit = _unit_named(viewer, project.pk, data["unit"]) if data["unit"].strip() else None
                entry = services.reception_log(
                    by=viewer, channel=data["channel"], topic=data["topic"], project=project, unit=unit,
                    visitor_name=data["visitor_name"], phone=data["phone"], notes=data["notes"],
                )  # fmt: skip
                if data["kind"]:
                    department = staff_selectors.department_by_code(data["department"] or None)
                    made = services.request_raise(
                        by=viewer, kind=data["kind"], grade=data["grade"] or None, channel=data["channel"],
                        title=data["topic"], description=data["notes"], project=project, unit=unit,
                        place=data["place"], contact_name=data["visitor_name"], contact_phone=data["phone"],
                        reception=entry, department=department,
                    )  # fmt: skip
                    messages.success(request, _("Request %(number)s raised.") % {"number": made.number})
                    return redirect("helpdesk:request_detail", request_id=made.pk)
            messages.success(request, _("Logged."))
            return redirect("helpdesk:reception")
        except ServiceError as error:
            if error.http_status in (403, 404) and error.field is None:
                return refusal(request, error)
            form_errors_add(form, error)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return _page(request, "reception.html", {"form": form, "page": page, "query": ""})


# ------------------------------------------------------------------------------------------ reports, ratings, notices
@login_required
def satisfaction(request: HttpRequest) -> HttpResponse:
    """Owners' satisfaction on return visits, per department and per person, over a period."""
    until = timezone.localdate()
    since = until - dt.timedelta(days=30)
    try:
        since = dt.date.fromisoformat(request.GET.get("since") or since.isoformat())
        until = dt.date.fromisoformat(request.GET.get("until") or until.isoformat())
    except ValueError:
        messages.error(request, _("Give dates as YYYY-MM-DD."))
    try:
        report = selectors.satisfaction_report(viewer=acting_user(request), since=since, until=until)
    except ServiceError as error:
        return refusal(request, error)
    return _page(request, "satisfaction.html", {"report": report, "since": since, "until": until})


class RatingForm(forms.Form):
    staff = forms.ChoiceField(label=gettext_lazy("Staff member"))
    score = forms.TypedChoiceField(
        label=gettext_lazy("Score"), coerce=int, choices=[(n, str(n)) for n in range(5, 0, -1)]
    )
    comment = forms.CharField(label=gettext_lazy("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


@login_required
def ratings(request: HttpRequest) -> HttpResponse:
    """Zone managers rate the staff of other departments who work in their zones' project (DOMAIN.md §1)."""
    viewer = acting_user(request)
    try:
        rows = selectors.rating_list(viewer=viewer)
    except ServiceError as error:
        return refusal(request, error)
    form = None
    if policies.can(viewer, policies.RATE_STAFF):
        form = RatingForm(request.POST or None)
        member = staff_selectors.staff_member_of(viewer)
        people = (
            staff_selectors.members_in_project(project_id=member.project_id) if member and member.project_id else []
        )
        _choices(form, "staff").choices = [
            (str(m.user_id), f"{m.user.name} · {m.department.name if m.department else ''}")
            for m in people
            if m.department is not None and m.department.code != services.CUSTOMER_SERVICE_DEPARTMENT
        ]
        if request.method == "POST" and form.is_valid():
            try:
                services.staff_rate(
                    by=viewer, staff=_staff_user(form.cleaned_data["staff"]), score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                )  # fmt: skip
                messages.success(request, _("Rating recorded."))
                return redirect("helpdesk:ratings")
            except ServiceError as error:
                form_errors_add(form, error)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return _page(request, "ratings.html", {"form": form, "page": page, "query": ""})


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's in-app notifications, newest first; opening the page marks none read, each link does."""
    user = acting_user(request)
    if request.method == "POST":
        try:
            notice = services.notification_read(user=user, notification_id=as_uuid(request.POST.get("id")))
        except ServiceError as error:
            return refusal(request, error)
        if notice.request_id is not None:
            name = "helpdesk:my_request" if user.kind == "owner" else "helpdesk:request_detail"
            return redirect(name, request_id=notice.request_id)
        return redirect("helpdesk:notifications")
    page = Paginator(selectors.notification_list(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    return _page(request, "notifications.html", {"page": page, "query": ""})


# ------------------------------------------------------------------------------------------ settings
class DeadlineForm(forms.Form):
    kind_grade = forms.ChoiceField(label=gettext_lazy("Kind and grade"))
    project = forms.ChoiceField(label=gettext_lazy("Project"), required=False)
    respond_minutes = forms.IntegerField(label=gettext_lazy("Accept within (minutes)"), min_value=1)
    attend_minutes = forms.IntegerField(label=gettext_lazy("On site within (minutes)"), min_value=1, required=False)
    close_minutes = forms.IntegerField(label=gettext_lazy("Done within (minutes)"), min_value=1)
    escalate_every_minutes = forms.IntegerField(label=gettext_lazy("Escalate every (minutes)"), min_value=1)


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """Deadlines per kind and grade (the company's defaults and projects' own), and how each department
    takes its requests (assign or grab)."""
    from modules.estate import selectors as estate_selectors

    from .models import COMPLAINT_GRADES, OTHER_GRADES, DispatchMode

    viewer = acting_user(request)
    try:
        rows = list(selectors.deadline_policies(viewer=viewer))
    except ServiceError as error:
        return refusal(request, error)
    may_change = policies.can(viewer, policies.SETTINGS)
    form = DeadlineForm(request.POST if request.POST.get("form") == "deadline" else None)
    _choices(form, "kind_grade").choices = [
        (f"{kind}:{grade}", f"{Kind(kind).label} · {Grade(grade).label}")
        for kind in Kind.values
        for grade in (COMPLAINT_GRADES if kind == Kind.COMPLAINT else OTHER_GRADES)
    ]
    _choices(form, "project").choices = [("", gettext_lazy("Company default"))] + [
        (str(p.pk), p.name) for p in estate_selectors.project_list(viewer=viewer)
    ]
    if request.method == "POST" and may_change:
        try:
            if request.POST.get("form") == "mode":
                department = staff_selectors.department_by_code(request.POST.get("department") or None)
                if department is None:
                    raise NotFound(_("No such department."))
                services.department_mode_set(by=viewer, department=department, mode=request.POST.get("mode", ""))
                messages.success(request, _("Saved."))
                return redirect("helpdesk:settings")
            if form.is_valid():
                data = form.cleaned_data
                kind, grade = data["kind_grade"].split(":")
                project_id = data["project"]
                services.deadline_policy_set(
                    by=viewer, kind=kind, grade=grade,
                    project=estate_selectors.project_get(viewer=viewer, project_id=project_id) if project_id else None,
                    respond_minutes=data["respond_minutes"], attend_minutes=data["attend_minutes"],
                    close_minutes=data["close_minutes"], escalate_every_minutes=data["escalate_every_minutes"],
                )  # fmt: skip
                messages.success(request, _("Saved."))
                return redirect("helpdesk:settings")
        except ServiceError as error:
            if error.http_status == 403:
                return refusal(request, error)
            form_errors_add(form, error)
    modes = services.department_modes()
    departments = [(d, modes.get(d.pk, DispatchMode.ASSIGN)) for d in staff_selectors.departments_active()]
    return _page(
        request,
        "settings.html",
        {"rows": rows, "form": form if may_change else None, "departments": departments, "modes": DispatchMode.choices,
         "may_change": may_change},
    )  # fmt: skip
