"""Writes on the organisation."""

from __future__ import annotations

from django.utils import translation

from wuye.core.seeding import SeedContext

from .defaults import DEPARTMENTS, POSITIONS
from .models import Department, Position


def organisation_seed(context: SeedContext) -> None:
    """Seeder: the departments and positions of DOMAIN.md §1, named in the company's language.
    Two bulk inserts plus one update for the reporting lines."""
    with translation.override(context.language):
        departments = Department.objects.bulk_create(
            [
                Department(code=code, name=str(name), sort_order=index * 10)
                for index, (code, name) in enumerate(DEPARTMENTS)
            ]
        )
        by_code = {department.code: department for department in departments}
        positions = Position.objects.bulk_create(
            [
                Position(
                    code=code,
                    name=str(name),
                    department=by_code[dept],
                    scope=scope,
                    is_team_leader=leader,
                    sort_order=index * 10,
                )
                for index, (code, name, dept, _superior, scope, leader) in enumerate(POSITIONS)
            ]
        )
    position_by_code = {position.code: position for position in positions}
    for code, _name, _dept, superior, _scope, _leader in POSITIONS:
        if superior:
            position_by_code[code].reports_to = position_by_code[superior]
    Position.objects.bulk_update([p for p in positions if p.reports_to_id], ["reports_to"])
