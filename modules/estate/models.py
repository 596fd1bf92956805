"""The estate (DOMAIN.md §1): projects (项目), zones (分区), buildings (栋), units (房屋), parking spaces (车位),
meters (水、电、气表) and common facilities (公共设施).

Records are archived, never deleted once something refers to them: a unit with an owner, a bill or a
repair has a history that outlives it. Every record below a project also carries its project (and, where
it has one, its zone), tied to its parent by a composite foreign key (migration 0002), so "a building in
zone Z of another project" cannot exist even if a service forgot to check, and scope filters need no join.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.core.models import TimeStampedModel

# The largest floor area a single unit, space or project may have; anything larger is a typing error.
UNIT_AREA_MAX = Decimal("100000.00")
PROJECT_AREA_MAX = Decimal("100000000.00")


class Archivable(TimeStampedModel):
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, db_index=True)

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Project(Archivable):
    """A managed estate (项目 / 小区)."""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=30, help_text=_("A short code used in unit numbers and exports."))
    address = models.CharField(_("address"), max_length=300, blank=True)
    total_floor_area = models.DecimalField(
        _("total floor area (m²)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(PROJECT_AREA_MAX)],
    )
    committee_contact = models.CharField(_("owners' committee contact"), max_length=200, blank=True)  # 业委会联系人
    collection_rate_target = models.DecimalField(
        _("collection rate target (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                name="estate_project_code_unique",
                violation_error_message=_("Another project has this code."),
            ),
            models.UniqueConstraint(
                fields=["name"],
                name="estate_project_name_unique",
                violation_error_message=_("Another project has this name."),
            ),
            models.CheckConstraint(
                condition=Q(total_floor_area__isnull=True) | Q(total_floor_area__gt=0),
                name="estate_project_area_positive",
            ),
            models.CheckConstraint(
                condition=Q(collection_rate_target__isnull=True)
                | Q(collection_rate_target__gte=0, collection_rate_target__lte=100),
                name="estate_project_target_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Zone(Archivable):
    """A part of a project under one or more zone customer managers (分区/片区)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="zones")
    name = models.CharField(_("name"), max_length=100)
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"],
                name="estate_zone_name_unique_in_project",
                violation_error_message=_("The project already has a zone with this name."),
            ),
            # The target of the composite foreign keys that pin a record's zone to its project.
            models.UniqueConstraint(fields=["project", "id"], name="estate_zone_project_id"),
        ]

    def __str__(self) -> str:
        return self.name


