"""REST API of imports: /api/v1/imports/.

GET  /imports/                               the batches the caller may see
POST /imports/                               multipart (kind, file) -> 201 queued, or 400 with the
                                             rejected batch and its problems
GET  /imports/kinds/                         what can be imported (columns, permission)
GET  /imports/<id>/                          one batch: status, progress, problems
POST /imports/<id>/undo/                     undo a batch, the day it was made
GET  /imports/<id>/report.xlsx | .csv        the problem report
GET  /imports/templates/<kind>.xlsx | .csv   a template with two example rows
GET  /imports/exports/<kind>.xlsx | .csv     the caller's records of that kind, in the same columns
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from wuye.accounts.policies import acting_user
from wuye.core.errors import ServiceError, error_body
from wuye.core.pagination import PageNumberPagination

from . import policies, registry, selectors, services, uploads
from .models import ImportBatch, ImportStatus


# ------------------------------------------------------------------------------------------ output
class ProblemOutput(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number in the spreadsheet; 0 for the file as a whole.")
    column = serializers.CharField(help_text="Column key, or the header found in the file for an unknown column.")
    header = serializers.CharField(help_text="The column's header in the caller's language.")
    value = serializers.CharField()
    reason = serializers.CharField()


class BatchOutput(serializers.ModelSerializer):
    kind_label = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    status_label = serializers.SerializerMethodField()
    rows_done = serializers.SerializerMethodField()
    percent = serializers.SerializerMethodField()
    created_by = serializers.EmailField(source="created_by.email", read_only=True)
    can_undo = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = ImportBatch
        fields = [
            "id", "kind", "kind_label", "file_name", "status", "status_label", "rows_total", "rows_done", "percent",
            "error_count", "created_count", "failure", "created_by", "created_at", "finished_at", "undone_at",
            "can_undo", "links",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._states: dict[Any, selectors.State] = {}

    def _state(self, batch: ImportBatch) -> selectors.State:
        """Status and progress, read once per batch (the progress of a pending batch is in the cache)."""
        if batch.pk not in self._states:
            self._states[batch.pk] = selectors.batch_state(batch)
        return self._states[batch.pk]

    def get_kind_label(self, batch: ImportBatch) -> str:
        kind = next((kind for kind in registry.kinds() if kind.code == batch.kind), None)
        return str(kind.label) if kind else batch.kind

    # Described rather than an enum: the enum would be shared by two components (the list's and the
    # detail's) and collide with the "status" enums of other apps (drf-spectacular names them by field).
    @extend_schema_field(
        serializers.CharField(help_text="One of: " + ", ".join(ImportStatus.values) + ".", read_only=True)
    )
    def get_status(self, batch: ImportBatch) -> str:
        return self._state(batch).status

    def get_status_label(self, batch: ImportBatch) -> str:
        return self._state(batch).label

    def get_rows_done(self, batch: ImportBatch) -> int:
        return self._state(batch).rows_done

    def get_percent(self, batch: ImportBatch) -> int:
        return self._state(batch).percent

    def get_can_undo(self, batch: ImportBatch) -> bool:
        viewer = self.context.get("viewer")
        return viewer is not None and selectors.may_undo(viewer, batch)

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_links(self, batch: ImportBatch) -> dict[str, str]:
        links = {"self": reverse("api-import", args=[batch.pk])}
        if batch.error_count:
            links["report_xlsx"] = reverse("api-import-report-xlsx", args=[batch.pk])
            links["report_csv"] = reverse("api-import-report-csv", args=[batch.pk])
        return links


class BatchDetailOutput(BatchOutput):
    # Not "errors": a serializer's `errors` is its validation result.
    problems = serializers.SerializerMethodField()

    class Meta(BatchOutput.Meta):
        fields = [*BatchOutput.Meta.fields, "problems"]

    @extend_schema_field(ProblemOutput(many=True))
    def get_problems(self, batch: ImportBatch) -> list[dict[str, Any]]:
        """The first API_PROBLEMS_MAX problems; the report has all of them."""
        kind = next((kind for kind in registry.kinds() if kind.code == batch.kind), None)
        return [
            {
                "row": problem.row,
                "column": problem.column,
                "header": kind.header_for(problem.column) if kind and problem.column else problem.column,
                "value": problem.value,
                "reason": problem.reason,
            }
            for problem in selectors.batch_problems(batch)[:API_PROBLEMS_MAX]
        ]


API_PROBLEMS_MAX = 500


def _detail(batch: ImportBatch, request: Request) -> dict[str, Any]:
    return dict(BatchDetailOutput(batch, context={"viewer": acting_user(request)}).data)


RejectedOutput = inline_serializer(
    "ImportRejected",
    {
        "error": inline_serializer(
            "ImportRejectedError", {"code": serializers.CharField(), "message": serializers.CharField()}
        ),
        "batch": BatchDetailOutput(),
    },
)
_FILE = OpenApiResponse(OpenApiTypes.BINARY, description="An .xlsx workbook or a UTF-8 CSV file (with BOM).")


# ------------------------------------------------------------------------------------------ views
class ImportListApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class ImportUploadInput(serializers.Serializer):
        kind = serializers.CharField(max_length=40, help_text="An import kind's code (GET /api/v1/imports/kinds/).")
        file = serializers.FileField(
            allow_empty_file=True, help_text="An .xlsx or .csv file (at most 20 MB and 50,000 rows)."
        )

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> Request:
        if request.method == "POST":
            uploads.install(request)  # before anything parses the body
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method == "POST" and uploads.announced_too_big(request._request):
            raise services.FileTooBig(_too_big())

    @extend_schema(
        tags=["imports"],
        summary="Imports the caller may see (their own; a company administrator's: all)",
        parameters=[
            OpenApiParameter("status", str, enum=ImportStatus.values),
            OpenApiParameter("kind", str),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=BatchOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        viewer = acting_user(request)
        batches = selectors.batch_list(
            viewer=viewer, status=request.query_params.get("status", ""), kind=request.query_params.get("kind", "")
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(batches, request, view=self)
        return paginator.get_paginated_response(BatchOutput(page, many=True, context={"viewer": viewer}).data)

    @extend_schema(
        tags=["imports"],
        summary="Upload a file to import: checked at once, written by a background task",
        request={"multipart/form-data": ImportUploadInput},
        responses={
            201: BatchDetailOutput,
            400: OpenApiResponse(RejectedOutput, description="A row or the file is bad: nothing is written."),
            413: OpenApiResponse(description="The file is too big to be read."),
        },
    )
    def post(self, request: Request) -> Response:
        viewer = acting_user(request)
        body = request.data  # parsed here, through the bounded upload handler
        if uploads.too_big(request):
            raise services.FileTooBig(_too_big())
        data = self.ImportUploadInput(data=body)
        data.is_valid(raise_exception=True)
        code = data.validated_data["kind"]
        if code not in {kind.code for kind in registry.kinds()}:
            raise ServiceError(_("There is no such kind of import: %(kind)s") % {"kind": code}, field="kind")
        upload = data.validated_data["file"]
        batch = services.batch_create(by=viewer, kind=code, file_name=upload.name or "", data=upload.read())
        if batch.status == ImportStatus.REJECTED:
            body = error_body("import_rejected", _rejected_message(batch))
            body["batch"] = _detail(batch, request)
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(_detail(batch, request), status=status.HTTP_201_CREATED)


def _too_big() -> str:
    from .spreadsheets import too_big_message

    return too_big_message()


def _rejected_message(batch: ImportBatch) -> str:
    return _("Nothing was imported: %(count)s problems were found. Correct them and upload the file again.") % {
        "count": batch.error_count
    }


class KindListApi(APIView):
    @extend_schema(
        tags=["imports"],
        summary="What can be imported, with the columns of each kind",
        responses=inline_serializer(
            "ImportKind",
            {
                "code": serializers.CharField(),
                "label": serializers.CharField(),
                "may_import": serializers.BooleanField(),
                "columns": inline_serializer(
                    "ImportColumn",
                    {
                        "key": serializers.CharField(),
                        "header_zh": serializers.CharField(),
                        "header_en": serializers.CharField(),
                        "required": serializers.BooleanField(),
                        "help": serializers.CharField(),
                    },
                    many=True,
                ),
            },
            many=True,
        ),
    )
    def get(self, request: Request) -> Response:
        viewer = acting_user(request)
        return Response(
            [
                {
                    "code": kind.code,
                    "label": str(kind.label),
                    "may_import": policies.can_import(viewer, kind),
                    "columns": [
                        {
                            "key": column.key,
                            "header_zh": column.header_zh,
                            "header_en": column.header_en,
                            "required": column.required,
                            "help": str(column.help),
                        }
                        for column in kind.columns
                    ],
                }
                for kind in registry.kinds()
            ]
        )


class BatchDetailApi(APIView):
    @extend_schema(tags=["imports"], summary="One import: status, progress and problems", responses=BatchDetailOutput)
    def get(self, request: Request, batch_id: Any) -> Response:
        batch = selectors.batch_get(viewer=acting_user(request), batch_id=batch_id)
        return Response(_detail(batch, request))


class BatchUndoApi(APIView):
    @extend_schema(
        tags=["imports"],
        summary="Undo an import: delete everything it created (the same day, while nothing refers to it)",
        request=None,
        responses=BatchDetailOutput,
    )
    def post(self, request: Request, batch_id: Any) -> Response:
        viewer = acting_user(request)
        batch = services.batch_undo(by=viewer, batch=selectors.batch_get(viewer=viewer, batch_id=batch_id))
        return Response(_detail(batch, request))


def file_response(content: bytes, fmt: str, name: str) -> HttpResponse:
    from . import spreadsheets

    response = HttpResponse(content, content_type=spreadsheets.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(name)}"
    response["Cache-Control"] = "private, no-store"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


class _FileApi(APIView):
    fmt: ClassVar[str] = "xlsx"
    kind: ClassVar[str] = ""


class BatchReportApi(_FileApi):
    @extend_schema(tags=["imports"], summary="The problem report of an import", responses={200: _FILE})
    def get(self, request: Request, batch_id: Any) -> HttpResponse:
        batch = selectors.batch_get(viewer=acting_user(request), batch_id=batch_id)
        if not batch.error_count:
            raise ServiceError(_("This import has no problems to report."), code="no_report")
        content = selectors.render([selectors.report_table(batch)], self.fmt)
        stem = f"{batch.file_name.rsplit('.', 1)[0]}-{_('problems')}"
        return file_response(content, self.fmt, f"{stem}.{self.fmt}")


class TemplateApi(_FileApi):
    @extend_schema(tags=["imports"], summary="A template to fill in, with two example rows", responses={200: _FILE})
    def get(self, request: Request) -> HttpResponse:
        acting_user(request)
        kind = registry.kind_get(self.kind)
        content = selectors.render(selectors.template_tables(kind), self.fmt)
        return file_response(content, self.fmt, f"{kind.label}-{_('template')}.{self.fmt}")


class ExportApi(_FileApi):
    @extend_schema(
        tags=["imports"], summary="The caller's records of this kind, as an import file", responses={200: _FILE}
    )
    def get(self, request: Request) -> HttpResponse:
        viewer = acting_user(request)
        kind = registry.kind_get(self.kind)
        content = selectors.render([selectors.export_table(kind, viewer=viewer)], self.fmt)
        return file_response(content, self.fmt, selectors.file_name(str(kind.label), self.fmt))
