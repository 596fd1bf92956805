"""Writes on the estate. Each public function is keyword-only and atomic, checks the permission and the
scope of the acting user, validates with the model's own validators and constraints, and records what
changed in the audit log. The shared steps live in `_save`, `_archive` and `_delete`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.audit import audit_record, snapshot
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.core.models import AuditAction
from wuye.core.policies import require
from wuye.core.scope import scope_of

from . import policies
from .models import (
    Archivable,
    Building,
    Facility,
    Meter,
    ParkingSpace,
    Project,
    Unit,
    Zone,
)

R = TypeVar("R", bound=Archivable)

# What each record lets people edit; these fields are also what the audit log compares.
EDITABLE: dict[type[Archivable], tuple[str, ...]] = {
    Project: ("name", "code", "address", "total_floor_area", "committee_contact", "collection_rate_target"),
    Zone: ("name", "sort_order"),
    Building: ("zone", "name", "floors_above", "floors_below", "sort_order"),
    Unit: ("building", "number", "floor", "kind", "floor_area", "status"),
    ParkingSpace: ("zone", "number", "kind", "location", "floor_area", "status"),
    Meter: ("unit", "kind", "serial", "multiplier", "location"),
    Facility: ("zone", "building", "kind", "name", "location", "serial", "maintainer", "installed_on", "status"),
}


def fields_for(model: type[Archivable], *, creating: bool) -> list[str]:
    """What a form or an API input asks for: the editable fields, and the project a new record goes in
    (a unit's comes from its building)."""
    extra = ["project"] if creating and model not in (Project, Unit) else []
    return [*extra, *EDITABLE[model]]


# Copied from parents by `_place`, audited with the rest.
_PLACED = ("project", "zone")


def _entity(model: type[Archivable]) -> str:
    return model._meta.model_name or ""


def _audited(instance: Archivable) -> dict[str, Any]:
    model = type(instance)
    placed = [name for name in _PLACED if any(field.name == name for field in model._meta.get_fields())]
    return snapshot(instance, dict.fromkeys([*placed, *EDITABLE[model]]))


def _require_in_scope(by: Any, instance: Archivable) -> None:
    """The record must lie where the user works: a project record in one of their projects, a zoned one
    in one of their projects or zones. Projects themselves are created by company-wide users only."""
    scope = scope_of(by)
    if isinstance(instance, Project):
        allowed = scope.everything if instance._state.adding else scope.covers(project_id=instance.pk)
    elif isinstance(instance, Zone):
        allowed = scope.covers(project_id=instance.project_id, zone_id=None if instance._state.adding else instance.pk)
    else:
        zone_id = (
            instance.unit.zone_id
            if isinstance(instance, Meter) and instance.unit
            else getattr(instance, "zone_id", None)
        )
        allowed = scope.covers(project_id=getattr(instance, "project_id", None), zone_id=zone_id)
    if not allowed:
        raise PolicyDenied(_("This is outside the projects and zones you work in."))


def _place(instance: Archivable) -> None:
    """Derive a record's project and zone from its parents, and refuse parents of another project."""
    mismatch = _("%(parent)s belongs to another project.")
    if isinstance(instance, Unit):
        instance.project_id = instance.building.project_id
        instance.zone_id = instance.building.zone_id
        return
    project_id = getattr(instance, "project_id", None)
    for name in ("zone", "building", "unit"):
        parent = getattr(instance, name, None) if hasattr(instance, name + "_id") else None
        if parent is None:
            continue
        if project_id is None:
            project_id = instance.project_id = parent.project_id  # type: ignore[attr-defined]
        elif parent.project_id != project_id:
            raise ServiceError(mismatch % {"parent": parent}, code="wrong_project", field=name)
    if isinstance(instance, Facility) and instance.building is not None and instance.zone_id is None:
        instance.zone_id = instance.building.zone_id


def _refuse_archived_parents(instance: Archivable) -> None:
    for name in ("project", "zone", "building", "unit"):
        parent = getattr(instance, name, None) if hasattr(instance, name + "_id") else None
        if isinstance(parent, Archivable) and parent.is_archived:
            raise ServiceError(
                _("%(parent)s is archived; restore it first.") % {"parent": parent}, code="parent_archived", field=name
            )


def _save(by: Any, instance: R, values: dict[str, Any], *, creating: bool) -> R:
    model = type(instance)
    unknown = set(values) - set(fields_for(model, creating=creating))
    if unknown:
        raise ServiceError(
            _("These cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))},
            code="not_editable",
            field=sorted(unknown)[0],
        )
    require(by, policies.perm("add" if creating else "change", _entity(model)))
    if not creating:
        if instance.is_archived:
            raise ServiceError(_("An archived record cannot be changed; restore it first."), code="archived")
        _require_in_scope(by, instance)  # where it is now
    before = None if creating else _audited(instance)
    for name, value in values.items():
        setattr(instance, name, value.strip() if isinstance(value, str) else value)
    _place(instance)
    _require_in_scope(by, instance)  # where it goes
    _refuse_archived_parents(instance)
    try:
        instance.full_clean()
    except ValidationError as error:
        raise ServiceError.from_validation(error) from None
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        # A constraint full_clean could not see (a concurrent insert): the database has the last word.
        raise ServiceError(_("This conflicts with another record: %(detail)s") % {"detail": error}) from None
    audit_record(
        actor=by,
        action=AuditAction.CREATED if creating else AuditAction.CHANGED,
        instance=instance,
        before=before,
        after=_audited(instance),
    )
    return instance


def _archive(by: Any, instance: R, *, children: dict[str, Any] | None = None) -> R:
    require(by, policies.perm("change", _entity(type(instance))))
    _require_in_scope(by, instance)
    if instance.is_archived:
        raise ServiceError(_("This is already archived."), code="already_archived")
    for label, queryset in (children or {}).items():
        if queryset.filter(archived_at__isnull=True).exists():
            raise ServiceError(
                _("It still has %(children)s in use; archive them first.") % {"children": label}, code="has_children"
            )
    instance.archived_at = timezone.now()
    instance.save(update_fields=["archived_at", "updated_at"])
    audit_record(
        actor=by,
        action=AuditAction.ARCHIVED,
        instance=instance,
        before={"archived_at": None},
        after={"archived_at": instance.archived_at.isoformat()},
    )
    return instance


def _restore(by: Any, instance: R) -> R:
    require(by, policies.perm("change", _entity(type(instance))))
    _require_in_scope(by, instance)
    if not instance.is_archived:
        raise ServiceError(_("This is not archived."), code="not_archived")
    _refuse_archived_parents(instance)
    before = {"archived_at": instance.archived_at.isoformat() if instance.archived_at else None}
    instance.archived_at = None
    instance.save(update_fields=["archived_at", "updated_at"])
    audit_record(actor=by, action=AuditAction.RESTORED, instance=instance, before=before, after={"archived_at": None})
    return instance


def _delete(by: Any, instance: Archivable) -> None:
    """Delete a record nothing refers to (one entered by mistake). Anything with a history is archived:
    the PROTECT foreign keys of every module say what a history is."""
    require(by, policies.perm("delete", _entity(type(instance))))
    _require_in_scope(by, instance)
    before = _audited(instance)
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as error:
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in error.protected_objects})
        raise ServiceError(
            _("It cannot be deleted: %(kinds)s refer to it. Archive it instead.") % {"kinds": ", ".join(kinds)},
            code="in_use",
        ) from None
    audit_record(actor=by, action=AuditAction.DELETED, instance=instance, before=before, after=None)


