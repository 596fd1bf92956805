"""Writes on households. Keyword-only, atomic; each checks the permission and that the units involved
lie in the acting user's scope; identity documents are validated, encrypted and never logged or audited
in clear (the audit log keeps the masked form)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from modules.estate.models import ParkingSpace, Unit
from wuye.accounts import services as account_services
from wuye.accounts.models import UserKind
from wuye.core.audit import audit_record, snapshot
from wuye.core.crypto import blind_index
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.core.idnumbers import IdType, id_number_clean, id_number_mask, phone_clean
from wuye.core.models import AuditAction
from wuye.core.policies import require
from wuye.core.scope import scope_of

from . import policies
from .models import ID_NUMBER_PURPOSE, ContactChannel, Occupancy, Ownership, Person, Relation, Vehicle

PERSON_FIELDS = (
    "name", "phone", "email", "id_type", "id_number", "contact_channel", "accepts_notices", "emergency_contact",
    "notes",
)  # fmt: skip
# What the audit log keeps of a person: the ID number only masked.
_PERSON_AUDITED = ("name", "phone", "email", "id_type", "id_number_hint", "contact_channel", "accepts_notices")


def _require_unit_in_scope(by: Any, unit: Unit) -> None:
    if not scope_of(by).covers(project_id=unit.project_id, zone_id=unit.zone_id):
        raise PolicyDenied(_("This is outside the projects and zones you work in."))


def _validated(instance: Any, exclude: Sequence[str] = ()) -> None:
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as error:
        raise ServiceError.from_validation(error) from None


def _saved(instance: Any) -> None:
    """Save; a constraint that only the database could see (a race) becomes a clear refusal."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ServiceError(_("This conflicts with another record: %(detail)s") % {"detail": error}) from None


