"""Reads on the organisation."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from wuye.accounts.models import Role
from wuye.core.errors import NotFound
from wuye.core.policies import require
from wuye.core.scope import EVERYTHING, NOTHING, Reach, Scope, scope_of

from . import policies
from .models import Department, Position, StaffMember, ZoneAssignment


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


def member_list(*, viewer: Any, project_id: Any = None, department_id: Any = None) -> QuerySet[StaffMember]:
    """Staff members where the viewer works (a company-wide viewer: all, with those at company level)."""
    require(viewer, policies.VIEW_MEMBER)
    scope = scope_of(viewer)
    members = StaffMember.objects.select_related("user", "position", "department", "project").prefetch_related(
        Prefetch("zone_assignments", queryset=ZoneAssignment.objects.select_related("zone"))
    )
    if not scope.everything:
        members = members.filter(project_id__in=scope.project_ids)
    if project_id:
        members = members.filter(project_id=project_id)
    if department_id:
        members = members.filter(department_id=department_id)
    return members.order_by("user__name")


def member_get(*, viewer: Any, user_id: Any) -> StaffMember:
    member = member_list(viewer=viewer).filter(user_id=user_id).first()
    if member is None:
        raise NotFound(_("No such staff member."))
    return member


def team_leaders(*, viewer: Any) -> dict[uuid.UUID, list[StaffMember]]:
    """Team leaders (队长、班长、组长) by department, in the viewer's scope."""
    leaders: dict[uuid.UUID, list[StaffMember]] = {}
    for member in member_list(viewer=viewer).filter(is_team_leader=True):
        if member.department_id is not None:
            leaders.setdefault(member.department_id, []).append(member)
    return leaders


def position_by_code(code: str | None) -> Position | None:
    if not code:
        return None
    position = Position.objects.select_related("department").filter(code=code).first()
    if position is None:
        raise NotFound(_("No such position: %(code)s") % {"code": code})
    return position


def department_by_code(code: str | None) -> Department | None:
    if not code:
        return None
    department = Department.objects.filter(code=code).first()
    if department is None:
        raise NotFound(_("No such department: %(code)s") % {"code": code})
    return department


def zone_manager_names(zone_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Registered with the estate: the zone customer managers of these zones, by name (one query)."""
    names: dict[uuid.UUID, list[str]] = {}
    for zone_id, name in (
        ZoneAssignment.objects.filter(zone_id__in=zone_ids, member__user__is_active=True)
        .order_by("member__user__name")
        .values_list("zone_id", "member__user__name")
    ):
        names.setdefault(zone_id, []).append(name)
    return names


# ------------------------------------------------------------------------------------------ for other modules
# The helpdesk dispatches work and escalates it along the hierarchy: these answer "who" without a viewer
# (the system asks, on behalf of the request), always within one project.
def in_department(*, user_id: Any, department_id: Any, project_id: Any) -> bool:
    """Whether the user is a member of the department in the project (or at company level)."""
    return (
        StaffMember.objects.filter(user_id=user_id, department_id=department_id, user__is_active=True)
        .filter(Q(project_id=project_id) | Q(project__isnull=True))
        .exists()
    )


def is_team_leader_of(*, user_id: Any, department_id: Any) -> bool:
    return StaffMember.objects.filter(user_id=user_id, department_id=department_id, is_team_leader=True).exists()


def department_of(*, user_id: Any) -> uuid.UUID | None:
    return StaffMember.objects.filter(user_id=user_id).values_list("department_id", flat=True).first()


def department_heads(*, project_id: Any, department_id: Any) -> list[Any]:
    """The head of a department in a project: its members whose position reports outside the department
    (the head of engineering reports to the project manager), else its team leaders. Users, active ones."""
    members = StaffMember.objects.filter(
        project_id=project_id, department_id=department_id, user__is_active=True
    ).select_related("user", "position__reports_to")
    heads = [
        m.user
        for m in members
        if m.position is not None
        and (m.position.reports_to is None or m.position.reports_to.department_id != m.position.department_id)
    ]
    return heads or [m.user for m in members if m.is_team_leader]


def role_holders(*, project_id: Any, role: str) -> list[Any]:
    """The active users of a project holding a role (its CS managers, its project manager)."""
    return [
        m.user
        for m in StaffMember.objects.filter(
            project_id=project_id, user__is_active=True, user__groups__name=role, user__groups__role__isnull=False
        ).select_related("user")
    ]


def zone_managers_of(*, zone_id: Any) -> list[Any]:
    return [
        a.member.user
        for a in ZoneAssignment.objects.filter(zone_id=zone_id, member__user__is_active=True).select_related(
            "member__user"
        )
    ]


def departments_active() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("sort_order", "name")


def members_in_project(*, project_id: Any) -> QuerySet[StaffMember]:
    """The active staff of a project who belong to a department: who work can be assigned to."""
    return (
        StaffMember.objects.filter(project_id=project_id, department__isnull=False, user__is_active=True)
        .select_related("user", "department")
        .order_by("department__sort_order", "user__name")
    )