# ------------------------------------------------------------------------------------------ projects
@transaction.atomic
def project_create(
    *,
    by: Any,
    name: str,
    code: str,
    address: str = "",
    total_floor_area: Decimal | None = None,
    committee_contact: str = "",
    collection_rate_target: Decimal | None = None,
) -> Project:
    return _save(
        by,
        Project(),
        {
            "name": name,
            "code": (code or "").strip().lower(),
            "address": address,
            "total_floor_area": total_floor_area,
            "committee_contact": committee_contact,
            "collection_rate_target": collection_rate_target,
        },
        creating=True,
    )


@transaction.atomic
def project_update(*, by: Any, project: Project, **changes: Any) -> Project:
    if "code" in changes:
        changes["code"] = (changes["code"] or "").strip().lower()
    return _save(by, Project.objects.select_for_update().get(pk=project.pk), changes, creating=False)


@transaction.atomic
def project_archive(*, by: Any, project: Project) -> Project:
    return _archive(by, project, children={_("buildings"): project.buildings.all(), _("zones"): project.zones.all()})


@transaction.atomic
def project_restore(*, by: Any, project: Project) -> Project:
    return _restore(by, project)


@transaction.atomic
def project_delete(*, by: Any, project: Project) -> None:
    _delete(by, project)


# ------------------------------------------------------------------------------------------ zones
@transaction.atomic
def zone_create(*, by: Any, project: Project, name: str, sort_order: int = 100) -> Zone:
    return _save(by, Zone(project=project), {"name": name, "sort_order": sort_order}, creating=True)


