"""Portal pages of imports: the list of batches with the upload form and the template and export links,
and a batch's page (status, a progress bar that polls, the problems, undo). Files are downloaded from the
API's URLs, which accept the portal's session."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from wuye.accounts.policies import acting_user
from wuye.core.errors import ServiceError
from wuye.portal.views import refusal

from . import policies, registry, selectors, services, uploads
from .models import ImportStatus
from .spreadsheets import too_big_message

PAGE_SIZE = 30
PROBLEMS_SHOWN = 200


def file_links(kind: registry.ImportKind) -> dict[str, str]:
    return {
        f"{what}_{fmt}": reverse(f"api-import-{what}-{kind.code}-{fmt}")
        for what in ("template", "export")
        for fmt in ("xlsx", "csv")
    }


def _kinds(viewer: Any) -> list[dict[str, Any]]:
    return [
        {"kind": kind, "links": file_links(kind), "columns": kind.columns} for kind in policies.importable_kinds(viewer)
    ]


def _list_page(request: HttpRequest, *, error: str = "", selected: str = "", status: int = 200) -> HttpResponse:
    viewer = acting_user(request)
    batches = selectors.batch_list(viewer=viewer, status=request.GET.get("status", ""))
    page = Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page"))
    labels = {kind.code: kind.label for kind in registry.kinds()}
    rows = [(batch, selectors.batch_state(batch), labels.get(batch.kind, batch.kind)) for batch in page]
    return render(
        request,
        "imports/batch_list.html",
        {
            "page": page,
            "rows": rows,
            "kinds": _kinds(viewer),
            "statuses": ImportStatus.choices,
            "status": request.GET.get("status", ""),
            "error": error,
            "selected": selected or request.GET.get("kind", ""),
            "sees_all": policies.sees_all(viewer),
        },
        status=status,
    )


@login_required
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    try:
        return _list_page(request)
    except ServiceError as error:  # no import permission: the refusal page, as on every module's pages
        return refusal(request, error)


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    viewer = acting_user(request)
    code = request.POST.get("kind", "")
    if uploads.too_big(request):
        return _list_page(request, error=too_big_message(), selected=code, status=413)
    upload = request.FILES.get("file")
    if upload is None:
        return _list_page(request, error=_("Choose a file to upload."), selected=code, status=400)
    if code not in {kind.code for kind in registry.kinds()}:
        return _list_page(request, error=_("Choose what the file holds."), selected=code, status=400)
    try:
        batch = services.batch_create(by=viewer, kind=code, file_name=upload.name or "", data=upload.read())
    except ServiceError as error:
        if error.http_status in (403, 404):
            return refusal(request, error)
        return _list_page(request, error=error.message, selected=code, status=error.http_status)
    if batch.status == ImportStatus.REJECTED:
        messages.error(request, _("Nothing was imported: the file has problems, listed below."))
    else:
        messages.success(request, _("The file is good; its rows are being written."))
    return HttpResponseRedirect(reverse("imports:batch_detail", args=[batch.pk]))


# Exempt only so that the upload handlers can be put in place before the CSRF check reads the body;
# `_upload` applies the CSRF check itself (Django's documented pattern for custom upload handlers).
@csrf_exempt
@login_required
@require_POST
def batch_new(request: HttpRequest) -> HttpResponse:
    if uploads.announced_too_big(request):
        return _list_page(request, error=too_big_message(), status=413)
    uploads.install(request)
    return _upload(request)


@login_required
@require_GET
def batch_detail(request: HttpRequest, batch_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        batch = selectors.batch_get(viewer=viewer, batch_id=batch_id)
    except ServiceError as error:
        return refusal(request, error)
    kind = next((kind for kind in registry.kinds() if kind.code == batch.kind), None)
    problems = [
        {
            "row": problem.row,
            "column": kind.header_for(problem.column) if kind and problem.column else problem.column,
            "value": problem.value,
            "reason": problem.reason,
        }
        for problem in selectors.batch_problems(batch)[:PROBLEMS_SHOWN]
    ]
    may_undo = selectors.may_undo(viewer, batch)
    return render(
        request,
        "imports/batch_detail.html",
        {
            "batch": batch,
            "kind_label": kind.label if kind else batch.kind,
            "state": selectors.batch_state(batch),
            "problems": problems,
            "more_problems": max(0, batch.error_count - len(problems)),
            "may_undo": may_undo,
            "undo_deadline": selectors.undo_deadline(batch) if may_undo else None,
            "report_xlsx": reverse("api-import-report-xlsx", args=[batch.pk]),
            "report_csv": reverse("api-import-report-csv", args=[batch.pk]),
        },
    )


@login_required
@require_GET
def batch_progress(request: HttpRequest, batch_id: str) -> HttpResponse:
    """What the batch page polls: status and progress, a few dozen bytes."""
    try:
        batch = selectors.batch_get(viewer=acting_user(request), batch_id=batch_id)
    except ServiceError as error:
        return JsonResponse({"error": {"code": error.code, "message": error.message}}, status=error.http_status)
    response = JsonResponse(selectors.batch_state(batch).as_dict())
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def batch_undo(request: HttpRequest, batch_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        batch = selectors.batch_get(viewer=viewer, batch_id=batch_id)
        services.batch_undo(by=viewer, batch=batch)
    except ServiceError as error:
        if error.http_status in (403, 404):
            return refusal(request, error)
        messages.error(request, error.message)
    else:
        messages.success(request, _("The import has been undone: what it created is deleted."))
    return HttpResponseRedirect(reverse("imports:batch_detail", args=[batch_id]))
