"""Households (业户, DOMAIN.md §1): the people who own units (业主) and who live in them (物业使用人), ownership
over time, occupancy, vehicles and how each person wants to be reached.

A person is one record however many units they own or live in. Ownership and occupancy are periods:
a transfer ends one period and starts another, a move-out ends an occupancy; nothing is overwritten, so
the household's file (一户一档) keeps its history. Periods are half-open: `ends_on` is the first day the
person no longer owns (or lives in) the unit.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wuye.core.crypto import EncryptedTextField
from wuye.core.idnumbers import IdType
from wuye.core.models import TimeStampedModel

ID_NUMBER_PURPOSE = "households.person.id_number"


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    SMS = "sms", _("Text message")
    EMAIL = "email", _("E-mail")


class Person(TimeStampedModel):
    """An owner or an occupant. The ID number is encrypted at rest; `id_number_index` (a keyed hash) finds
    the same document again without decrypting, and `id_number_hint` is the masked form lists show."""

    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    id_type = models.CharField(_("ID type"), max_length=20, choices=IdType.choices, blank=True)
    id_number = EncryptedTextField(_("ID number"), blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, editable=False)
    id_number_hint = models.CharField(_("ID number"), max_length=40, blank=True, editable=False)
    contact_channel = models.CharField(
        _("preferred contact"), max_length=10, choices=ContactChannel.choices, default=ContactChannel.PHONE
    )
    accepts_notices = models.BooleanField(_("receives notices"), default=True)
    emergency_contact = models.CharField(_("emergency contact"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The owner portal account, once invited.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="person"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            # One record per identity document (the same document twice is the same person).
            models.UniqueConstraint(
                fields=["id_type", "id_number_index"],
                condition=~Q(id_number_index=""),
                name="households_person_document_unique",
                violation_error_message=_("Someone with this identity document is already on file."),
            ),
            models.CheckConstraint(
                condition=(Q(id_type="") & Q(id_number_index="")) | (~Q(id_type="") & ~Q(id_number_index="")),
                name="households_person_document_complete",
            ),
            models.CheckConstraint(
                condition=Q(id_type="") | Q(id_type__in=[choice.value for choice in IdType]),
                name="households_person_id_type_valid",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="households_person_name_present"),
        ]
        indexes = [models.Index(fields=["id_number_index"], name="households_person_document")]
        permissions = [
            ("view_id_number", "Can see identity document numbers in full"),
            ("invite_owner", "Can invite owners to the owner portal"),
        ]

    def __str__(self) -> str:
        return self.name


class Ownership(TimeStampedModel):
    """Who owns a unit, in what share, from when to when (产权). The shares of the owners of a unit add up to
    at most 100 % on every day, and one person's periods on one unit do not overlap: a constraint trigger
    checks both at commit (migration 0002), so a transfer may end and start periods in one transaction."""

    unit = models.ForeignKey("estate.Unit", on_delete=models.PROTECT, related_name="ownerships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="ownerships")
    share = models.DecimalField(
        _("share (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("100"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    starts_on = models.DateField(_("owner from"))
    ends_on = models.DateField(_("owner until"), null=True, blank=True)
    certificate_number = models.CharField(_("property certificate number"), max_length=60, blank=True)  # 产权证号

    class Meta:
        ordering = ["unit", "-starts_on"]
        verbose_name = _("ownership")
        verbose_name_plural = _("ownerships")
        constraints = [
            models.CheckConstraint(condition=Q(share__gt=0, share__lte=100), name="households_ownership_share_range"),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=F("starts_on")),
                name="households_ownership_period_order",
                violation_error_message=_("An ownership ends after it starts."),
            ),
        ]
        indexes = [models.Index(fields=["unit", "ends_on"], name="households_ownership_current")]

    def __str__(self) -> str:
        return f"{self.person} · {self.unit} ({self.share}%)"


class Relation(models.TextChoices):
    OWNER = "owner", _("Owner")  # 业主本人
    FAMILY = "family", _("Family member")  # 家属
    TENANT = "tenant", _("Tenant")  # 租户
    OTHER = "other", _("Other")


class Occupancy(TimeStampedModel):
    """Someone living in (or using) a unit: the owner, family, a tenant (物业使用人)."""

    unit = models.ForeignKey("estate.Unit", on_delete=models.PROTECT, related_name="occupancies")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="occupancies")
    relation = models.CharField(_("relation"), max_length=10, choices=Relation.choices, default=Relation.OWNER)
    moved_in_on = models.DateField(_("moved in"))
    moved_out_on = models.DateField(_("moved out"), null=True, blank=True)

    class Meta:
        ordering = ["unit", "-moved_in_on"]
        verbose_name = _("occupancy")
        verbose_name_plural = _("occupancies")
        constraints = [
            models.CheckConstraint(
                condition=Q(moved_out_on__isnull=True) | Q(moved_out_on__gte=F("moved_in_on")),
                name="households_occupancy_period_order",
                violation_error_message=_("A move-out comes after the move-in."),
            ),
            models.CheckConstraint(
                condition=Q(relation__in=[choice.value for choice in Relation]),
                name="households_occupancy_relation_valid",
            ),
            # One current occupancy per person and unit.
            models.UniqueConstraint(
                fields=["unit", "person"],
                condition=Q(moved_out_on__isnull=True),
                name="households_occupancy_current_unique",
                violation_error_message=_("This person already lives in this unit."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.unit}"


class Vehicle(TimeStampedModel):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="vehicles")
    plate = models.CharField(_("plate number"), max_length=12)
    description = models.CharField(_("make and colour"), max_length=100, blank=True)
    parking_space = models.ForeignKey(
        "estate.ParkingSpace", on_delete=models.PROTECT, null=True, blank=True, related_name="vehicles"
    )
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    class Meta:
        ordering = ["plate"]
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        constraints = [
            models.UniqueConstraint(
                fields=["plate"],
                condition=Q(removed_at__isnull=True),
                name="households_vehicle_plate_unique",
                violation_error_message=_("A vehicle with this plate number is already registered."),
            ),
            models.CheckConstraint(condition=~Q(plate=""), name="households_vehicle_plate_present"),
        ]

    def __str__(self) -> str:
        return self.plate
