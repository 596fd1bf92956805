"""Reads on the organisation."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from wuye.core.policies import require

from . import policies
from .models import Department, Position


def department_list(*, viewer: Any) -> QuerySet[Department]:
    require(viewer, policies.VIEW_ORGANISATION)
    return Department.objects.prefetch_related(
        Prefetch("positions", queryset=Position.objects.select_related("reports_to").order_by("sort_order", "name"))
    ).order_by("sort_order", "name")
