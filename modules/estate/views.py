"""Portal pages of the estate: one list page and one form page serve every kind of record, configured by
`PAGES` (columns, filters); projects have their own overview page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.forms.models import fields_for_model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from wuye.accounts.policies import acting_user
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.portal.views import form_errors_add, message_page, refusal

from . import policies, selectors, services
from .api import RESOURCES
from .models import Archivable, Building, Project, Unit, Zone


@dataclass(frozen=True)
class Page:
    columns: tuple[tuple[str, Any], ...]  # (attribute path, heading)
    choice_filters: tuple[str, ...] = ()  # model fields with choices offered as filters


PAGES: dict[str, Page] = {
    "projects": Page(
        (
            ("name", pgettext_lazy("a record", "Name")),
            ("code", gettext_lazy("Code")),
            ("address", pgettext_lazy("a place", "Address")),
            ("total_floor_area", gettext_lazy("Floor area (m²)")),
        )
    ),
    "zones": Page(
        (
            ("name", pgettext_lazy("a record", "Name")),
            ("project", gettext_lazy("Project")),
            ("managers", gettext_lazy("Zone customer managers")),
        )
    ),
    "buildings": Page(
        (
            ("name", pgettext_lazy("a record", "Name")),
            ("project", gettext_lazy("Project")),
            ("zone", gettext_lazy("Zone")),
            ("floors_above", gettext_lazy("Floors")),
        )
    ),
    "units": Page(
        (
            ("number", gettext_lazy("Number")),
            ("building", gettext_lazy("Building")),
            ("floor", gettext_lazy("Floor")),
            ("get_kind_display", gettext_lazy("Kind")),
            ("floor_area", gettext_lazy("Floor area (m²)")),
            ("get_status_display", gettext_lazy("Status")),
        ),
        ("kind", "status"),
    ),
    "parking-spaces": Page(
        (
            ("number", gettext_lazy("Number")),
            ("project", gettext_lazy("Project")),
            ("get_kind_display", gettext_lazy("Kind")),
            ("location", gettext_lazy("Location")),
            ("get_status_display", gettext_lazy("Status")),
        ),
        ("kind", "status"),
    ),
    "meters": Page(
        (
            ("serial", gettext_lazy("Serial number")),
            ("get_kind_display", gettext_lazy("Kind")),
            ("unit", gettext_lazy("Unit")),
            ("multiplier", gettext_lazy("Multiplier")),
            ("location", gettext_lazy("Location")),
        ),
        ("kind",),
    ),
    "facilities": Page(
        (
            ("name", pgettext_lazy("a record", "Name")),
            ("get_kind_display", gettext_lazy("Kind")),
            ("project", gettext_lazy("Project")),
            ("location", gettext_lazy("Location")),
            ("get_status_display", gettext_lazy("Status")),
        ),
        ("kind", "status"),
    ),
}
PAGE_SIZE = 50


def _value(record: Any, path: str) -> Any:
    value = getattr(record, path)
    return value() if callable(value) else value


def _kind_or_404(request: HttpRequest, kind: str) -> tuple[Any, Page] | HttpResponse:
    if kind not in RESOURCES:
        return message_page(request, _("Not found"), _("There is no such page."), status=404)
    return RESOURCES[kind], PAGES[kind]


def _scope_choices(viewer: Any, model: Any) -> list[tuple[str, str]]:
    return [(str(record.pk), str(record)) for record in selectors.records(model, viewer=viewer)]


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    return record_list(request, "projects")


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    return record_list(request, "units")


@login_required
def record_list(request: HttpRequest, kind: str) -> HttpResponse:
    found = _kind_or_404(request, kind)
    if isinstance(found, HttpResponse):
        return found
    resource, page = found
    viewer = acting_user(request)
    model = resource.model
    params = request.GET
    try:
        rows = selectors.records(
            model,
            viewer=viewer,
            search=params.get("q", ""),
            archived=params.get("archived", ""),
            filters={name: params.get(name) for name in selectors.FILTERS[model]},
        )
    except ServiceError as error:
        return refusal(request, error)
    paginator = Paginator(rows, PAGE_SIZE)
    current = paginator.get_page(params.get("page"))
    filters: list[tuple[str, Any, list[tuple[str, str]], str]] = []
    for name in ("project", "zone", "building"):
        if name in selectors.FILTERS[model]:
            parent = {"project": Project, "zone": Zone, "building": Building}[name]
            filters.append((name, parent._meta.verbose_name, _scope_choices(viewer, parent), params.get(name, "")))
    for name in page.choice_filters:
        field = model._meta.get_field(name)
        filters.append(
            (name, field.verbose_name, [(str(k), str(v)) for k, v in field.choices or []], params.get(name, ""))
        )
    entity = model._meta.model_name or ""
    records = list(current)
    if model is Zone:
        # Not a field of the zone: its managers, from the staff module, for the page's zones at once.
        managers = selectors.zone_managers([zone.pk for zone in records])
        for zone in records:
            zone.managers = "、".join(managers.get(zone.pk, [])) or None
    return render(
        request,
        "estate/record_list.html",
        {
            "kind": kind,
            "title": model._meta.verbose_name_plural,
            "headings": [heading for _path, heading in page.columns],
            "rows": [(record, [_value(record, path) for path, _heading in page.columns]) for record in records],
            "page": current,
            "filters": filters,
            "q": params.get("q", ""),
            "archived": params.get("archived", ""),
            "can_add": policies.can(viewer, "add", entity),
            "query": _without_page(params),
        },
    )


def _without_page(params: Any) -> str:
    copy = params.copy()
    copy.pop("page", None)
    return str(copy.urlencode())


@login_required
def project_detail(request: HttpRequest, project_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        project = selectors.project_get(viewer=viewer, project_id=project_id)
    except ServiceError as error:
        return refusal(request, error)
    return render(
        request,
        "estate/project_detail.html",
        {
            "project": project,
            "summary": selectors.project_summary(viewer=viewer, project=project),
            "kinds": [
                (kind, RESOURCES[kind].model._meta.verbose_name_plural) for kind in RESOURCES if kind != "projects"
            ],
            "can_change": policies.can(viewer, "change", "project"),
        },
    )


def _form_class(viewer: Any, model: type[Archivable], *, creating: bool) -> type[forms.Form]:
    """A form of the record's editable fields (plus its project when created), built from the model
    fields; the choices of parent records are limited to the viewer's scope."""
    names = services.fields_for(model, creating=creating)
    declared = fields_for_model(model, fields=names)
    for name, parent in (("project", Project), ("zone", Zone), ("building", Building), ("unit", Unit)):
        if name in declared:
            declared[name] = forms.ModelChoiceField(
                queryset=selectors.records(parent, viewer=viewer),
                required=declared[name].required,
                label=declared[name].label,
            )
    return type(f"{model.__name__}Form", (forms.Form,), dict(declared))