@transaction.atomic
def zone_update(*, by: Any, zone: Zone, **changes: Any) -> Zone:
    return _save(by, Zone.objects.select_for_update().get(pk=zone.pk), changes, creating=False)


@transaction.atomic
def zone_archive(*, by: Any, zone: Zone) -> Zone:
    return _archive(by, zone, children={_("buildings"): zone.buildings.all()})


@transaction.atomic
def zone_restore(*, by: Any, zone: Zone) -> Zone:
    return _restore(by, zone)


@transaction.atomic
def zone_delete(*, by: Any, zone: Zone) -> None:
    _delete(by, zone)


# ------------------------------------------------------------------------------------------ buildings
@transaction.atomic
def building_create(
    *,
    by: Any,
    project: Project,
    name: str,
    zone: Zone | None = None,
    floors_above: int | None = None,
    floors_below: int = 0,
    sort_order: int = 100,
) -> Building:
    values = {"name": name, "zone": zone, "floors_above": floors_above, "floors_below": floors_below}
    return _save(by, Building(project=project), values | {"sort_order": sort_order}, creating=True)


@transaction.atomic
def building_update(*, by: Any, building: Building, **changes: Any) -> Building:
    building = _save(by, Building.objects.select_for_update().get(pk=building.pk), changes, creating=False)
    # A building moved to another zone takes its units along (their zone is a copy of the building's).
    Unit.objects.filter(building=building).exclude(zone=building.zone).update(zone=building.zone)
    return building


@transaction.atomic
def building_archive(*, by: Any, building: Building) -> Building:
    return _archive(by, building, children={_("units"): building.units.all()})


@transaction.atomic
def building_restore(*, by: Any, building: Building) -> Building:
    return _restore(by, building)


@transaction.atomic
def building_delete(*, by: Any, building: Building) -> None:
    _delete(by, building)


# ------------------------------------------------------------------------------------------ units
@transaction.atomic
def unit_create(
    *,
    by: Any,
    building: Building,
    number: str,
    floor: int,
    floor_area: Decimal,
    kind: str = "flat",
    status: str = "unsold",
) -> Unit:
    values = {"building": building, "number": number, "floor": floor, "floor_area": floor_area}
    return _save(by, Unit(), values | {"kind": kind, "status": status}, creating=True)


@transaction.atomic
def unit_update(*, by: Any, unit: Unit, **changes: Any) -> Unit:
    return _save(by, Unit.objects.select_for_update().get(pk=unit.pk), changes, creating=False)