# ------------------------------------------------------------------------------------------ people
def _apply_person(person: Person, values: dict[str, Any]) -> None:
    unknown = set(values) - set(PERSON_FIELDS)
    if unknown:
        raise ServiceError(
            _("These cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))},
            code="not_editable",
            field=sorted(unknown)[0],
        )
    for name, value in values.items():
        setattr(person, name, value.strip() if isinstance(value, str) else value)
    if "phone" in values:
        person.phone = phone_clean(person.phone) if person.phone else ""
    if person.contact_channel not in ContactChannel.values:
        raise ServiceError(
            _("Choose how the person wants to be reached."), code="channel_invalid", field="contact_channel"
        )
    if "id_type" in values or "id_number" in values:
        if bool(person.id_type) != bool(person.id_number):
            raise ServiceError(
                _("Give both the type and the number of the identity document, or neither."),
                code="id_incomplete",
                field="id_number" if person.id_type else "id_type",
            )
        if person.id_type:
            person.id_number = id_number_clean(person.id_type, person.id_number)
            person.id_number_index = blind_index(person.id_number, purpose=ID_NUMBER_PURPOSE)
            person.id_number_hint = id_number_mask(person.id_number)
        else:
            person.id_number_index = person.id_number_hint = ""
    if person.contact_channel == ContactChannel.EMAIL and not person.email:
        raise ServiceError(_("Give an e-mail address to be reached by e-mail."), code="email_required", field="email")
    if person.contact_channel == ContactChannel.SMS and not person.phone:
        raise ServiceError(_("Give a mobile number to be reached by text."), code="phone_required", field="phone")


def _document_holder(person: Person) -> Person | None:
    if not person.id_number_index:
        return None
    return (
        Person.objects.filter(id_type=person.id_type, id_number_index=person.id_number_index)
        .exclude(pk=person.pk)
        .first()
    )


@transaction.atomic
def person_create(*, by: Any, name: str, **values: Any) -> Person:
    require(by, policies.perm("add", "person"))
    person = Person()
    _apply_person(person, {"name": name, **values})
    if _document_holder(person) is not None:
        raise ServiceError(
            _("Someone with this identity document is already on file."), code="person_exists", field="id_number"
        )
    _validated(person, exclude=["user"])
    _saved(person)
    audit_record(actor=by, action=AuditAction.CREATED, instance=person, after=snapshot(person, _PERSON_AUDITED))
    return person


@transaction.atomic
def person_update(*, by: Any, person: Person, **changes: Any) -> Person:
    require(by, policies.perm("change", "person"))
    person = Person.objects.select_for_update().get(pk=person.pk)
    before = snapshot(person, _PERSON_AUDITED)
    _apply_person(person, changes)
    if _document_holder(person) is not None:
        raise ServiceError(
            _("Someone with this identity document is already on file."), code="person_exists", field="id_number"
        )
    _validated(person, exclude=["user"])
    _saved(person)
    audit_record(
        actor=by, action=AuditAction.CHANGED, instance=person, before=before, after=snapshot(person, _PERSON_AUDITED)
    )
    return person


def owner_contact_update(*, person: Person, **changes: Any) -> Person:
    """An owner keeping their own contact details current from the owner portal."""
    allowed = {"phone", "email", "contact_channel", "accepts_notices", "emergency_contact"}
    if set(changes) - allowed:
        raise ServiceError(_("Only your contact details can be changed here."), code="not_editable")
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        before = snapshot(person, _PERSON_AUDITED)
        _apply_person(person, changes)
        _validated(person, exclude=["user"])
        _saved(person)
        audit_record(
            actor=person.user,
            action=AuditAction.CHANGED,
            instance=person,
            before=before,
            after=snapshot(person, _PERSON_AUDITED),
        )
    return person


# ------------------------------------------------------------------------------------------ ownership
def _period_overlaps(start: dt.date, end: dt.date | None) -> Q:
    """Ownerships whose [starts_on, ends_on) meets [start, end)."""
    condition = Q(ends_on__isnull=True) | Q(ends_on__gt=start)
    if end is not None:
        condition &= Q(starts_on__lt=end)
    return condition


def _check_shares(unit: Unit, person: Person, share: Decimal, start: dt.date, end: dt.date | None) -> None:
    """The rules the database enforces at commit, checked first for a message a person can act on."""
    overlapping = Ownership.objects.filter(unit=unit).filter(_period_overlaps(start, end))
    if overlapping.filter(person=person).exists():
        raise ServiceError(
            _("%(person)s already owns this unit in that period.") % {"person": person},
            code="ownership_overlap",
            field="starts_on",
        )
    days = {start} | {max(day, start) for day in overlapping.values_list("starts_on", flat=True)}
    for day in sorted(days):
        held = Ownership.objects.filter(unit=unit).filter(_period_overlaps(day, day + dt.timedelta(days=1)))
        total = (held.aggregate(total=Sum("share"))["total"] or Decimal(0)) + share
        if total > 100:
            raise ServiceError(
                _("The shares of this unit's owners would add up to %(total)s%% on %(day)s; at most 100%% is owned.")
                % {"total": total, "day": day.isoformat()},
                code="share_over_100",
                field="share",
            )


@transaction.atomic
def ownership_add(
    *,
    by: Any,
    unit: Unit,
    person: Person,
    starts_on: dt.date,
    share: Decimal = Decimal("100"),
    ends_on: dt.date | None = None,
    certificate_number: str = "",
) -> Ownership:
    require(by, policies.perm("add", "ownership"))
    _require_unit_in_scope(by, unit)
    Unit.objects.select_for_update().filter(pk=unit.pk).first()  # one writer of a unit's ownership at a time
    ownership = Ownership(
        unit=unit,
        person=person,
        share=share,
        starts_on=starts_on,
        ends_on=ends_on,
        certificate_number=(certificate_number or "").strip(),
    )
    _validated(ownership)
    _check_shares(unit, person, Decimal(share), starts_on, ends_on)
    _saved(ownership)
    audit_record(
        actor=by,
        action=AuditAction.CREATED,
        instance=ownership,
        after=snapshot(ownership, ["unit", "person", "share", "starts_on", "ends_on", "certificate_number"]),
    )
    return ownership


@transaction.atomic
def ownership_end(*, by: Any, ownership: Ownership, on: dt.date) -> Ownership:
    require(by, policies.perm("change", "ownership"))
    _require_unit_in_scope(by, ownership.unit)
    ownership = Ownership.objects.select_for_update().get(pk=ownership.pk)
    if ownership.ends_on is not None:
        raise ServiceError(_("This ownership has already ended."), code="already_ended")
    if on <= ownership.starts_on:
        raise ServiceError(_("An ownership ends after it starts."), code="period_order", field="on")
    ownership.ends_on = on
    _saved(ownership)
    audit_record(
        actor=by,
        action=AuditAction.CHANGED,
        instance=ownership,
        before={"ends_on": None},
        after={"ends_on": on.isoformat()},
    )
    return ownership


@transaction.atomic
def ownership_transfer(
    *, by: Any, unit: Unit, on: dt.date, owners: Sequence[tuple[Person, Decimal]], certificate_number: str = ""
) -> list[Ownership]:
    """A sale or inheritance (过户): every current ownership of the unit ends on `on`, the new owners own
    from `on` in the shares given. The old periods stay in the file."""
    require(by, policies.perm("change", "ownership"))
    require(by, policies.perm("add", "ownership"))
    _require_unit_in_scope(by, unit)
    if not owners:
        raise ServiceError(_("Name the new owners."), code="owners_required", field="owners")
    if len({person.pk for person, _share in owners}) != len(owners):
        raise ServiceError(_("Each new owner once."), code="owner_twice", field="owners")
    total = sum((Decimal(share) for _person, share in owners), Decimal(0))
    if total > 100:
        raise ServiceError(
            _("The new owners' shares add up to %(total)s%%; at most 100%% is owned.") % {"total": total},
            code="share_over_100",
            field="owners",
        )
    Unit.objects.select_for_update().filter(pk=unit.pk).first()
    current = list(Ownership.objects.select_for_update().filter(unit=unit).filter(_period_overlaps(on, None)))
    for ownership in current:
        if ownership.starts_on >= on:
            raise ServiceError(
                _("%(person)s only became an owner on %(day)s; transfer after that.")
                % {"person": ownership.person, "day": ownership.starts_on.isoformat()},
                code="transfer_before_start",
                field="on",
            )
        if ownership.ends_on is None:
            ownership_end(by=by, ownership=ownership, on=on)
    return [
        ownership_add(
            by=by, unit=unit, person=person, share=Decimal(share), starts_on=on, certificate_number=certificate_number
        )
        for person, share in owners
    ]


# ------------------------------------------------------------------------------------------ occupancy
@transaction.atomic
def occupancy_move_in(*, by: Any, unit: Unit, person: Person, on: dt.date, relation: str = Relation.OWNER) -> Occupancy:
    require(by, policies.perm("add", "occupancy"))
    _require_unit_in_scope(by, unit)
    if relation not in Relation.values:
        raise ServiceError(
            _("Choose how the person is related to the unit."), code="relation_invalid", field="relation"
        )
    if Occupancy.objects.filter(unit=unit, person=person, moved_out_on__isnull=True).exists():
        raise ServiceError(_("This person already lives in this unit."), code="already_living_here", field="person")
    occupancy = Occupancy(unit=unit, person=person, relation=relation, moved_in_on=on)
    _validated(occupancy)
    _saved(occupancy)
    audit_record(
        actor=by,
        action=AuditAction.CREATED,
        instance=occupancy,
        after=snapshot(occupancy, ["unit", "person", "relation", "moved_in_on"]),
    )
    return occupancy


@transaction.atomic
def occupancy_move_out(*, by: Any, occupancy: Occupancy, on: dt.date) -> Occupancy:
    require(by, policies.perm("change", "occupancy"))
    _require_unit_in_scope(by, occupancy.unit)
    occupancy = Occupancy.objects.select_for_update().get(pk=occupancy.pk)
    if occupancy.moved_out_on is not None:
        raise ServiceError(_("This person has already moved out."), code="already_moved_out")
    if on < occupancy.moved_in_on:
        raise ServiceError(_("A move-out comes after the move-in."), code="period_order", field="on")
    occupancy.moved_out_on = on
    _saved(occupancy)
    audit_record(
        actor=by,
        action=AuditAction.CHANGED,
        instance=occupancy,
        before={"moved_out_on": None},
        after={"moved_out_on": on.isoformat()},
    )
    return occupancy


# ------------------------------------------------------------------------------------------ vehicles
def _plate(raw: str) -> str:
    return "".join((raw or "").split()).upper()


@transaction.atomic
def vehicle_add(
    *, by: Any, person: Person, plate: str, description: str = "", parking_space: ParkingSpace | None = None
) -> Vehicle:
    require(by, policies.perm("add", "vehicle"))
    if parking_space is not None and not scope_of(by).covers(
        project_id=parking_space.project_id, zone_id=parking_space.zone_id
    ):
        raise PolicyDenied(_("This is outside the projects and zones you work in."))
    vehicle = Vehicle(person=person, plate=_plate(plate), description=description.strip(), parking_space=parking_space)
    _validated(vehicle)
    _saved(vehicle)
    audit_record(
        actor=by,
        action=AuditAction.CREATED,
        instance=vehicle,
        after=snapshot(vehicle, ["person", "plate", "parking_space"]),
    )
    return vehicle


@transaction.atomic
def vehicle_remove(*, by: Any, vehicle: Vehicle) -> Vehicle:
    require(by, policies.perm("change", "vehicle"))
    vehicle = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
    if vehicle.removed_at is not None:
        raise ServiceError(_("This vehicle is already removed."), code="already_removed")
    vehicle.removed_at = timezone.now()
    vehicle.save(update_fields=["removed_at", "updated_at"])
    audit_record(
        actor=by,
        action=AuditAction.ARCHIVED,
        instance=vehicle,
        before={"removed_at": None},
        after={"removed_at": vehicle.removed_at.isoformat()},
    )
    return vehicle


# ------------------------------------------------------------------------------------------ owner accounts
@transaction.atomic
def owner_invite(*, by: Any, person: Person, channel: str = ContactChannel.EMAIL) -> Person:
    """Invite an owner (or occupant) to the owner portal: an account under their e-mail address, and a link
    to choose a password sent by e-mail or by text message (the SMS backend is pluggable)."""
    require(by, policies.INVITE_OWNER)
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.user_id is not None:
        raise ServiceError(_("%(person)s already has an account.") % {"person": person}, code="already_invited")
    if not person.email:
        raise ServiceError(
            _("An owner signs in with their e-mail address: add it first."), code="email_required", field="email"
        )
    if channel not in (ContactChannel.EMAIL, ContactChannel.SMS):
        raise ServiceError(
            _("Send the invitation by e-mail or by text message."), code="channel_invalid", field="channel"
        )
    if channel == ContactChannel.SMS and not person.phone:
        raise ServiceError(_("Add a mobile number to send a text message."), code="phone_required", field="phone")
    user = account_services.user_create(
        email=person.email, name=person.name, password=None, kind=UserKind.OWNER, phone=person.phone, invited_by=by
    )
    person.user = user
    person.save(update_fields=["user", "updated_at"])
    account_services.invitation_send(user=user, channel=channel)
    audit_record(
        actor=by, action=AuditAction.CHANGED, instance=person, before={"account": None}, after={"account": user.email}
    )
    return person


def id_type_label(code: str) -> str:
    return str(dict(IdType.choices).get(code, code))
