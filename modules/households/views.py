"""Portal pages of households: the people on file, a person's record, a unit's household file (一户一档)
with its actions (ownership, transfer, move-in, move-out, vehicles), and the owner portal (/my/)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from modules.estate import selectors as estate_selectors
from wuye.accounts.policies import acting_user
from wuye.core.errors import NotFound, PolicyDenied, ServiceError
from wuye.core.idnumbers import IdType
from wuye.portal.views import form_errors_add, message_page, refusal

from . import policies, selectors, services
from .models import ContactChannel, Person, Relation

PAGE_SIZE = 50


class PersonForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    id_type = forms.ChoiceField(label=gettext_lazy("ID type"), choices=[("", "—"), *IdType.choices], required=False)
    id_number = forms.CharField(label=gettext_lazy("ID number"), max_length=40, required=False)
    contact_channel = forms.ChoiceField(label=gettext_lazy("Preferred contact"), choices=ContactChannel.choices)
    accepts_notices = forms.BooleanField(label=gettext_lazy("Receives notices"), required=False, initial=True)
    emergency_contact = forms.CharField(label=gettext_lazy("Emergency contact"), max_length=200, required=False)
    notes = forms.CharField(label=gettext_lazy("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    viewer = acting_user(request)
    try:
        people = selectors.person_list(
            viewer=viewer, search=request.GET.get("q", ""), project=request.GET.get("project") or None
        )
        projects = estate_selectors.project_list(viewer=viewer)
    except ServiceError as error:
        return refusal(request, error)
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "households/person_list.html",
        {
            "page": page,
            "rows": [(person, selectors.id_number_shown(viewer=viewer, person=person)) for person in page],
            "projects": projects,
            "q": request.GET.get("q", ""),
            "project": request.GET.get("project", ""),
            "query": query.urlencode(),
            "can_add": policies.can(viewer, "add", "person"),
        },
    )


@login_required
def person_detail(request: HttpRequest, person_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        person = selectors.person_get(viewer=viewer, person_id=person_id)
    except ServiceError as error:
        return refusal(request, error)
    return render(
        request,
        "households/person_detail.html",
        {
            "person": person,
            "id_number": selectors.id_number_shown(viewer=viewer, person=person),
            "id_type": services.id_type_label(person.id_type) if person.id_type else "",
            "ownerships": person.ownerships.select_related("unit__building").order_by("-starts_on"),
            "occupancies": person.occupancies.select_related("unit__building").order_by("-moved_in_on"),
            "vehicles": person.vehicles.filter(removed_at__isnull=True),
            "can_change": policies.can(viewer, "change", "person"),
            "can_invite": policies.can_invite_owners(viewer) and person.user_id is None,
        },
    )


@login_required
def person_edit(request: HttpRequest, person_id: str | None = None) -> HttpResponse:
    viewer = acting_user(request)
    try:
        person = selectors.person_get(viewer=viewer, person_id=person_id) if person_id else None
        if not policies.can(viewer, "change" if person else "add", "person"):
            raise PolicyDenied(_("You do not have permission to do this."))
    except ServiceError as error:
        return refusal(request, error)
    initial: dict[str, Any] = {}
    if person is not None:
        initial = {name: getattr(person, name) for name in PersonForm.base_fields if name != "id_number"}
        # The number is only shown (and so only editable) in full to those allowed to see it.
        initial["id_number"] = selectors.id_number_shown(viewer=viewer, person=person)
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        if person is not None and values["id_number"] == person.id_number_hint and person.id_number_hint:
            # The masked number came back unchanged: keep the stored document.
            values.pop("id_number")
            if values.get("id_type") == person.id_type:
                values.pop("id_type")
        try:
            if person is None:
                person = services.person_create(by=viewer, **values)
            else:
                person = services.person_update(by=viewer, person=person, **values)
        except ServiceError as error:
            form_errors_add(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("households:person_detail", person_id=person.pk)
    return render(request, "households/person_form.html", {"form": form, "person": person})


@login_required
@require_POST
def person_invite(request: HttpRequest, person_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        person = selectors.person_get(viewer=viewer, person_id=person_id)
        services.owner_invite(by=viewer, person=person, channel=request.POST.get("channel", "email"))
    except ServiceError as error:
        if error.http_status in (403, 404):
            return refusal(request, error)
        messages.error(request, error.message)
    else:
        messages.success(request, _("Invitation sent."))
    return redirect("households:person_detail", person_id=person_id)


@login_required
def household_file(request: HttpRequest, unit_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        file = selectors.household_file(viewer=viewer, unit_id=unit_id)
    except ServiceError as error:
        return refusal(request, error)
    return render(
        request,
        "households/household_file.html",
        {
            **file,
            "today": timezone.localdate(),
            "relations": Relation.choices,
            "can_own": policies.can(viewer, "add", "ownership") and policies.can(viewer, "change", "ownership"),
            "can_occupy": policies.can(viewer, "add", "occupancy"),
            "people": selectors.person_list(viewer=viewer)[:500],
        },
    )


class _OwnershipForm(forms.Form):
    person = forms.UUIDField()
    share = forms.DecimalField(max_digits=5, decimal_places=2, initial=100)
    on = forms.DateField()
    certificate_number = forms.CharField(max_length=60, required=False)


class _MoveInForm(forms.Form):
    person = forms.UUIDField()
    relation = forms.ChoiceField(choices=Relation.choices)
    on = forms.DateField()


class _OnForm(forms.Form):
    record = forms.UUIDField()
    on = forms.DateField()


def _run_action(viewer: Any, unit: Any, action: str, data: Any) -> str:
    """One action of the household file page; returns what to tell the person."""
    if action in ("add-owner", "transfer"):
        form = _OwnershipForm(data)
        if not form.is_valid():
            raise ServiceError(_("Fill in the person, the share and the date."), code="invalid")
        person = selectors.person_get(viewer=viewer, person_id=form.cleaned_data["person"])
        values = form.cleaned_data
        if action == "transfer":
            services.ownership_transfer(
                by=viewer,
                unit=unit,
                on=values["on"],
                owners=[(person, values["share"])],
                certificate_number=values["certificate_number"],
            )
            return _("Transferred.")
        services.ownership_add(
            by=viewer,
            unit=unit,
            person=person,
            share=values["share"],
            starts_on=values["on"],
            certificate_number=values["certificate_number"],
        )
        return _("Owner recorded.")
    if action == "move-in":
        move_in = _MoveInForm(data)
        if not move_in.is_valid():
            raise ServiceError(_("Fill in the person, the relation and the date."), code="invalid")
        person = selectors.person_get(viewer=viewer, person_id=move_in.cleaned_data["person"])
        services.occupancy_move_in(
            by=viewer,
            unit=unit,
            person=person,
            on=move_in.cleaned_data["on"],
            relation=move_in.cleaned_data["relation"],
        )
        return _("Move-in recorded.")
    if action in ("move-out", "end-ownership"):
        dated = _OnForm(data)
        if not dated.is_valid():
            raise ServiceError(_("Give the date."), code="invalid")
        # The record must be one of this unit's: the page acts on the unit in its address.
        if action == "move-out":
            occupancy = selectors.occupancy_get(viewer=viewer, occupancy_id=dated.cleaned_data["record"])
            if occupancy.unit_id != unit.pk:
                raise NotFound(_("No such occupancy."))
            services.occupancy_move_out(by=viewer, occupancy=occupancy, on=dated.cleaned_data["on"])
            return _("Move-out recorded.")
        ownership = selectors.ownership_get(viewer=viewer, ownership_id=dated.cleaned_data["record"])
        if ownership.unit_id != unit.pk:
            raise NotFound(_("No such ownership."))
        services.ownership_end(by=viewer, ownership=ownership, on=dated.cleaned_data["on"])
        return _("Ownership ended.")
    raise ServiceError(_("Unknown action."), code="unknown_action")


@login_required
@require_POST
def household_action(request: HttpRequest, unit_id: str, action: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        unit = estate_selectors.unit_get(viewer=viewer, unit_id=unit_id)
        done = _run_action(viewer, unit, action, request.POST)
    except ServiceError as error:
        if error.http_status in (403, 404):
            return refusal(request, error)
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("households:household_file", unit_id=unit_id)


class OwnerContactForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=32, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    contact_channel = forms.ChoiceField(label=gettext_lazy("Preferred contact"), choices=ContactChannel.choices)
    accepts_notices = forms.BooleanField(label=gettext_lazy("Receives notices"), required=False)
    emergency_contact = forms.CharField(label=gettext_lazy("Emergency contact"), max_length=200, required=False)


@login_required
def owner_home(request: HttpRequest) -> HttpResponse:
    """The owner portal: my units, the people living in them, my contact details."""
    home = selectors.owner_home(user=request.user)
    if home is None:
        return message_page(
            request, _("Owner portal"), _("No household is linked to this account. Ask the front desk."), status=404
        )
    person: Person = home["person"]
    form = OwnerContactForm(
        request.POST or None,
        initial={name: getattr(person, name) for name in OwnerContactForm.base_fields},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.owner_contact_update(person=person, **form.cleaned_data)
        except ServiceError as error:
            form_errors_add(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("households:owner_home")
    return render(request, "households/owner_home.html", {**home, "form": form})