@transaction.atomic
def unit_archive(*, by: Any, unit: Unit) -> Unit:
    return _archive(by, unit, children={_("meters"): unit.meters.all()})


@transaction.atomic
def unit_restore(*, by: Any, unit: Unit) -> Unit:
    return _restore(by, unit)


@transaction.atomic
def unit_delete(*, by: Any, unit: Unit) -> None:
    _delete(by, unit)


# ------------------------------------------------------------------------------------------ parking spaces
@transaction.atomic
def parking_space_create(
    *,
    by: Any,
    project: Project,
    number: str,
    zone: Zone | None = None,
    kind: str = "underground",
    location: str = "",
    floor_area: Decimal | None = None,
    status: str = "available",
) -> ParkingSpace:
    values = {"zone": zone, "number": number, "kind": kind, "location": location, "floor_area": floor_area}
    return _save(by, ParkingSpace(project=project), values | {"status": status}, creating=True)


@transaction.atomic
def parking_space_update(*, by: Any, parking_space: ParkingSpace, **changes: Any) -> ParkingSpace:
    return _save(by, ParkingSpace.objects.select_for_update().get(pk=parking_space.pk), changes, creating=False)


@transaction.atomic
def parking_space_archive(*, by: Any, parking_space: ParkingSpace) -> ParkingSpace:
    return _archive(by, parking_space)


@transaction.atomic
def parking_space_restore(*, by: Any, parking_space: ParkingSpace) -> ParkingSpace:
    return _restore(by, parking_space)


@transaction.atomic
def parking_space_delete(*, by: Any, parking_space: ParkingSpace) -> None:
    _delete(by, parking_space)


# ------------------------------------------------------------------------------------------ meters
@transaction.atomic
def meter_create(
    *,
    by: Any,
    project: Project,
    kind: str,
    serial: str,
    unit: Unit | None = None,
    multiplier: Decimal = Decimal("1"),
    location: str = "",
) -> Meter:
    values = {"unit": unit, "kind": kind, "serial": serial, "multiplier": multiplier, "location": location}
    return _save(by, Meter(project=project), values, creating=True)


@transaction.atomic
def meter_update(*, by: Any, meter: Meter, **changes: Any) -> Meter:
    return _save(by, Meter.objects.select_for_update().get(pk=meter.pk), changes, creating=False)


@transaction.atomic
def meter_archive(*, by: Any, meter: Meter) -> Meter:
    return _archive(by, meter)


@transaction.atomic
def meter_restore(*, by: Any, meter: Meter) -> Meter:
    return _restore(by, meter)


@transaction.atomic
def meter_delete(*, by: Any, meter: Meter) -> None:
    _delete(by, meter)


# ------------------------------------------------------------------------------------------ facilities
@transaction.atomic
def facility_create(
    *,
    by: Any,
    project: Project,
    kind: str,
    name: str,
    zone: Zone | None = None,
    building: Building | None = None,
    location: str = "",
    serial: str = "",
    maintainer: str = "",
    installed_on: Any = None,
    status: str = "in_service",
) -> Facility:
    values = {"zone": zone, "building": building, "kind": kind, "name": name, "location": location}
    values |= {"serial": serial, "maintainer": maintainer, "installed_on": installed_on, "status": status}
    return _save(by, Facility(project=project), values, creating=True)


@transaction.atomic
def facility_update(*, by: Any, facility: Facility, **changes: Any) -> Facility:
    return _save(by, Facility.objects.select_for_update().get(pk=facility.pk), changes, creating=False)


@transaction.atomic
def facility_archive(*, by: Any, facility: Facility) -> Facility:
    return _archive(by, facility)


@transaction.atomic
def facility_restore(*, by: Any, facility: Facility) -> Facility:
    return _restore(by, facility)


@transaction.atomic
def facility_delete(*, by: Any, facility: Facility) -> None:
    _delete(by, facility)
