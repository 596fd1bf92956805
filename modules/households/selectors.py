"""Reads on households, in the viewer's scope: a person is seen through the units they own or live in
(now or before), or by anyone who may see people while they are on file without a unit yet."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from modules.estate import selectors as estate_selectors
from modules.estate.models import Unit
from wuye.core.crypto import blind_index
from wuye.core.errors import NotFound
from wuye.core.ids import as_uuid
from wuye.core.policies import require
from wuye.core.scope import scope_of

from . import policies
from .models import ID_NUMBER_PURPOSE, Occupancy, Ownership, Person, Vehicle


def _units_in_scope(viewer: Any) -> QuerySet[Unit]:
    return scope_of(viewer).filter(Unit.objects.all(), project="project", zone="zone")


def _current(on: dt.date | None = None) -> tuple[Q, Q]:
    today = on or timezone.localdate()
    owned = Q(starts_on__lte=today) & (Q(ends_on__isnull=True) | Q(ends_on__gt=today))
    living = Q(moved_in_on__lte=today) & (Q(moved_out_on__isnull=True) | Q(moved_out_on__gt=today))
    return owned, living


def person_list(
    *, viewer: Any, search: str = "", project: Any = None, unit: Any = None, current_only: bool = False
) -> QuerySet[Person]:
    require(viewer, policies.VIEW)
    people = Person.objects.all()
    if not scope_of(viewer).everything:
        units = _units_in_scope(viewer)
        owns = Ownership.objects.filter(person=OuterRef("pk"), unit__in=units)
        lives = Occupancy.objects.filter(person=OuterRef("pk"), unit__in=units)
        linked = Q(Exists(Ownership.objects.filter(person=OuterRef("pk")))) | Q(
            Exists(Occupancy.objects.filter(person=OuterRef("pk")))
        )
        people = people.filter(Q(Exists(owns)) | Q(Exists(lives)) | ~linked)
    if project or unit:
        where = Q()
        if project:
            where &= Q(unit__project_id=as_uuid(project))
        if unit:
            where &= Q(unit_id=as_uuid(unit))
        owned, living = _current() if current_only else (Q(), Q())
        people = people.filter(
            Q(Exists(Ownership.objects.filter(where & owned, person=OuterRef("pk"))))
            | Q(Exists(Occupancy.objects.filter(where & living, person=OuterRef("pk"))))
        )
    search = (search or "").strip()
    if search:
        condition = Q(name__icontains=search) | Q(phone__contains=search.replace(" ", ""))
        compact = "".join(search.split()).upper()
        if len(compact) >= 8:
            # An identity document is found by its exact number, through the blind index.
            condition |= Q(id_number_index=blind_index(compact, purpose=ID_NUMBER_PURPOSE))
        people = people.filter(condition)
    owned, living = _current()
    return people.prefetch_related(
        Prefetch(
            "ownerships",
            queryset=Ownership.objects.filter(owned).select_related("unit__building"),
            to_attr="current_ownerships",
        ),
        Prefetch(
            "occupancies",
            queryset=Occupancy.objects.filter(living).select_related("unit__building"),
            to_attr="current_occupancies",
        ),
    ).order_by("name", "id")


def person_get(*, viewer: Any, person_id: Any) -> Person:
    key = as_uuid(person_id)
    person = person_list(viewer=viewer).filter(pk=key).first() if key else None
    if person is None:
        raise NotFound(_("No such person."))
    return person


def id_number_shown(*, viewer: Any, person: Person) -> str:
    """The identity document number as this viewer may see it: whole, or masked (1101**********1234)."""
    if not person.id_number_hint:
        return ""
    return person.id_number if policies.sees_id_numbers(viewer) else person.id_number_hint


def household_file(*, viewer: Any, unit_id: Any) -> dict[str, Any]:
    """A unit's household file (一户一档): owners and occupants, past and present, and their vehicles."""
    require(viewer, policies.VIEW)
    unit = estate_selectors.unit_get(viewer=viewer, unit_id=unit_id)
    ownerships = list(
        Ownership.objects.filter(unit=unit).select_related("person").order_by("ends_on", "-starts_on", "person__name")
    )
    occupancies = list(
        Occupancy.objects.filter(unit=unit)
        .select_related("person")
        .order_by("moved_out_on", "-moved_in_on", "person__name")
    )
    people = {o.person_id for o in ownerships} | {o.person_id for o in occupancies}
    vehicles = list(Vehicle.objects.filter(person_id__in=people, removed_at__isnull=True).select_related("person"))
    return {
        "unit": unit,
        "ownerships": ownerships,
        "occupancies": occupancies,
        "vehicles": vehicles,
    }


def ownership_get(*, viewer: Any, ownership_id: Any) -> Ownership:
    require(viewer, policies.perm("view", "ownership"))
    key = as_uuid(ownership_id)
    found = (
        Ownership.objects.select_related("unit", "person").filter(pk=key, unit__in=_units_in_scope(viewer)).first()
        if key
        else None
    )
    if found is None:
        raise NotFound(_("No such ownership."))
    return found


def occupancy_get(*, viewer: Any, occupancy_id: Any) -> Occupancy:
    require(viewer, policies.perm("view", "occupancy"))
    key = as_uuid(occupancy_id)
    found = (
        Occupancy.objects.select_related("unit", "person").filter(pk=key, unit__in=_units_in_scope(viewer)).first()
        if key
        else None
    )
    if found is None:
        raise NotFound(_("No such occupancy."))
    return found


def vehicle_list(*, viewer: Any, search: str = "") -> QuerySet[Vehicle]:
    require(viewer, policies.perm("view", "vehicle"))
    vehicles = Vehicle.objects.filter(removed_at__isnull=True, person__in=person_list(viewer=viewer)).select_related(
        "person", "parking_space"
    )
    if search:
        vehicles = vehicles.filter(plate__icontains="".join(search.split()).upper())
    return vehicles.order_by("plate")


def vehicle_get(*, viewer: Any, vehicle_id: Any) -> Vehicle:
    key = as_uuid(vehicle_id)
    found = vehicle_list(viewer=viewer).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("No such vehicle."))
    return found


def owner_home(*, user: Any) -> dict[str, Any] | None:
    """What an owner sees in the owner portal: their record, the units they own or live in now, and the
    people living in those units. Nothing of anyone else's units."""
    person = Person.objects.filter(user=user).first()
    if person is None:
        return None
    owned, living = _current()
    ownerships = list(Ownership.objects.filter(owned, person=person).select_related("unit__building", "unit__project"))
    owned_units = {o.unit_id for o in ownerships}
    # Units lived in but not owned (a tenant's flat); an owner living in their own flat sees it once.
    occupancies = [
        o
        for o in Occupancy.objects.filter(living, person=person).select_related("unit__building", "unit__project")
        if o.unit_id not in owned_units
    ]
    unit_ids = owned_units | {o.unit_id for o in occupancies}
    members = list(
        Occupancy.objects.filter(living, unit_id__in=unit_ids)
        .select_related("person", "unit")
        .order_by("unit", "person__name")
    )
    return {"person": person, "ownerships": ownerships, "occupancies": occupancies, "members": members}
