"""Reads on the organisation."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Prefetch, QuerySet

from wuye.accounts.models import Role
from wuye.core.policies import require
from wuye.core.scope import EVERYTHING, NOTHING, Reach, Scope

from . import policies
from .models import Department, Position, StaffMember


def department_list(*, viewer: Any) -> QuerySet[Department]:
    require(viewer, policies.VIEW_ORGANISATION)
    return Department.objects.prefetch_related(
        Prefetch("positions", queryset=Position.objects.select_related("reports_to").order_by("sort_order", "name"))
    ).order_by("sort_order", "name")


def scope_for_user(user: Any) -> Scope:
    """Where a user works: the widest reach of their roles, applied to their staff assignment. Two queries
    at most (roles; then member and zones), once per request (wuye.core.scope caches it on the user)."""
    reaches = set(Role.objects.filter(group__user=user).values_list("reach", flat=True))
    if user.is_superuser or Reach.COMPANY in reaches:
        return EVERYTHING
    if not reaches:
        return NOTHING
    project_ids: set[uuid.UUID] = set()
    zone_ids: set[uuid.UUID] = set()
    zone_project_ids: set[uuid.UUID] = set()
    member = StaffMember.objects.filter(user=user).prefetch_related("zone_assignments").first()
    if member is not None:
        if Reach.PROJECT in reaches and member.project_id is not None:
            project_ids.add(member.project_id)
        if Reach.ZONE in reaches:
            for assignment in member.zone_assignments.all():
                zone_ids.add(assignment.zone_id)
                zone_project_ids.add(assignment.project_id)
    return Scope(
        project_ids=frozenset(project_ids), zone_ids=frozenset(zone_ids), zone_project_ids=frozenset(zone_project_ids)
    )


def staff_member_of(user: Any) -> StaffMember | None:
    return (
        StaffMember.objects.select_related("position", "department", "project")
        .prefetch_related("zone_assignments__zone")
        .filter(user=user)
        .first()
    )