class Building(Archivable):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="buildings")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, null=True, blank=True, related_name="buildings")
    name = models.CharField(_("name"), max_length=100, help_text=_("For example 3栋 or Block 3."))
    floors_above = models.SmallIntegerField(
        _("floors above ground"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    floors_below = models.SmallIntegerField(
        _("floors below ground"), default=0, validators=[MinValueValidator(0), MaxValueValidator(20)]
    )
    sort_order = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"],
                name="estate_building_name_unique_in_project",
                violation_error_message=_("The project already has a building with this name."),
            ),
            models.UniqueConstraint(fields=["project", "id"], name="estate_building_project_id"),
            models.UniqueConstraint(fields=["id", "zone"], name="estate_building_id_zone"),
            models.CheckConstraint(
                condition=Q(floors_above__isnull=True) | Q(floors_above__gte=1, floors_above__lte=200),
                name="estate_building_floors_above_range",
            ),
            models.CheckConstraint(
                condition=Q(floors_below__gte=0, floors_below__lte=20), name="estate_building_floors_below_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class UnitKind(models.TextChoices):
    FLAT = "flat", _("Flat")  # 住宅
    SHOP = "shop", _("Shop")  # 商铺
    GARAGE = "garage", _("Garage")  # 车库
    OTHER = "other", _("Other")


class UnitStatus(models.TextChoices):
    UNSOLD = "unsold", _("Unsold")  # 未售
    VACANT = "vacant", _("Vacant")  # 空置
    OCCUPIED = "occupied", _("Occupied")  # 入住
    RENOVATING = "renovating", _("Renovating")  # 装修中


class Unit(Archivable):
    """A flat, shop, garage... (房屋/户): what owners own and fees are charged on."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="units")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="units")
    # The building's zone, copied so that scope filters and zone reports need no join (kept by services).
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, null=True, blank=True, related_name="units")
    number = models.CharField(_("number"), max_length=30, help_text=_("As on the door, for example 2-1201."))
    floor = models.SmallIntegerField(_("floor"), validators=[MinValueValidator(-20), MaxValueValidator(200)])
    kind = models.CharField(_("kind"), max_length=10, choices=UnitKind.choices, default=UnitKind.FLAT)
    floor_area = models.DecimalField(
        _("floor area (m²)"),
        max_digits=9,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(UNIT_AREA_MAX)],
    )
    status = models.CharField(_("status"), max_length=12, choices=UnitStatus.choices, default=UnitStatus.UNSOLD)

    class Meta:
        ordering = ["building__sort_order", "building__name", "floor", "number"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [
            models.UniqueConstraint(
                fields=["building", "number"],
                name="estate_unit_number_unique_in_building",
                violation_error_message=_("The building already has a unit with this number."),
            ),
            models.UniqueConstraint(fields=["project", "id"], name="estate_unit_project_id"),
            models.CheckConstraint(
                condition=Q(floor_area__gt=0, floor_area__lte=UNIT_AREA_MAX), name="estate_unit_area_range"
            ),
            models.CheckConstraint(condition=Q(floor__gte=-20, floor__lte=200), name="estate_unit_floor_range"),
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in UnitKind]), name="estate_unit_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in UnitStatus]), name="estate_unit_status_valid"
            ),
            models.CheckConstraint(condition=~Q(number=""), name="estate_unit_number_present"),
        ]
        indexes = [models.Index(fields=["project", "building", "floor"], name="estate_unit_listing")]

    def __str__(self) -> str:
        return self.number


class ParkingKind(models.TextChoices):
    UNDERGROUND = "underground", _("Underground")
    SURFACE = "surface", _("Surface")
    MECHANICAL = "mechanical", _("Mechanical")


class ParkingStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    SOLD = "sold", _("Sold")
    RENTED = "rented", _("Rented")
    RESERVED = "reserved", _("Reserved")


class ParkingSpace(Archivable):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="parking_spaces")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, null=True, blank=True, related_name="parking_spaces")
    number = models.CharField(_("number"), max_length=30)
    kind = models.CharField(_("kind"), max_length=12, choices=ParkingKind.choices, default=ParkingKind.UNDERGROUND)
    location = models.CharField(_("location"), max_length=100, blank=True, help_text=_("Level, area, row."))
    floor_area = models.DecimalField(
        _("floor area (m²)"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1000"))],
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ParkingStatus.choices, default=ParkingStatus.AVAILABLE
    )

    class Meta:
        ordering = ["number"]
        verbose_name = _("parking space")
        verbose_name_plural = _("parking spaces")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "number"],
                name="estate_parking_number_unique_in_project",
                violation_error_message=_("The project already has a parking space with this number."),
            ),
            models.CheckConstraint(
                condition=Q(floor_area__isnull=True) | Q(floor_area__gt=0, floor_area__lte=1000),
                name="estate_parking_area_range",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in ParkingKind]), name="estate_parking_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in ParkingStatus]), name="estate_parking_status_valid"
            ),
            models.CheckConstraint(condition=~Q(number=""), name="estate_parking_number_present"),
        ]

    def __str__(self) -> str:
        return self.number


class MeterKind(models.TextChoices):
    WATER = "water", _("Water")  # 水表
    ELECTRICITY = "electricity", _("Electricity")  # 电表
    GAS = "gas", _("Gas")  # 气表


class Meter(Archivable):
    """A meter on a unit, or a common meter (公共表: lifts, corridors, pumps) when it has no unit."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="meters")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="meters")
    kind = models.CharField(_("kind"), max_length=12, choices=MeterKind.choices)
    serial = models.CharField(_("serial number"), max_length=50)
    multiplier = models.DecimalField(
        _("multiplier"),
        max_digits=10,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.0001")), MaxValueValidator(Decimal("100000"))],
        help_text=_("Readings are multiplied by this (current transformer ratio)."),
    )
    location = models.CharField(_("location"), max_length=100, blank=True)

    class Meta:
        ordering = ["kind", "serial"]
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind", "serial"],
                name="estate_meter_serial_unique",
                violation_error_message=_("The project already has a meter of this kind with this serial number."),
            ),
            models.CheckConstraint(
                condition=Q(multiplier__gt=0, multiplier__lte=100000), name="estate_meter_multiplier_range"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in MeterKind]), name="estate_meter_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(serial=""), name="estate_meter_serial_present"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial}"

    @property
    def is_common(self) -> bool:
        return self.unit_id is None


class FacilityKind(models.TextChoices):
    LIFT = "lift", _("Lift")  # 电梯
    WATER_PUMP = "water_pump", _("Water pump")  # 水泵
    FIRE_SYSTEM = "fire_system", _("Fire protection system")  # 消防系统
    GENERATOR = "generator", _("Generator")  # 发电机
    ACCESS_CONTROL = "access_control", _("Access control")  # 门禁
    CCTV = "cctv", _("CCTV")  # 监控
    POWER = "power", _("Power distribution")  # 配电
    GATE = "gate", _("Vehicle gate")  # 道闸
    PLAYGROUND = "playground", _("Sports and leisure")  # 文体设施
    OTHER = "other", _("Other")


class FacilityStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("In service")
    FAULTY = "faulty", _("Faulty")
    OUT_OF_SERVICE = "out_of_service", _("Out of service")


class Facility(Archivable):
    """A common facility (公共设施设备) the project maintains."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="facilities")
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, null=True, blank=True, related_name="facilities")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True, related_name="facilities")
    kind = models.CharField(_("kind"), max_length=20, choices=FacilityKind.choices)
    name = models.CharField(_("name"), max_length=100)
    location = models.CharField(_("location"), max_length=100, blank=True)
    serial = models.CharField(_("serial number"), max_length=50, blank=True)
    maintainer = models.CharField(_("maintenance contractor"), max_length=100, blank=True)  # 维保单位
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=FacilityStatus.choices, default=FacilityStatus.IN_SERVICE
    )

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"],
                name="estate_facility_name_unique_in_project",
                violation_error_message=_("The project already has a facility with this name."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[choice.value for choice in FacilityKind]), name="estate_facility_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in FacilityStatus]),
                name="estate_facility_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name
