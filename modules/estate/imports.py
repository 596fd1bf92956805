"""Spreadsheet imports and exports of the estate (registered into wuye.imports from apps.py):

    buildings_units  one row per unit; zones and buildings named that do not exist yet are created
    parking_spaces   one row per parking space
    meters           one row per meter; on a unit (building + unit number) or common (both empty)

The checks run over the whole file in memory, with one query per kind of record looked up (projects,
zones, buildings, the units already there), never one per row. The model is the source of truth for
what a value may be: each row becomes an unsaved instance and goes through the model's own field
validation (`full_clean` without the unique and constraint checks, which would cost a query per row;
uniqueness is checked against the records fetched up front, with the constraints' own messages).

Who may import: the add permission of what a kind creates (a row that creates a building needs
estate.add_building too), and every row must lie in the importer's scope, as in the services.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from wuye.core.policies import allowed
from wuye.core.scope import Scope, scope_of
from wuye.imports.registry import Column, Context, ImportKind, Problem, Row, register

from . import policies, selectors
from .models import (
    Building,
    Meter,
    MeterKind,
    ParkingKind,
    ParkingSpace,
    ParkingStatus,
    Project,
    Unit,
    UnitKind,
    UnitStatus,
    Zone,
)

BULK_SIZE = 1000


# ------------------------------------------------------------------------------------------ values
@dataclass(frozen=True)
class Words:
    """The words a spreadsheet may use for a choice: the code, its Chinese word (what exports in Chinese
    write), the English label, and other words people use."""

    codes: dict[str, tuple[str, ...]]  # code -> (Chinese word, other accepted words...)

    def parse(self, text: str) -> str | None:
        wanted = text.strip().casefold()
        for code, words in self.codes.items():
            if wanted == code or wanted in (word.casefold() for word in words):
                return code
        return None

    def word(self, code: str, language: str | None = None) -> str:
        chinese = (language or get_language() or "zh-hans").lower().startswith("zh")
        return self.codes[code][0] if chinese and code in self.codes else code

    def listed(self) -> str:
        return ", ".join(f"{words[0]}/{code}" for code, words in self.codes.items())


UNIT_KINDS = Words(
    {
        UnitKind.FLAT: ("住宅", "flat", "住房", "公寓"),
        UnitKind.SHOP: ("商铺", "shop", "商业", "门面"),
        UnitKind.GARAGE: ("车库", "garage"),
        UnitKind.OTHER: ("其他", "other", "其它"),
    }
)
UNIT_STATUSES = Words(
    {
        UnitStatus.UNSOLD: ("未售", "unsold"),
        UnitStatus.VACANT: ("空置", "vacant"),
        UnitStatus.OCCUPIED: ("入住", "occupied", "已入住"),
        UnitStatus.RENOVATING: ("装修中", "renovating", "装修"),
    }
)
PARKING_KINDS = Words(
    {
        ParkingKind.UNDERGROUND: ("地下", "underground", "地下车位"),
        ParkingKind.SURFACE: ("地面", "surface", "地上", "地面车位"),
        ParkingKind.MECHANICAL: ("机械", "mechanical", "机械车位"),
    }
)
PARKING_STATUSES = Words(
    {
        ParkingStatus.AVAILABLE: ("空闲", "available", "可售", "未售"),
        ParkingStatus.SOLD: ("已售", "sold"),
        ParkingStatus.RENTED: ("已租", "rented", "出租"),
        ParkingStatus.RESERVED: ("预留", "reserved", "保留"),
    }
)
METER_KINDS = Words(
    {
        MeterKind.WATER: ("水", "water", "水表"),
        MeterKind.ELECTRICITY: ("电", "electricity", "电表"),
        MeterKind.GAS: ("气", "gas", "气表", "燃气", "燃气表"),
    }
)


def _unique_message(model: type[models.Model], name: str) -> str:
    """The message of one of the model's unique constraints: the same words the form would show."""
    for constraint in model._meta.constraints:
        if constraint.name == name:
            return str(constraint.violation_error_message)
    raise LookupError(name)


