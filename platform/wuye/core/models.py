"""Base models every module builds on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .ids import uuid7


class TimeStampedModel(models.Model):
    """A record with a time-ordered UUID key and its creation and last-change times."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditAction(models.TextChoices):
    CREATED = "created", _("created")
    CHANGED = "changed", _("changed")
    ARCHIVED = "archived", _("archived")
    RESTORED = "restored", _("restored")
    DELETED = "deleted", _("deleted")
    IMPORTED = "imported", _("imported")
    UNDONE = "undone", _("undone")


class AuditEntry(models.Model):
    """One change to a record someone may later ask about (《操作日志》): who, when, what, before and after.

    Append-only: a database trigger refuses UPDATE and DELETE (migration 0002), so not even a bug or a
    hand-written query can rewrite history. Each schema keeps its own: a company's log is in its schema."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    # Users are deactivated, never deleted; PROTECT keeps the trigger from ever seeing a cascade.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_label = models.CharField(_("who"), max_length=254)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(_("record type"), max_length=60, db_index=True)
    object_id = models.CharField(_("record"), max_length=64, db_index=True)
    object_label = models.CharField(_("record"), max_length=200)
    # {"field": [before, after]}; a creation has null befores, an archive the archive time after.
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    # The import (or other bulk operation) this change belongs to, to show and undo it as a whole.
    batch = models.UUIDField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=[choice.value for choice in AuditAction]), name="core_audit_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type} {self.object_label}"
