"""Reads of imports: the batches a user may see, a batch's state and progress, and the files people
download (the problem report, the templates, the exports), rendered on request, never stored."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from wuye.core.errors import NotFound, PolicyDenied
from wuye.core.ids import as_uuid
from wuye.core.policies import allowed
from wuye.core.tenancy import current_tenant

from . import policies, registry, spreadsheets
from .models import PENDING, ImportBatch, ImportStatus
from .progress import progress_get
from .registry import Problem


def batch_list(*, viewer: Any, status: str = "", kind: str = "") -> QuerySet[ImportBatch]:
    """The viewer's own batches, or the company's for those who see all; newest first. The rows waiting
    to be written and the problems are left out: a list needs neither."""
    if not (policies.sees_all(viewer) or allowed(viewer, policies.USE_IMPORTS)):
        raise PolicyDenied(_("You do not have permission to do this."))
    batches = ImportBatch.objects.select_related("created_by").defer("rows", "errors", "created_records")
    if not policies.sees_all(viewer):
        batches = batches.filter(created_by_id=getattr(viewer, "pk", None))
    if status in ImportStatus.values:
        batches = batches.filter(status=status)
    if kind:
        batches = batches.filter(kind=kind)
    return batches.order_by("-created_at", "-id")


def batch_get(*, viewer: Any, batch_id: Any) -> ImportBatch:
    """One batch the viewer may see; NotFound otherwise (another's batch does not exist for them)."""
    pk = as_uuid(batch_id)
    batches = ImportBatch.objects.select_related("created_by", "undone_by").defer("rows")
    if not policies.sees_all(viewer):
        batches = batches.filter(created_by_id=getattr(viewer, "pk", None))
    batch = batches.filter(pk=pk).first() if pk else None
    if batch is None:
        raise NotFound(_("No such import."))
    return batch


@dataclass(frozen=True)
class State:
    status: str
    rows_total: int
    rows_done: int
    finished: bool

    @property
    def percent(self) -> int:
        if self.rows_total == 0:
            return 100 if self.finished else 0
        return min(100, self.rows_done * 100 // self.rows_total)

    @property
    def label(self) -> str:
        return str(ImportStatus(self.status).label) if self.status in ImportStatus.values else self.status

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "status_label": self.label,
            "rows_total": self.rows_total,
            "rows_done": self.rows_done,
            "percent": self.percent,
            "finished": self.finished,
        }


def batch_state(batch: ImportBatch) -> State:
    """Status and progress. While the batch is pending, its row cannot know (the writing transaction has
    not committed): the cache, written by the task as it goes, does."""
    if batch.status in PENDING:
        live = progress_get(batch.pk)
        if live is not None and live.get("status") in (*PENDING, ImportStatus.CHECKING):
            return State(str(live["status"]), batch.rows_total, int(live.get("done") or 0), finished=False)
        return State(batch.status, batch.rows_total, 0, finished=False)
    return State(batch.status, batch.rows_total, batch.rows_done, finished=True)


def batch_problems(batch: ImportBatch) -> list[Problem]:
    return [Problem.from_list(item) for item in batch.errors or []]


def company_zone() -> dt.tzinfo:
    """The company's time zone (the tenant's field); the active one where no company is attached."""
    name = getattr(current_tenant(), "timezone", None)
    if name:
        try:
            return zoneinfo.ZoneInfo(str(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_current_timezone()


def undo_deadline(batch: ImportBatch) -> dt.datetime | None:
    """The end of the company's day on which the batch was written: undo is possible until then."""
    if batch.finished_at is None:
        return None
    zone = company_zone()
    day = timezone.localtime(batch.finished_at, zone).date()
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)


def undo_refusal(batch: ImportBatch) -> str | None:
    """Why the batch cannot be undone now, as far as its state and the clock tell (not its records)."""
    if batch.status == ImportStatus.UNDONE:
        return _("This import has already been undone.")
    if batch.status != ImportStatus.DONE:
        return _("Only a finished import can be undone.")
    deadline = undo_deadline(batch)
    if deadline is None or timezone.now() >= deadline:
        return _("An import can be undone only on the day it was made; this one's day is over.")
    return None


def may_undo(viewer: Any, batch: ImportBatch) -> bool:
    """Whether to offer undo: the state, the clock and the viewer allow it (the records may still say no)."""
    return policies.can_undo(viewer, batch) and undo_refusal(batch) is None


# ------------------------------------------------------------------------------------------ files
def report_table(batch: ImportBatch, language: str | None = None) -> spreadsheets.Table:
    """The problem report: one line per problem, with the row, the column (as headed in the language of
    the report), the value found and the reason."""
    language = language or get_language()
    kind = registry.kind_find(batch.kind)

    def column(key: str) -> str:
        return kind.header_for(key, language) if kind is not None and key else key

    rows: list[list[Any]] = [
        [problem.row or "", column(problem.column), problem.value, problem.reason] for problem in batch_problems(batch)
    ]
    if batch.error_count > len(rows):
        rows.append(["", "", "", _("… and %(count)s more problems.") % {"count": batch.error_count - len(rows)}])
    return spreadsheets.Table(
        title=_("Problems"),
        headers=[_("Row"), _("Column"), _("Value"), _("Reason")],
        rows=rows,
        widths=(8, 20, 24, 80),
    )


def _text_columns(kind: registry.ImportKind) -> frozenset[int]:
    # Every column is kept as text: Excel would otherwise turn 0101 into 101 and 1-1 into a date.
    return frozenset(range(len(kind.columns)))


def template_tables(kind: registry.ImportKind, language: str | None = None) -> list[spreadsheets.Table]:
    """A template: the headers in the language asked for, two example rows, and a sheet that explains
    each column."""
    language = language or get_language()
    examples = [[column.example(index, language) for column in kind.columns] for index in range(2)]
    explained = [
        [column.header(language), _("required") if column.required else _("optional"), str(column.help)]
        for column in kind.columns
    ]
    return [
        spreadsheets.Table(
            title=str(kind.label),
            headers=kind.headers(language),
            rows=examples,
            text_columns=_text_columns(kind),
            widths=[max(12, len(header) * 2 + 2) for header in kind.headers(language)],
        ),
        spreadsheets.Table(
            title=_("Instructions"),
            headers=[_("Column"), _("Required"), _("What to enter")],
            rows=explained,
            widths=(24, 10, 90),
        ),
    ]


def export_table(kind: registry.ImportKind, *, viewer: Any, language: str | None = None) -> spreadsheets.Table:
    """The records the viewer may see, in the kind's columns: an export can be imported again."""
    language = language or get_language()
    keys = [column.key for column in kind.columns]
    # Read in full before a file is begun: a refusal or a database error cannot leave half a workbook.
    rows = [[row.get(key, "") for key in keys] for row in kind.export(viewer)]
    return spreadsheets.Table(
        title=str(kind.label),
        headers=kind.headers(language),
        rows=rows,
        text_columns=_text_columns(kind),
        widths=[max(12, len(header) * 2 + 2) for header in kind.headers(language)],
    )


def file_name(stem: str, fmt: str) -> str:
    return f"{stem}-{timezone.localdate():%Y%m%d}.{fmt}"


def render(tables: list[spreadsheets.Table], fmt: str) -> bytes:
    return spreadsheets.xlsx_bytes(tables) if fmt == "xlsx" else spreadsheets.csv_bytes(tables[0])