class RowCheck:
    """The problems of one row, and the values parsed so far."""

    def __init__(self, row: Row, problems: list[Problem]) -> None:
        self.row = row
        self.problems = problems
        self.bad: set[str] = set()

    def add(self, column: str, reason: str, value: str | None = None) -> None:
        self.bad.add(column)
        self.problems.append(Problem(self.row.number, column, self.row.get(column) if value is None else value, reason))

    @property
    def ok(self) -> bool:
        return not self.bad

    def text(self, column: str, *, required: bool = False) -> str:
        text = self.row.get(column).strip()
        if required and not text:
            self.add(column, _("This column must be filled in."))
        return text

    def integer(self, column: str, *, required: bool = False) -> int | None:
        text = self.text(column, required=required)
        if not text:
            return None
        try:
            value = decimal.Decimal(text)
            if value != value.to_integral_value():
                raise decimal.InvalidOperation
            return int(value)
        except (decimal.InvalidOperation, ValueError):
            self.add(column, _("Enter a whole number."))
            return None

    def decimal(self, column: str, *, required: bool = False) -> decimal.Decimal | None:
        text = self.text(column, required=required).replace(",", "")
        if not text:
            return None
        try:
            value = decimal.Decimal(text)
            if not value.is_finite():
                raise decimal.InvalidOperation
            return value
        except (decimal.InvalidOperation, ValueError):
            self.add(column, _("Enter a number, such as 89.50."))
            return None

    def choice(self, column: str, words: Words, default: str | None = None) -> str | None:
        text = self.text(column, required=default is None)
        if not text:
            return default
        code = words.parse(text)
        if code is None:
            self.add(column, _("Unknown value. Use one of: %(values)s") % {"values": words.listed()})
        return code

    def validate(self, instance: models.Model, columns: dict[str, str]) -> None:
        """The model's own field validation (lengths, ranges, choices, decimal places) for the fields
        the row supplies (`columns`: field -> column), except those already found bad."""
        names = {f.name for f in instance._meta.fields}
        checked = {name for name, column in columns.items() if column not in self.bad}
        try:
            instance.full_clean(exclude=names - checked, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                column = columns.get(name, "")
                for message in messages:
                    self.add(column, message)


class Lookups:
    """What every row of a file may refer to, fetched once: the projects the importer can see, by code,
    and the zones and buildings of the projects the file names."""

    def __init__(self, viewer: Any, rows: list[Row]) -> None:
        codes = {row.get("project").strip().lower() for row in rows} - {""}
        self.projects = {
            project.code: project
            for project in selectors.records(Project, viewer=viewer, archived="all").filter(code__in=codes)
        }
        ids = [project.pk for project in self.projects.values()]
        self.zones = {(zone.project_id, zone.name): zone for zone in Zone.objects.filter(project_id__in=ids)}
        self.buildings = {
            (building.project_id, building.name): building
            for building in Building.objects.filter(project_id__in=ids).select_related("zone")
        }
        self.scope: Scope = scope_of(viewer)
        self.project_ids = ids

    def project(self, check: RowCheck) -> Project | None:
        code = check.text("project", required=True).lower()
        if not code:
            return None
        project = self.projects.get(code)
        if project is None:
            check.add("project", _("There is no project with this code among those you work in."))
        elif project.is_archived:
            check.add("project", _("This project is archived."))
            return None
        return project

    def in_scope(self, check: RowCheck, column: str, project: Project, zone_id: Any) -> bool:
        if self.scope.covers(project_id=project.pk, zone_id=zone_id):
            return True
        check.add(column, _("This is outside the projects and zones you work in."))
        return False


def _archived(check: RowCheck, column: str, record: Any) -> bool:
    if record is not None and record.is_archived:
        check.add(column, _("%(record)s is archived; restore it first.") % {"record": record})
        return True
    return False


# ------------------------------------------------------------------------------------------ buildings + units
UNIT_COLUMNS = (
    Column(
        "project",
        "项目编码",
        "Project code",
        required=True,
        examples=("huating", "huating"),
        help=gettext_lazy("The code of a project you work in, as on the project's page."),
    ),
    Column(
        "zone",
        "分区",
        "Zone",
        examples=("一区", ""),
        examples_en=("Zone 1", ""),
        help=gettext_lazy("Optional. A zone of the project; a new name creates the zone."),
    ),
    Column(
        "building",
        "楼栋",
        "Building",
        required=True,
        examples=("1栋", "2栋"),
        examples_en=("Block 1", "Block 2"),
        help=gettext_lazy("A building of the project; a new name creates the building."),
    ),
    Column(
        "unit",
        "房号",
        "Unit number",
        required=True,
        examples=("1-1201", "S-01"),
        help=gettext_lazy("As on the door. Unique within its building."),
    ),
    Column("floor", "楼层", "Floor", required=True, examples=("12", "1"), help=gettext_lazy("-20 to 200.")),
    Column(
        "kind",
        "类型",
        "Kind",
        examples=("住宅", "商铺"),
        examples_en=("flat", "shop"),
        help=gettext_lazy("住宅/flat, 商铺/shop, 车库/garage or 其他/other. Empty: flat."),
    ),
    Column(
        "floor_area",
        "建筑面积",
        "Floor area",
        required=True,
        examples=("89.50", "120.00"),
        help=gettext_lazy("Square metres, at most two decimals."),
    ),
    Column(
        "status",
        "状态",
        "Status",
        examples=("未售", "空置"),
        examples_en=("unsold", "vacant"),
        help=gettext_lazy("未售/unsold, 空置/vacant, 入住/occupied or 装修中/renovating. Empty: unsold."),
    ),
)
_UNIT_FIELDS = {"number": "unit", "floor": "floor", "kind": "kind", "floor_area": "floor_area", "status": "status"}


@dataclass
class _NewParents:
    zones: dict[tuple[Any, str], Zone] = field(default_factory=dict)
    buildings: dict[tuple[Any, str], Building] = field(default_factory=dict)
    # The row that first stated a new building's zone (to name it when a later row disagrees).
    zone_rows: dict[tuple[Any, str], int] = field(default_factory=dict)


def check_units(rows: list[Row], context: Context) -> tuple[list[Any], list[Problem]]:
    viewer = context.viewer
    problems: list[Problem] = []
    lookups = Lookups(viewer, rows)
    may_add_zone = allowed(viewer, policies.perm("add", "zone"))
    may_add_building = allowed(viewer, policies.perm("add", "building"))
    taken = set(
        Unit.objects.filter(project_id__in=lookups.project_ids).values_list("building_id", "number").iterator(2000)
    )
    duplicate = _unique_message(Unit, "estate_unit_number_unique_in_building")
    new = _NewParents()
    seen: dict[tuple[Any, str, str], int] = {}
    planned: list[tuple[RowCheck, Unit]] = []
    for row in rows:
        check = RowCheck(row, problems)
        project = lookups.project(check)
        zone_name = check.text("zone")
        building_name = check.text("building", required=True)
        number = check.text("unit", required=True)
        values: dict[str, Any] = {
            "number": number,
            "floor": check.integer("floor", required=True),
            "kind": check.choice("kind", UNIT_KINDS, UnitKind.FLAT),
            "floor_area": check.decimal("floor_area", required=True),
            "status": check.choice("status", UNIT_STATUSES, UnitStatus.UNSOLD),
        }
        unit = Unit(**values)
        check.validate(unit, _UNIT_FIELDS)
        if project is None or not building_name:
            continue
        zone = _zone_for(check, lookups, new, project, zone_name, may_add=may_add_zone) if zone_name else None
        building = _building_for(check, lookups, new, project, building_name, zone, may_add=may_add_building)
        if building is None or not number:
            continue
        key = (project.pk, building_name, number)
        if key in seen:
            check.add(
                "unit", _("The file has this unit in this building already, in row %(row)s.") % {"row": seen[key]}
            )
        elif (building.pk, number) in taken:
            check.add("unit", duplicate)
        seen.setdefault(key, row.number)
        unit.project = project
        unit.building = building
        planned.append((check, unit))
    # Scope once every new building's zone is known (a later row may have named it).
    clean: list[Unit] = []
    for check, unit in planned:
        building = unit.building
        zone = building.zone
        if zone is not None and zone._state.adding:
            lookups.in_scope(check, "zone", unit.project, None)  # a new zone: a project-wide matter
        else:
            lookups.in_scope(check, "building", unit.project, building.zone_id)
        if check.ok:
            unit.zone = zone
            clean.append(unit)
    return clean, problems


def _zone_for(
    check: RowCheck, lookups: Lookups, new: _NewParents, project: Project, name: str, *, may_add: bool
) -> Zone | None:
    zone = lookups.zones.get((project.pk, name)) or new.zones.get((project.pk, name))
    if zone is not None:
        return None if _archived(check, "zone", zone) else zone
    if not may_add:
        check.add("zone", _("The project has no zone of this name, and you may not create zones."))
        return None
    zone = Zone(project=project, name=name)
    check.validate(zone, {"name": "zone"})
    new.zones[(project.pk, name)] = zone
    return zone


def _building_for(
    check: RowCheck,
    lookups: Lookups,
    new: _NewParents,
    project: Project,
    name: str,
    zone: Zone | None,
    *,
    may_add: bool,
) -> Building | None:
    zone_name = check.row.get("zone").strip()
    key = (project.pk, name)
    building = lookups.buildings.get(key)
    if building is not None:
        if _archived(check, "building", building):
            return None
        if zone_name and zone is not None and building.zone_id != zone.pk:
            where = building.zone.name if building.zone else _("no zone")
            check.add("zone", _("%(building)s is in %(zone)s.") % {"building": building, "zone": where})
        return building
    building = new.buildings.get(key)
    if building is None:
        if not may_add:
            check.add("building", _("The project has no building of this name, and you may not create buildings."))
            return None
        building = Building(project=project, zone=zone, name=name)
        check.validate(building, {"name": "building"})
        new.buildings[key] = building
        if zone_name:
            new.zone_rows[key] = check.row.number
        return building
    if zone_name and zone is not None:
        if building.zone is None and key not in new.zone_rows:
            building.zone = zone  # the first row that names the new building's zone
            new.zone_rows[key] = check.row.number
        elif building.zone is not zone:
            check.add(
                "zone",
                _("Row %(row)s puts this new building in another zone.") % {"row": new.zone_rows.get(key, "?")},
            )
    return building


def _chunks(records: list[Any], size: int = BULK_SIZE) -> Iterator[list[Any]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def _new(records: Iterable[Any]) -> list[Any]:
    """The unsaved records among `records`, each once, in order of appearance."""
    found: dict[int, Any] = {}
    for record in records:
        if record is not None and record._state.adding:
            found.setdefault(id(record), record)
    return list(found.values())


def write_units(clean: list[Any], context: Context) -> list[models.Model]:
    units: list[Unit] = clean
    zones = _new(unit.building.zone for unit in units)
    buildings = _new(unit.building for unit in units)
    Zone.objects.bulk_create(zones, batch_size=BULK_SIZE)
    Building.objects.bulk_create(buildings, batch_size=BULK_SIZE)
    done = 0
    for chunk in _chunks(units):
        for unit in chunk:
            # A unit is where its building is (kept by services; the composite keys hold it in the database).
            # A new building's zone may have been named by a later row than this unit's.
            unit.project_id = unit.building.project_id
            unit.zone_id = unit.building.zone_id
        Unit.objects.bulk_create(chunk)
        done += len(chunk)
        context.progress(done)
    return [*zones, *buildings, *units]


def export_units(viewer: Any) -> Iterator[dict[str, Any]]:
    language = get_language()
    units = selectors.records(Unit, viewer=viewer).order_by("project__code", "building__name", "floor", "number")
    for unit in units.iterator(2000):
        yield {
            "project": unit.project.code,
            "zone": unit.zone.name if unit.zone else "",
            "building": unit.building.name,
            "unit": unit.number,
            "floor": unit.floor,
            "kind": UNIT_KINDS.word(unit.kind, language),
            "floor_area": unit.floor_area,
            "status": UNIT_STATUSES.word(unit.status, language),
        }


# ------------------------------------------------------------------------------------------ parking spaces
PARKING_COLUMNS = (
    Column("project", "项目编码", "Project code", required=True, examples=("huating", "huating")),
    Column(
        "zone",
        "分区",
        "Zone",
        examples=("一区", ""),
        examples_en=("Zone 1", ""),
        help=gettext_lazy("Optional. An existing zone of the project."),
    ),
    Column(
        "number",
        "车位号",
        "Space number",
        required=True,
        examples=("B1-001", "A-018"),
        help=gettext_lazy("Unique within the project."),
    ),
    Column(
        "kind",
        "类型",
        "Kind",
        examples=("地下", "地面"),
        examples_en=("underground", "surface"),
        help=gettext_lazy("地下/underground, 地面/surface or 机械/mechanical. Empty: underground."),
    ),
    Column(
        "location",
        "位置",
        "Location",
        examples=("负一层 A区", "东门"),
        examples_en=("Level -1, area A", "East gate"),
    ),
    Column(
        "floor_area",
        "面积",
        "Floor area",
        examples=("12.50", ""),
        help=gettext_lazy("Optional. Square metres."),
    ),
    Column(
        "status",
        "状态",
        "Status",
        examples=("空闲", "已售"),
        examples_en=("available", "sold"),
        help=gettext_lazy("空闲/available, 已售/sold, 已租/rented or 预留/reserved. Empty: available."),
    ),
)
_PARKING_FIELDS = {
    "number": "number",
    "kind": "kind",
    "location": "location",
    "floor_area": "floor_area",
    "status": "status",
}


def check_parking(rows: list[Row], context: Context) -> tuple[list[Any], list[Problem]]:
    problems: list[Problem] = []
    lookups = Lookups(context.viewer, rows)
    taken = set(ParkingSpace.objects.filter(project_id__in=lookups.project_ids).values_list("project_id", "number"))
    duplicate = _unique_message(ParkingSpace, "estate_parking_number_unique_in_project")
    seen: dict[tuple[Any, str], int] = {}
    clean: list[ParkingSpace] = []
    for row in rows:
        check = RowCheck(row, problems)
        project = lookups.project(check)
        values: dict[str, Any] = {
            "number": check.text("number", required=True),
            "kind": check.choice("kind", PARKING_KINDS, ParkingKind.UNDERGROUND),
            "location": check.text("location"),
            "floor_area": check.decimal("floor_area"),
            "status": check.choice("status", PARKING_STATUSES, ParkingStatus.AVAILABLE),
        }
        space = ParkingSpace(**values)
        check.validate(space, _PARKING_FIELDS)
        if project is None:
            continue
        zone = None
        zone_name = check.text("zone")
        if zone_name:
            zone = lookups.zones.get((project.pk, zone_name))
            if zone is None:
                check.add("zone", _("The project has no zone of this name."))
            elif _archived(check, "zone", zone):
                zone = None
        if space.number:
            key = (project.pk, space.number)
            if key in seen:
                check.add("number", _("The file has this number already, in row %(row)s.") % {"row": seen[key]})
            elif key in taken:
                check.add("number", duplicate)
            seen.setdefault(key, row.number)
        lookups.in_scope(check, "zone" if zone else "project", project, zone.pk if zone else None)
        if check.ok:
            space.project = project
            space.zone = zone
            clean.append(space)
    return clean, problems


def write_parking(clean: list[Any], context: Context) -> list[models.Model]:
    done = 0
    for chunk in _chunks(clean):
        ParkingSpace.objects.bulk_create(chunk)
        done += len(chunk)
        context.progress(done)
    return list(clean)


def export_parking(viewer: Any) -> Iterator[dict[str, Any]]:
    language = get_language()
    spaces = selectors.records(ParkingSpace, viewer=viewer).order_by("project__code", "number")
    for space in spaces.iterator(2000):
        yield {
            "project": space.project.code,
            "zone": space.zone.name if space.zone else "",
            "number": space.number,
            "kind": PARKING_KINDS.word(space.kind, language),
            "location": space.location,
            "floor_area": space.floor_area,
            "status": PARKING_STATUSES.word(space.status, language),
        }


# ------------------------------------------------------------------------------------------ meters
METER_COLUMNS = (
    Column("project", "项目编码", "Project code", required=True, examples=("huating", "huating")),
    Column(
        "kind",
        "表类",
        "Meter kind",
        required=True,
        examples=("水", "电"),
        examples_en=("water", "electricity"),
        help=gettext_lazy("水/water, 电/electricity or 气/gas."),
    ),
    Column(
        "serial",
        "表号",
        "Serial number",
        required=True,
        examples=("W2026001", "E2026001"),
        help=gettext_lazy("Unique within the project for its kind of meter."),
    ),
    Column(
        "multiplier",
        "倍率",
        "Multiplier",
        examples=("1", "40"),
        help=gettext_lazy("Optional. Readings are multiplied by it (current transformer ratio). Empty: 1."),
    ),
    Column(
        "building",
        "楼栋",
        "Building",
        examples=("1栋", ""),
        examples_en=("Block 1", ""),
        help=gettext_lazy("With the unit number, for a unit's meter. Both empty: a common meter."),
    ),
    Column("unit", "房号", "Unit number", examples=("1-1201", ""), help=gettext_lazy("See Building.")),
    Column(
        "location",
        "位置",
        "Location",
        examples=("管道井", "配电房"),
        examples_en=("Pipe shaft", "Switch room"),
    ),
)
_METER_FIELDS = {"kind": "kind", "serial": "serial", "multiplier": "multiplier", "location": "location"}


def check_meters(rows: list[Row], context: Context) -> tuple[list[Any], list[Problem]]:
    problems: list[Problem] = []
    lookups = Lookups(context.viewer, rows)
    # The units the file may name: (project, building name, number) -> (id, zone, archived).
    units = {
        (project_id, building_name, number): (pk, zone_id, archived_at)
        for pk, project_id, building_name, number, zone_id, archived_at in Unit.objects.filter(
            project_id__in=lookups.project_ids,
            building__name__in={row.get("building").strip() for row in rows} - {""},
        )
        .values_list("pk", "project_id", "building__name", "number", "zone_id", "archived_at")
        .iterator(2000)
    }
    taken = set(Meter.objects.filter(project_id__in=lookups.project_ids).values_list("project_id", "kind", "serial"))
    duplicate = _unique_message(Meter, "estate_meter_serial_unique")
    seen: dict[tuple[Any, str, str], int] = {}
    clean: list[Meter] = []
    for row in rows:
        check = RowCheck(row, problems)
        project = lookups.project(check)
        multiplier = check.decimal("multiplier")
        values: dict[str, Any] = {
            "kind": check.choice("kind", METER_KINDS),
            "serial": check.text("serial", required=True),
            "multiplier": decimal.Decimal("1") if multiplier is None else multiplier,
            "location": check.text("location"),
        }
        meter = Meter(**values)
        check.validate(meter, _METER_FIELDS)
        building_name, number = check.text("building"), check.text("unit")
        if building_name and not number:
            check.add("unit", _("A meter on a unit needs the unit number too (both empty: a common meter)."))
        elif number and not building_name:
            check.add("building", _("A meter on a unit needs the building too (both empty: a common meter)."))
        if project is None:
            continue
        zone_id = None
        if building_name and number:
            found = units.get((project.pk, building_name, number))
            if found is None:
                check.add(
                    "unit",
                    _("The project has no unit %(unit)s in %(building)s.")
                    % {
                        "unit": number,
                        "building": building_name,
                    },
                )
            elif found[2] is not None:
                check.add("unit", _("This unit is archived."))
            else:
                meter.unit_id, zone_id = found[0], found[1]
        if meter.kind and meter.serial:
            key = (project.pk, meter.kind, meter.serial)
            if key in seen:
                check.add("serial", _("The file has this meter already, in row %(row)s.") % {"row": seen[key]})
            elif key in taken:
                check.add("serial", duplicate)
            seen.setdefault(key, row.number)
        lookups.in_scope(check, "unit" if zone_id else "project", project, zone_id)
        if check.ok:
            meter.project = project
            clean.append(meter)
    return clean, problems


def write_meters(clean: list[Any], context: Context) -> list[models.Model]:
    done = 0
    for chunk in _chunks(clean):
        Meter.objects.bulk_create(chunk)
        done += len(chunk)
        context.progress(done)
    return list(clean)


def export_meters(viewer: Any) -> Iterator[dict[str, Any]]:
    language = get_language()
    meters = selectors.records(Meter, viewer=viewer).order_by("project__code", "kind", "serial")
    for meter in meters.iterator(2000):
        yield {
            "project": meter.project.code,
            "kind": METER_KINDS.word(meter.kind, language),
            "serial": meter.serial,
            "multiplier": meter.multiplier.normalize()
            if meter.multiplier == meter.multiplier.to_integral()
            else meter.multiplier,
            "building": meter.unit.building.name if meter.unit else "",
            "unit": meter.unit.number if meter.unit else "",
            "location": meter.location,
        }


# ------------------------------------------------------------------------------------------ registration
def register_kinds() -> None:
    register(
        ImportKind(
            code="buildings_units",
            label=gettext_lazy("Buildings and units"),
            description=gettext_lazy("One row per unit. Zones and buildings not yet entered are created."),
            columns=UNIT_COLUMNS,
            permission=policies.perm("add", "unit"),
            check=check_units,
            write=write_units,
            export=export_units,
            order=10,
        )
    )
    register(
        ImportKind(
            code="parking_spaces",
            label=gettext_lazy("Parking spaces"),
            description=gettext_lazy("One row per parking space."),
            columns=PARKING_COLUMNS,
            permission=policies.perm("add", "parkingspace"),
            check=check_parking,
            write=write_parking,
            export=export_parking,
            order=20,
        )
    )
    register(
        ImportKind(
            code="meters",
            label=gettext_lazy("Meters"),
            description=gettext_lazy("One row per meter: on a unit, or common when no unit is given."),
            columns=METER_COLUMNS,
            permission=policies.perm("add", "meter"),
            check=check_meters,
            write=write_meters,
            export=export_meters,
            order=30,
        )
    )
