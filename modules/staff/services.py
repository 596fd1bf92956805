"""Writes on the organisation."""

from __future__ import annotations

from django.utils import translation

from wuye.core.seeding import SeedContext

from .defaults import DEPARTMENTS, POSITIONS
from .models import Department, Position


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
