from django.urls import path

from . import api, registry

urlpatterns = [
    path("", api.ImportListApi.as_view(), name="api-imports"),
    path("kinds/", api.KindListApi.as_view(), name="api-import-kinds"),
    path("<uuid:batch_id>/", api.BatchDetailApi.as_view(), name="api-import"),
    path("<uuid:batch_id>/undo/", api.BatchUndoApi.as_view(), name="api-import-undo"),
    path("<uuid:batch_id>/report.xlsx", api.BatchReportApi.as_view(fmt="xlsx"), name="api-import-report-xlsx"),
    path("<uuid:batch_id>/report.csv", api.BatchReportApi.as_view(fmt="csv"), name="api-import-report-csv"),
]
# A path per kind and format rather than a <kind> in the URL: a kind is part of the code, not a record of
# the company (the isolation tests make an object for every keyword a URL names). Modules register their
# kinds in AppConfig.ready(), before the URLs are loaded.
for _kind in registry.kinds():
    for _fmt in ("xlsx", "csv"):
        urlpatterns += [
            path(
                f"templates/{_kind.code}.{_fmt}",
                api.TemplateApi.as_view(kind=_kind.code, fmt=_fmt),
                name=f"api-import-template-{_kind.code}-{_fmt}",
            ),
            path(
                f"exports/{_kind.code}.{_fmt}",
                api.ExportApi.as_view(kind=_kind.code, fmt=_fmt),
                name=f"api-import-export-{_kind.code}-{_fmt}",
            ),
        ]
