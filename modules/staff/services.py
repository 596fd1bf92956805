"""Writes on the organisation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from modules.estate.models import Project, Zone
from wuye.accounts.models import User
from wuye.core.audit import audit_record, snapshot
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.core.models import AuditAction
from wuye.core.policies import require
from wuye.core.scope import scope_forget, scope_of
from wuye.core.seeding import SeedContext

from . import policies
from .defaults import DEPARTMENTS, POSITIONS
from .models import Department, Position, StaffMember, ZoneAssignment


def organisation_seed(context: SeedContext) -> None:
    """Seeder: the departments and positions of DOMAIN.md §1, named in the company's language.
    Two bulk inserts: ids are made here, so each position names its superior in the same insert (the
    self-reference is a deferred foreign key, checked at commit)."""
    with translation.override(context.language):
        departments = {
            code: Department(code=code, name=str(name), sort_order=index * 10)
            for index, (code, name) in enumerate(DEPARTMENTS)
        }
        positions = {
            code: Position(
                code=code,
                name=str(name),
                department=departments[dept],
                scope=scope,
                is_team_leader=leader,
                sort_order=index * 10,
            )
            for index, (code, name, dept, _superior, scope, leader) in enumerate(POSITIONS)
        }
    for code, _name, _dept, superior, _scope, _leader in POSITIONS:
        if superior:
            positions[code].reports_to = positions[superior]
    Department.objects.bulk_create(departments.values())
    Position.objects.bulk_create(positions.values())


@transaction.atomic
def staff_member_set(
    *,
    by: Any,
    user: User,
    position: Position | None = None,
    department: Department | None = None,
    project: Project | None = None,
    zones: Sequence[Zone] = (),
    is_team_leader: bool = False,
    employee_number: str = "",
) -> StaffMember:
    """Place a staff account in the organisation: position (its department unless one is given),
    project, and zones for a zone customer manager. Creates the member record the first time."""
    member = StaffMember.objects.select_for_update().filter(user=user).first()
    require(by, policies.ADD_MEMBER if member is None else policies.CHANGE_MEMBER)
    if user.kind != "staff":
        raise ServiceError(_("Only staff accounts have a place in the organisation."), code="not_staff")
    scope = scope_of(by)
    for place in {project.pk if project else None, member.project_id if member else None} - {None}:
        if not scope.covers(project_id=place):
            raise PolicyDenied(_("This is outside the projects and zones you work in."))
    if project is None and not scope.everything:
        raise PolicyDenied(_("Only company-wide administrators place staff at company level."))
    if position is not None and department is None:
        department = position.department
    if position is not None and department is not None and position.department_id != department.pk:
        raise ServiceError(
            _("The position %(position)s belongs to another department.") % {"position": position},
            code="position_department",
            field="position",
        )
    foreign = [zone for zone in zones if project is None or zone.project_id != project.pk]
    if foreign:
        raise ServiceError(
            _("%(zone)s is a zone of another project; a zone manager looks after zones of their own project.")
            % {"zone": foreign[0]},
            code="zone_of_other_project",
            field="zones",
        )
    if is_team_leader and department is None:
        raise ServiceError(
            _("A team leader belongs to a department."), code="leader_without_department", field="department"
        )
    before = _member_snapshot(member) if member else None
    if member is None:
        member = StaffMember(user=user)
    member.position, member.department, member.project = position, department, project
    member.is_team_leader = is_team_leader
    member.employee_number = (employee_number or "").strip()
    try:
        member.full_clean(exclude=["user"])
    except ValidationError as error:
        raise ServiceError.from_validation(error) from None
    # Zones first: the database refuses a member in one project holding zones of another.
    if not member._state.adding:
        ZoneAssignment.objects.filter(member=member).exclude(zone__in=zones).delete()
    member.save()
    held = set(ZoneAssignment.objects.filter(member=member).values_list("zone_id", flat=True))
    ZoneAssignment.objects.bulk_create(
        [ZoneAssignment(member=member, project_id=zone.project_id, zone=zone) for zone in zones if zone.pk not in held]
    )
    scope_forget([user])
    audit_record(
        actor=by,
        action=AuditAction.CREATED if before is None else AuditAction.CHANGED,
        instance=member,
        before=before,
        after=_member_snapshot(member),
    )
    return member


def _member_snapshot(member: StaffMember) -> dict[str, Any]:
    values = snapshot(member, ["position", "department", "project", "is_team_leader", "employee_number"])
    values["zones"] = sorted(
        str(z) for z in ZoneAssignment.objects.filter(member=member).values_list("zone_id", flat=True)
    )
    return values
