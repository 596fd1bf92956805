"""An import batch: one uploaded file, checked as a whole, written as a whole, undone as a whole.

The file itself is never stored: multi-tenant files on disk are one more place data can leak from. The
parsed rows wait in the batch row (JSON) until they are written, and are cleared then; what stays is the
outcome: the problems found (the report is rendered from them on download) or the ids of what was created
(for undo)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.core.ids import uuid7


class ImportStatus(models.TextChoices):
    CHECKING = "checking", _("Checking")
    REJECTED = "rejected", _("Rejected")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    UNDONE = "undone", _("Undone")


# Batches whose rows are still to be written.
PENDING = (ImportStatus.QUEUED, ImportStatus.RUNNING)


class ImportBatch(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(_("kind"), max_length=40)
    file_name = models.CharField(_("file"), max_length=255)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.CHECKING)
    # The uploader's language: the problems are worded in it, and the task writes in it.
    language = models.CharField(max_length=10, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    error_count = models.PositiveIntegerField(_("problems"), default=0)
    # [[row, column, value, reason], ...]: the report is rendered from these on download. At most
    # services.STORED_PROBLEMS_MAX are kept; error_count has the true number.
    errors = models.JSONField(default=list, blank=True)
    # [[row number, {column key: text}], ...] from the upload until the rows are written, then null.
    rows = models.JSONField(null=True, blank=True)
    # [["app_label.model", [id, ...]], ...] in the order they were created (parents first): undo deletes
    # them in the reverse order. A list, not an object: jsonb does not keep the order of an object's keys.
    created_records = models.JSONField(default=list, blank=True)
    created_count = models.PositiveIntegerField(_("records created"), default=0)
    failure = models.TextField(_("why it failed"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("imported by")
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        permissions = [("undo_any_importbatch", "Can undo anyone's import")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in ImportStatus]), name="imports_batch_status_valid"
            ),
            models.CheckConstraint(condition=Q(rows_done__lte=models.F("rows_total")), name="imports_batch_rows_done"),
            # A rejected batch says why; a finished one says when; an undone one when and by whom.
            models.CheckConstraint(
                condition=~Q(status="rejected") | Q(error_count__gt=0), name="imports_batch_rejected_has_errors"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["done", "failed", "undone"]) | Q(finished_at__isnull=False),
                name="imports_batch_finished_at",
            ),
            models.CheckConstraint(
                condition=Q(status="undone", undone_at__isnull=False, undone_by__isnull=False)
                | (~Q(status="undone") & Q(undone_at__isnull=True)),
                name="imports_batch_undone_at",
            ),
            # Rows wait only while the batch is to be written.
            models.CheckConstraint(
                condition=Q(rows__isnull=True) | Q(status__in=["queued", "running"]), name="imports_batch_rows_pending"
            ),
        ]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="imports_batch_by_creator")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.kind})"

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING
