"""A project with its people, for helpdesk tests: made through the real services by the company's
administrator (staff placed in the seeded departments and positions, an owner with a portal account)."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from modules.households.models import Person
from modules.staff import selectors as staff_selectors
from modules.staff import services as staff_services
from wuye.accounts import services as account_services

from . import estate, households

_n = itertools.count(1)
PASSWORD = "helpdesk-pass-77"


@dataclass
class Site:
    project: Any
    zone: Any
    building: Any
    unit: Any
    other_unit: Any  # another household's unit in the same project
    owner: Any  # the portal account of the unit's owner
    other_owner: Any  # the portal account of the other unit's owner
    cs_staff: Any
    cs_manager: Any
    project_manager: Any
    zone_manager: Any
    engineer: Any
    engineer_2: Any
    engineering_leader: Any
    engineering_head: Any
    guard: Any  # security: another department
    engineering: Any  # the department
    security: Any


def staff(
    admin: Any, *, role: str, position: str, project: Any, zones: tuple[Any, ...] = (), leader: bool = False,
    email: str = "", phone: str = "",
) -> Any:  # fmt: skip
    n = next(_n)
    user = account_services.user_create(
        email=email or f"{position}-{n}@helpdesk.test",
        name=f"{position}{n}",
        password=PASSWORD,
        roles=[role],
        phone=phone,
    )
    staff_services.staff_member_set(
        by=admin,
        user=user,
        position=staff_selectors.position_by_code(position),
        project=project,
        zones=list(zones),
        is_team_leader=leader,
    )
    return user


def owner_account(admin: Any, unit: Any, **values: Any) -> Any:
    """An owner of `unit` with an owner-portal account (as an accepted invitation leaves it)."""
    n = next(_n)
    ownership = households.owner(admin, unit, **values)
    user = account_services.user_create(
        email=f"owner-{n}@helpdesk.test", name=ownership.person.name, password=PASSWORD, kind="owner"
    )
    Person.objects.filter(pk=ownership.person_id).update(user=user)
    return user


def site(admin: Any) -> Site:
    project = estate.project(admin)
    zone = estate.zone(admin, project=project)
    building = estate.building(admin, project=project, zone=zone)
    unit = estate.unit(admin, building=building)
    other_unit = estate.unit(admin, building=building)
    return Site(
        project=project,
        zone=zone,
        building=building,
        unit=unit,
        other_unit=other_unit,
        owner=owner_account(admin, unit),
        other_owner=owner_account(admin, other_unit),
        cs_staff=staff(admin, role="cs_staff", position="cs_staff", project=project),
        cs_manager=staff(admin, role="cs_manager", position="cs_manager", project=project),
        project_manager=staff(admin, role="project_manager", position="project_manager", project=project),
        zone_manager=staff(admin, role="zone_manager", position="zone_manager", project=project, zones=(zone,)),
        engineer=staff(admin, role="engineering", position="engineer", project=project),
        engineer_2=staff(admin, role="engineering", position="engineer", project=project),
        engineering_leader=staff(
            admin, role="engineering", position="engineering_leader", project=project, leader=True
        ),
        engineering_head=staff(admin, role="engineering", position="engineering_head", project=project),
        guard=staff(admin, role="security", position="security_guard", project=project),
        engineering=staff_selectors.department_by_code("engineering"),
        security=staff_selectors.department_by_code("security"),
    )


def png(size: tuple[int, int] = (4, 3), name: str = "photo.png") -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# ------------------------------------------------------------------------------------------ committed data
def committed_remove(company: Any, *, project: Any, users: list[Any]) -> None:
    """Remove what a committed test made in a project: its requests with their timelines (append-only: the
    session replays as a replica, which fires no triggers — only tests do this), photos' rows, visits,
    pauses, notifications, materials and charges; then its owners, staff, users and estate. Dispatch modes
    are the company's: a test that set one puts it back itself."""
    from django.db import connection

    from modules.estate.models import Building, Project, Unit, Zone
    from modules.households.models import Occupancy, Ownership
    from modules.households.models import Person as PersonModel
    from modules.staff.models import StaffMember
    from wuye.accounts.models import User
    from wuye.testing.plugin import in_company

    with in_company(company):
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            try:
                requests = "SELECT id FROM helpdesk_request WHERE project_id = %s"
                for table in ("helpdesk_requestevent", "helpdesk_requestphoto", "helpdesk_returnvisit",
                              "helpdesk_pause", "helpdesk_notification", "helpdesk_materialline"):  # fmt: skip
                    cursor.execute(f"DELETE FROM {table} WHERE request_id IN ({requests})", [project.pk])
                cursor.execute("DELETE FROM helpdesk_notification WHERE user_id = ANY(%s)", [[u.pk for u in users]])
                cursor.execute("DELETE FROM helpdesk_request WHERE project_id = %s", [project.pk])
            finally:
                cursor.execute("SET session_replication_role = DEFAULT")
        people = list(Ownership.objects.filter(unit__project=project).values_list("person_id", flat=True))
        Ownership.objects.filter(unit__project=project).delete()
        Occupancy.objects.filter(unit__project=project).delete()
        PersonModel.objects.filter(pk__in=people).delete()
        StaffMember.objects.filter(user__in=users).delete()
        User.objects.filter(pk__in=[u.pk for u in users]).delete()
        Unit.objects.filter(project=project).delete()
        Building.objects.filter(project=project).delete()
        Zone.objects.filter(project=project).delete()
        Project.objects.filter(pk=project.pk).delete()
