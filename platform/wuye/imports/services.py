"""Writes of imports: upload (read + check), write (the task), undo.

batch_create  reads the file, maps its headers to the kind's columns, checks every row (the kind's
              check, in memory). Any problem: the batch is stored "rejected" with the problems and
              nothing else happens. None: the batch is stored "queued" with its rows, and the task is
              queued once that commits.
batch_write   (the task) checks the rows again — the estate may have changed since the upload — and
              writes them all in ONE transaction, with an audit entry per record created, all carrying
              the batch id. Progress goes to the cache while the transaction is open (progress.py).
batch_undo    deletes what the batch created, children first, in one transaction; refused once the
              company's day is over, when a record has been changed since, or when anything has come to
              refer to one (PROTECT foreign keys: a meter on an imported unit, an owner...).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from wuye.core.audit import audit_entries_new, plain
from wuye.core.crypto import EncryptedTextField
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.core.models import AuditAction, AuditEntry
from wuye.core.queue import enqueue_on_commit

from . import policies, registry, spreadsheets
from .models import PENDING, ImportBatch, ImportStatus
from .progress import progress_set, reporter_for
from .registry import Context, Problem, Row
from .selectors import undo_refusal

logger = logging.getLogger(__name__)

# A file of 50,000 bad rows has more problems than anyone reads; the count stays exact.
STORED_PROBLEMS_MAX = 10_000
# Fields an audit entry of a created record leaves out: the key (it is the entry's object_id) and times.
_NOT_AUDITED = {"id", "created_at", "updated_at", "archived_at"}


class FileTooBig(ServiceError):
    code = "file_too_big"
    http_status = 413


def _clean_file_name(file_name: str) -> str:
    name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:255] or "upload"


def rows_from_sheet(kind: registry.ImportKind, sheet: spreadsheets.Sheet) -> tuple[list[Row], list[Problem]]:
    """The sheet's rows by column key. Headers may be the Chinese or the English ones (or the keys);
    a column the kind does not have, a column given twice and a required column missing are problems
    of the header row."""
    index = kind.header_index()
    problems: list[Problem] = []
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for position, header in enumerate(sheet.headers):
        if not header:
            continue
        key = index.get(registry.normalize_header(header))
        if key is None:
            unknown.append(header)
        elif key in positions:
            problems.append(Problem(sheet.header_row, key, header, _("This column appears twice.")))
        else:
            positions[key] = position
    if unknown:
        expected = ", ".join(kind.headers())
        for header in unknown:
            problems.append(
                Problem(
                    sheet.header_row,
                    header,
                    header,
                    _("Unknown column. The columns of this import are: %(columns)s") % {"columns": expected},
                )
            )
    for column in kind.columns:
        if column.required and column.key not in positions:
            problems.append(
                Problem(
                    sheet.header_row,
                    column.key,
                    "",
                    _("The required column %(column)s is missing.") % {"column": column.header()},
                )
            )
    # A cell under no header is data that would be dropped without a word.
    for number, cells in sheet.rows:
        for position, text in enumerate(cells):
            if text and (position >= len(sheet.headers) or not sheet.headers[position]):
                problems.append(Problem(number, "", text, _("This cell is in a column without a header.")))
    if problems:
        return [], problems
    rows = [
        Row(number, {key: cells[position] if position < len(cells) else "" for key, position in positions.items()})
        for number, cells in sheet.rows
    ]
    return rows, []


def _store_problems(batch: ImportBatch, problems: Sequence[Problem]) -> None:
    ordered = sorted(problems, key=lambda problem: problem.row)
    batch.errors = [problem.as_list() for problem in ordered[:STORED_PROBLEMS_MAX]]
    batch.error_count = len(problems)


@transaction.atomic
def batch_create(*, by: Any, kind: str, file_name: str, data: bytes) -> ImportBatch:
    """Read and check an upload. Returns the batch: "queued" when every row is good (the task is queued on
    commit), "rejected" with its problems otherwise. Raises (and stores nothing) when the user may not
    import this kind or the file is too big to be read at all."""
    import_kind = registry.kind_get(kind)
    policies.require_import(by, import_kind)
    if len(data) > spreadsheets.MAX_FILE_BYTES:
        raise FileTooBig(spreadsheets.too_big_message())
    batch = ImportBatch(
        kind=import_kind.code,
        file_name=_clean_file_name(file_name),
        created_by=by,
        language=translation.get_language() or "",
    )
    rows: list[Row] = []
    try:
        sheet = spreadsheets.read_sheet(data, batch.file_name)
    except spreadsheets.Unreadable as refused:
        problems = [Problem(0, "", "", refused.message)]
    else:
        rows, problems = rows_from_sheet(import_kind, sheet)
        batch.rows_total = len(sheet.rows)
        if not problems:
            _clean, problems = import_kind.check(rows, Context(viewer=by))
    if problems:
        batch.status = ImportStatus.REJECTED
        batch.finished_at = timezone.now()
        _store_problems(batch, problems)
        batch.save()
        return batch
    batch.status = ImportStatus.QUEUED
    batch.rows = [[row.number, row.values] for row in rows]
    batch.save()
    progress_set(batch.pk, status=ImportStatus.QUEUED, done=0, total=batch.rows_total)
    from . import tasks

    enqueue_on_commit(tasks.batch_write, str(batch.pk))
    return batch


def _audited_fields(model: type[models.Model]) -> list[tuple[str, str]]:
    """(field name, attribute) of what an import's audit entry records of a created record: the concrete
    fields, a foreign key as its id, never the encrypted personal data (ID numbers) and not the key or
    the times."""
    return [
        (field.name, field.attname)
        for field in model._meta.concrete_fields
        if field.name not in _NOT_AUDITED and not isinstance(field, EncryptedTextField)
    ]


def _audit_entries(actor: Any, batch_id: uuid.UUID, records: Sequence[models.Model], action: str) -> list[AuditEntry]:
    entries = []
    now = timezone.now()
    actor_id = getattr(actor, "pk", None)
    actor_label = getattr(actor, "email", "") or "system"
    fields: dict[type[models.Model], list[tuple[str, str]]] = {}
    for record in records:
        changes: dict[str, list[Any]] = {}
        if action == AuditAction.IMPORTED:
            model = type(record)
            if model not in fields:
                fields[model] = _audited_fields(model)
            for name, attribute in fields[model]:
                value = getattr(record, attribute)
                if value not in (None, ""):
                    changes[name] = [None, plain(value)]
        entries.append(
            AuditEntry(
                at=now,
                actor_id=actor_id,
                actor_label=actor_label,
                action=action,
                object_type=record._meta.label_lower,
                object_id=str(record.pk),
                object_label=str(record)[:200],
                changes=changes,
                batch=batch_id,
            )
        )
    return entries


def _grouped(records: Sequence[models.Model]) -> list[list[Any]]:
    """[[label, [ids]], ...] in the order each kind of record first appears (the write order)."""
    groups: dict[str, list[str]] = {}
    for record in records:
        groups.setdefault(record._meta.label_lower, []).append(str(record.pk))
    return [[label, ids] for label, ids in groups.items()]


def batch_write(*, batch_id: uuid.UUID | str) -> ImportBatch | None:
    """Write a queued batch (the task). Safe to run twice, and at the same time: the batch row is locked
    for the whole transaction, a second run skips a locked or finished batch and returns None. A worker
    that dies mid-way leaves nothing written (the transaction never committed) and the batch pending; the
    task is acknowledged late, so the broker hands it to another worker, which starts over."""
    ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.QUEUED).update(status=ImportStatus.RUNNING)
    try:
        with transaction.atomic():
            batch = (
                ImportBatch.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("created_by")
                .filter(pk=batch_id, status__in=PENDING)
                .first()
            )
            if batch is None:
                return None
            with translation.override(batch.language or None):
                _write(batch)
    except Exception as error:
        message = error.message if isinstance(error, ServiceError) else _("An unexpected error stopped the import.")
        failed = ImportBatch.objects.filter(pk=batch_id, status__in=PENDING).update(
            status=ImportStatus.FAILED, failure=message[:2000], rows=None, finished_at=timezone.now()
        )
        if failed:
            batch = ImportBatch.objects.get(pk=batch_id)
            progress_set(batch.pk, status=ImportStatus.FAILED, done=0, total=batch.rows_total)
        if not isinstance(error, ServiceError):
            logger.exception("import batch %s failed", batch_id)
            raise
        return ImportBatch.objects.filter(pk=batch_id).first()
    progress_set(batch.pk, status=batch.status, done=batch.rows_done, total=batch.rows_total)
    return batch


def _write(batch: ImportBatch) -> None:
    kind = registry.kind_get(batch.kind)
    viewer = batch.created_by
    total = batch.rows_total
    rows = [Row(int(number), dict(values)) for number, values in batch.rows or []]
    progress_set(batch.pk, status=ImportStatus.CHECKING, done=0, total=total)
    # The importer's permissions and scope, and the estate, as they are now: both may have changed since
    # the upload was checked.
    policies.require_import(viewer, kind)
    clean, problems = kind.check(rows, Context(viewer=viewer, batch_id=batch.pk))
    if problems:
        _store_problems(batch, problems)
        batch.status = ImportStatus.FAILED
        batch.failure = _("The records changed since the file was checked; nothing was written. Upload it again.")
        batch.rows = None
        batch.finished_at = timezone.now()
        batch.save()
        return
    reporter = reporter_for(batch.pk, total, ImportStatus.RUNNING)
    reporter(0)
    created = kind.write(clean, Context(viewer=viewer, batch_id=batch.pk, progress=reporter))
    audit_entries_new(_audit_entries(viewer, batch.pk, created, AuditAction.IMPORTED))
    reporter(total)
    batch.created_records = _grouped(created)
    batch.created_count = len(created)
    batch.status = ImportStatus.DONE
    batch.rows_done = total
    batch.rows = None
    batch.finished_at = timezone.now()
    batch.save()


# ------------------------------------------------------------------------------------------ undo
def _label(record: models.Model) -> str:
    return f"{record._meta.verbose_name} {record}"


def _references(error: ProtectedError, model: type[models.Model], ids: list[str]) -> list[str]:
    """A few of the records that stop the undo, each with the imported record it refers to."""
    wanted = set(ids)
    found = []
    for record in sorted(error.protected_objects, key=str)[:3]:
        targets = [
            getattr(record, field.name)
            for field in record._meta.concrete_fields
            if isinstance(field, models.ForeignKey)
            and field.related_model is model
            and str(getattr(record, field.attname)) in wanted
        ]
        if targets:
            found.append(
                _("%(record)s refers to %(imported)s") % {"record": _label(record), "imported": _label(targets[0])}
            )
        else:
            found.append(_label(record))
    return found


@transaction.atomic
def batch_undo(*, by: Any, batch: ImportBatch) -> ImportBatch:
    """Delete every record the batch created, children first, in one transaction."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if not policies.can_undo(by, batch):
        raise PolicyDenied(_("You may not undo this import."))
    refusal = undo_refusal(batch)
    if refusal:
        code = "already_undone" if batch.status == ImportStatus.UNDONE else "undo_not_possible"
        raise ServiceError(refusal, code=code)
    groups = [(apps.get_model(label), ids) for label, ids in reversed(batch.created_records)]
    # Later edits would be lost without a trace in the records themselves: refuse rather than guess.
    for model, ids in groups:
        if any(field.name == "updated_at" for field in model._meta.concrete_fields):
            changed = model._base_manager.filter(pk__in=ids, updated_at__gt=batch.finished_at).first()
            if changed is not None:
                raise ServiceError(
                    _("%(record)s has been changed since the import; undoing would lose that change.")
                    % {"record": _label(changed)},
                    code="undo_changed_since",
                )
    kind = registry.kind_find(batch.kind)
    if kind is not None and kind.undo_check is not None:
        reason = kind.undo_check([(model, list(ids)) for model, ids in reversed(groups)])
        if reason:
            raise ServiceError(reason, code="undo_later_records")
    entries: list[AuditEntry] = []
    for model, ids in groups:
        # Labelled before they go (a label may name a parent deleted next), with their parents joined
        # (one query, not one per record).
        records = list(model._base_manager.filter(pk__in=ids).select_related())
        entries += _audit_entries(by, batch.pk, records, AuditAction.UNDONE)
        try:
            with transaction.atomic():
                model._base_manager.filter(pk__in=ids).delete()
        except ProtectedError as error:
            raise ServiceError(
                _("The import cannot be undone: records refer to what it created (%(examples)s).")
                % {"examples": "; ".join(_references(error, model, ids))},
                code="undo_in_use",
            ) from None
    entries += _audit_entries(by, batch.pk, [batch], AuditAction.UNDONE)
    audit_entries_new(entries)
    batch.status = ImportStatus.UNDONE
    batch.undone_at = timezone.now()
    batch.undone_by = by
    batch.save(update_fields=["status", "undone_at", "undone_by"])
    progress_set(batch.pk, status=batch.status, done=batch.rows_done, total=batch.rows_total)
    return batch
