"""Base models every module builds on."""

from __future__ import annotations

from django.db import models

from .ids import uuid7


class TimeStampedModel(models.Model):
    """A record with a time-ordered UUID key and its creation and last-change times."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
