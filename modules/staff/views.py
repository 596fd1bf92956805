from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from modules.estate import selectors as estate_selectors
from modules.estate.models import Project, Zone
from wuye.accounts import selectors as account_selectors
from wuye.accounts.policies import acting_user
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.portal.views import form_errors_add, refusal

from . import policies, selectors, services
from .models import Department, Position


@login_required
def department_list(request: HttpRequest) -> HttpResponse:
    try:
        departments = selectors.department_list(viewer=acting_user(request))
    except PolicyDenied as exc:
        return refusal(request, exc)
    leaders = selectors.team_leaders(viewer=acting_user(request)) if policies.can_view_members(request.user) else {}
    return render(
        request,
        "staff/department_list.html",
        {"departments": [(department, leaders.get(department.pk, [])) for department in departments]},
    )


class PlacementForm(forms.Form):
    position = forms.ModelChoiceField(label=_("Position"), queryset=Position.objects.none(), required=False)
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        help_text=_("Leave empty to take the position's department."),
    )
    project = forms.ModelChoiceField(
        label=_("Project"), queryset=Project.objects.none(), required=False, help_text=_("Empty: company level.")
    )
    zones = forms.ModelMultipleChoiceField(
        label=_("Zones (zone customer managers)"),
        queryset=Zone.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_team_leader = forms.BooleanField(label=_("Team leader"), required=False)
    employee_number = forms.CharField(label=_("Employee number"), max_length=30, required=False)

    def __init__(self, *args: Any, viewer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["position"].queryset = Position.objects.select_related("department")  # type: ignore[attr-defined]
        self.fields["department"].queryset = Department.objects.all()  # type: ignore[attr-defined]
        self.fields["project"].queryset = estate_selectors.project_list(viewer=viewer)  # type: ignore[attr-defined]
        self.fields["zones"].queryset = estate_selectors.records(Zone, viewer=viewer)  # type: ignore[attr-defined]
        self.fields["zones"].label_from_instance = lambda zone: f"{zone.project} · {zone}"  # type: ignore[attr-defined]


@login_required
def member_list(request: HttpRequest) -> HttpResponse:
    viewer = acting_user(request)
    try:
        members = selectors.member_list(viewer=viewer, project_id=request.GET.get("project") or None)
        staff = account_selectors.staff_list(viewer=viewer)
    except ServiceError as exc:
        return refusal(request, exc)
    placed = {member.user_id for member in members}
    return render(
        request,
        "staff/member_list.html",
        {
            "members": members,
            "unplaced": [user for user in staff if user.pk not in placed and user.is_active],
            "can_place": policies.can_place_staff(viewer),
        },
    )


@login_required
def member_edit(request: HttpRequest, user_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        user = account_selectors.staff_get(viewer=viewer, user_id=user_id)
        member = selectors.staff_member_of(user)
        if not policies.can_place_staff(viewer):
            raise PolicyDenied(_("You do not have permission to do this."))
    except ServiceError as exc:
        return refusal(request, exc)
    initial: dict[str, Any] = {}
    if member is not None:
        initial = {
            "position": member.position,
            "department": member.department,
            "project": member.project,
            "zones": [assignment.zone for assignment in member.zone_assignments.all()],
            "is_team_leader": member.is_team_leader,
            "employee_number": member.employee_number,
        }
    form = PlacementForm(request.POST or None, initial=initial, viewer=viewer)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_member_set(by=viewer, user=user, **form.cleaned_data)
        except ServiceError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("staff:member_list")
    return render(request, "staff/member_form.html", {"form": form, "person": user})