@login_required
def record_edit(request: HttpRequest, kind: str, record_id: str | None = None) -> HttpResponse:
    found = _kind_or_404(request, kind)
    if isinstance(found, HttpResponse):
        return found
    resource, _page = found
    viewer = acting_user(request)
    model = resource.model
    try:
        record = selectors.record_get(model, viewer=viewer, record_id=record_id) if record_id else None
        if not policies.can(viewer, "change" if record else "add", model._meta.model_name or ""):
            raise PolicyDenied(_("You do not have permission to do this."))
    except ServiceError as error:
        return refusal(request, error)
    form_class = _form_class(viewer, model, creating=record is None)
    initial = {name: getattr(record, name) for name in form_class.base_fields} if record else dict(request.GET.items())
    form = form_class(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if record is None:
                record = resource.create(by=viewer, **form.cleaned_data)
                messages.success(request, _("Saved."))
            else:
                changed = {name: form.cleaned_data[name] for name in form.changed_data}
                record = resource.update(by=viewer, **{resource.keyword: record}, **changed)
                messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("estate:record_list", args=[kind]))
        except ServiceError as error:
            form_errors_add(form, error)
    return render(
        request,
        "estate/record_form.html",
        {"form": form, "record": record, "kind": kind, "title": model._meta.verbose_name, "resource": resource},
    )


@login_required
@require_POST
def record_action(request: HttpRequest, kind: str, record_id: str, action: str) -> HttpResponse:
    found = _kind_or_404(request, kind)
    if isinstance(found, HttpResponse):
        return found
    resource, _page = found
    run = {"archive": resource.archive, "restore": resource.restore, "delete": resource.delete}.get(action)
    if run is None:
        return message_page(request, _("Not found"), _("Unknown action."), status=404)
    viewer = acting_user(request)
    try:
        record = selectors.record_get(resource.model, viewer=viewer, record_id=record_id)
        run(by=viewer, **{resource.keyword: record})
    except ServiceError as error:
        if error.http_status in (403, 404):
            return refusal(request, error)
        messages.error(request, error.message)
        return HttpResponseRedirect(reverse("estate:record_edit", args=[kind, record_id]))
    done = {"archive": _("Archived."), "restore": _("Restored."), "delete": _("Deleted.")}[action]
    messages.success(request, done)
    return HttpResponseRedirect(reverse("estate:record_list", args=[kind]))
