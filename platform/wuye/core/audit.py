"""Writing the audit log. Services call `audit_record` inside their transaction, so a change and its
entry commit or roll back together."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import QuerySet

from .models import AuditAction, AuditEntry
from .policies import require


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: money and areas as strings (no float rounding), dates in ISO form."""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return sorted(_plain(item) for item in value)
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The audited fields of a record, as plain values (a foreign key as its id)."""
    values: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attribute = field.attname if isinstance(field, models.ForeignKey) else name
        values[name] = _plain(getattr(instance, attribute))
    return values


def changes_between(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list[Any]]:
    before, after = before or {}, after or {}
    names = list(dict.fromkeys([*before, *after]))
    return {name: [before.get(name), after.get(name)] for name in names if before.get(name) != after.get(name)}


def audit_record(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    batch: uuid.UUID | None = None,
    label: str | None = None,
) -> AuditEntry | None:
    """Record one change. A change that changed nothing is not recorded (returns None)."""
    changes = changes_between(before, after)
    if action == AuditAction.CHANGED and not changes:
        return None
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "email", None) or "system",
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_label=(label or str(instance))[:200],
        changes=changes,
        batch=batch,
    )


def audit_entries_new(entries: list[AuditEntry]) -> None:
    """Many entries in one insert (imports)."""
    AuditEntry.objects.bulk_create(entries, batch_size=2000)


def audit_entries(
    *, viewer: Any, object_type: str = "", action: str = "", actor: str = "", object_id: str = ""
) -> QuerySet[AuditEntry]:
    """The company's audit log, newest first (a selector: the log page and the API read through it)."""
    require(viewer, "core.view_auditentry")
    entries = AuditEntry.objects.all()
    if object_type:
        entries = entries.filter(object_type=object_type)
    if action:
        entries = entries.filter(action=action)
    if actor:
        entries = entries.filter(actor_label__icontains=actor.strip())
    if object_id:
        entries = entries.filter(object_id=object_id.strip())
    return entries.order_by("-at", "-id")
