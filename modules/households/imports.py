"""Spreadsheet import and export of owners and their ownership (registered into wuye.imports from apps.py):

    owners   one row per owner of a unit: who (name, phone, e-mail, identity document), which unit
             (project code, building, unit number), the share, since when, the property certificate,
             and whether they live there (an occupancy from the same day).

The same identity document on several rows, or already on file, is the same person (found by its blind
index, never by decrypting). The rules of the services hold: ID numbers and phone numbers are validated,
shares of a unit never add up to more than 100 % on any day, one person's periods on a unit do not
overlap, and every unit lies in the importer's scope. Lookups are fetched once for the whole file.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from modules.estate import selectors as estate_selectors
from modules.estate.imports import RowCheck, Words
from modules.estate.models import Project, Unit
from wuye.core.crypto import blind_index
from wuye.core.errors import ServiceError
from wuye.core.idnumbers import IdType, id_number_clean, id_number_mask, phone_clean
from wuye.core.policies import allowed
from wuye.core.scope import scope_of
from wuye.imports.registry import Column, Context, ImportKind, Problem, Row, register

from . import policies
from .models import ID_NUMBER_PURPOSE, Occupancy, Ownership, Person, Relation

BULK_SIZE = 1000

ID_TYPES = Words(
    {
        IdType.RESIDENT_ID: ("身份证", "resident_id", "居民身份证", "resident id"),
        IdType.PASSPORT: ("护照", "passport"),
        IdType.HK_MACAO_PERMIT: ("港澳通行证", "hk_macao_permit", "港澳居民来往内地通行证", "回乡证"),
        IdType.TAIWAN_PERMIT: ("台胞证", "taiwan_permit", "台湾居民来往大陆通行证"),
        IdType.FOREIGN_PERMANENT: ("外国人永久居留证", "foreign_permanent", "外国人永久居留身份证", "永居证"),
        IdType.OTHER: ("其他", "other", "其它"),
    }
)
YES = {"是", "y", "yes", "true", "1", "住", "自住"}
NO = {"否", "n", "no", "false", "0", ""}

COLUMNS = (
    Column("project", "项目编码", "Project code", required=True, examples=("huating", "huating")),
    Column("building", "楼栋", "Building", required=True, examples=("1栋", "1栋"), examples_en=("Block 1", "Block 1")),
    Column("unit", "房号", "Unit number", required=True, examples=("1-1201", "1-1201")),
    Column("name", "业主姓名", "Owner", required=True, examples=("王伟", "李娜"), examples_en=("Wang Wei", "Li Na")),
    Column("phone", "手机", "Phone", examples=("13800138000", "")),
    Column("email", "邮箱", "E-mail", examples=("wangwei@example.com", "")),
    Column(
        "id_type",
        "证件类型",
        "ID type",
        examples=("身份证", ""),
        examples_en=("resident_id", ""),
        help=gettext_lazy("身份证/resident_id, 护照/passport, 港澳通行证, 台胞证, 外国人永久居留证 or 其他/other."),
    ),
    Column("id_number", "证件号码", "ID number", examples=("11010519491231002X", "")),
    Column("share", "产权份额", "Share (%)", examples=("50", "50"), help=gettext_lazy("Percent; empty: 100.")),
    Column("since", "产权起始日", "Owner since", required=True, examples=("2021-06-01", "2021-06-01")),
    Column("certificate", "产权证号", "Certificate number", examples=("沪(2021)浦字第001号", "")),
    Column(
        "lives_here",
        "是否自住",
        "Lives here",
        examples=("是", "否"),
        examples_en=("yes", "no"),
        help=gettext_lazy("是/yes: also recorded as living in the unit from the same day."),
    ),
)


@dataclass(frozen=True)
class UnitRef:
    pk: Any
    zone_id: Any
    archived: bool


@dataclass
class Entry:
    """One clean row: the person (new, or already on file), the ownership, and maybe an occupancy."""

    person: Person
    ownership: Ownership
    occupancy: Occupancy | None


def _date(check: RowCheck, column: str) -> dt.date | None:
    text = check.text(column, required=True).replace("/", "-").replace(".", "-")
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        check.add(column, _("Enter a date such as 2021-06-01."))
        return None


def _shares_fit(periods: list[tuple[dt.date, dt.date | None, decimal.Decimal]]) -> decimal.Decimal:
    """The highest total share on any day of these periods (the total can only peak on a start day)."""
    peak = decimal.Decimal(0)
    for day, _end, _share in periods:
        total = sum(
            (share for start, end, share in periods if start <= day and (end is None or end > day)), decimal.Decimal(0)
        )
        peak = max(peak, total)
    return peak


def check_owners(rows: list[Row], context: Context) -> tuple[list[Any], list[Problem]]:
    problems: list[Problem] = []
    viewer = context.viewer
    if not allowed(viewer, policies.perm("add", "person")):
        return [], [Problem(0, "", "", _("You may not add people."))]
    scope = scope_of(viewer)
    codes = {row.get("project").strip().lower() for row in rows} - {""}
    projects = {
        p.code: p for p in estate_selectors.records(Project, viewer=viewer, archived="all").filter(code__in=codes)
    }
    # (project, building name, number) -> (unit id, zone id, archived): plain values, no model per unit.
    units = {
        (project_id, building_name, number): UnitRef(pk, zone_id, archived_at is not None)
        for pk, project_id, building_name, number, zone_id, archived_at in Unit.objects.filter(
            project_id__in=[p.pk for p in projects.values()],
            building__name__in={row.get("building").strip() for row in rows} - {""},
        )
        .values_list("pk", "project_id", "building__name", "number", "zone_id", "archived_at")
        .iterator(2000)
    }
    existing: dict[Any, list[tuple[dt.date, dt.date | None, decimal.Decimal, Any]]] = {}
    for ownership in Ownership.objects.filter(unit_id__in=[u.pk for u in units.values()]).only(
        "unit_id", "person_id", "starts_on", "ends_on", "share"
    ):
        existing.setdefault(ownership.unit_id, []).append(
            (ownership.starts_on, ownership.ends_on, ownership.share, ownership.person_id)
        )
    # Identity documents: cleaned per row, then looked up once among the people on file.
    documents: dict[int, tuple[str, str, str]] = {}  # row -> (type, number, index)
    clean_rows: list[tuple[Row, RowCheck]] = []
    for row in rows:
        check = RowCheck(row, problems)
        id_type = check.choice("id_type", ID_TYPES, default="")
        number = check.text("id_number")
        if id_type and number:
            try:
                cleaned = id_number_clean(id_type, number)
                documents[row.number] = (id_type, cleaned, blind_index(cleaned, purpose=ID_NUMBER_PURPOSE))
            except ServiceError as error:
                check.add("id_number", error.message)
        elif bool(id_type) != bool(number):
            check.add("id_number" if id_type else "id_type", _("Give both the type and the number, or neither."))
        clean_rows.append((row, check))
    on_file = {
        (person.id_type, person.id_number_index): person
        for person in Person.objects.filter(
            id_number_index__in={index for _t, _n, index in documents.values()}
        ).exclude(id_number_index="")
    }
    people_by_document: dict[tuple[str, str], Person] = {}
    file_periods: dict[Any, list[tuple[dt.date, dt.date | None, decimal.Decimal, Any, int]]] = {}
    entries: list[Entry] = []
    today = timezone.localdate()
    for row, check in clean_rows:
        code = check.text("project", required=True).lower()
        project = projects.get(code) if code else None
        if code and project is None:
            check.add("project", _("There is no project with this code among those you work in."))
        building, number = check.text("building", required=True), check.text("unit", required=True)
        unit = units.get((project.pk, building, number)) if project and building and number else None
        if project and building and number:
            if unit is None:
                check.add(
                    "unit",
                    _("The project has no unit %(unit)s in %(building)s.") % {"unit": number, "building": building},
                )
            elif unit.archived:
                check.add("unit", _("This unit is archived."))
            elif not scope.covers(project_id=project.pk, zone_id=unit.zone_id):
                check.add("unit", _("This is outside the projects and zones you work in."))
        name = check.text("name", required=True)
        phone = check.text("phone")
        if phone:
            try:
                phone = phone_clean(phone)
            except ServiceError as error:
                check.add("phone", error.message)
        email = check.text("email").lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                check.add("email", _("Enter a valid e-mail address."))
        share = check.decimal("share")
        share = decimal.Decimal("100") if share is None else share
        if not decimal.Decimal("0") < share <= decimal.Decimal("100"):
            check.add("share", _("A share is more than 0 and at most 100."))
        since = _date(check, "since")
        if since is not None and since > today:
            check.add("since", _("An ownership recorded now starts today or earlier."))
        lives = check.text("lives_here").casefold()
        if lives not in YES and lives not in NO:
            check.add("lives_here", _("Write 是/yes or 否/no."))
        if not check.ok or unit is None or since is None:
            continue
        document = documents.get(row.number)
        person = None
        if document is not None:
            key = (document[0], document[2])
            person = people_by_document.get(key) or on_file.get(key)
        if person is None:
            person = Person(name=name, phone=phone, email=email)
            if document is not None:
                person.id_type, person.id_number, person.id_number_index = document
                person.id_number_hint = id_number_mask(document[1])
                people_by_document[(document[0], document[2])] = person
            # The fields a row fills are checked above or here; the model's full_clean would cost more
            # than the rest of the check on a file of thousands of people.
            if len(name) > 100:
                check.add("name", _("A name has at most 100 characters."))
                continue
        # Shares and periods on the unit: what is on file plus the rows before this one.
        periods = file_periods.setdefault(unit.pk, [])
        held = [(start, end, s) for start, end, s, _p in existing.get(unit.pk, [])] + [
            (start, end, s) for start, end, s, _p, _r in periods
        ]
        same_person = [r for _s, _e, _sh, p, r in periods if p is person] + [
            0 for start, end, _s, p in existing.get(unit.pk, []) if p == person.pk and (end is None or end > since)
        ]
        if same_person:
            where = same_person[0]
            check.add(
                "name",
                _("%(person)s already owns this unit from that date (row %(row)s).") % {"person": name, "row": where}
                if where
                else _("%(person)s already owns this unit from that date.") % {"person": name},
            )
            continue
        peak = _shares_fit([*held, (since, None, share)])
        if peak > 100:
            check.add("share", _("The shares of this unit's owners would add up to %(total)s%%.") % {"total": peak})
            continue
        periods.append((since, None, share, person, row.number))
        ownership = Ownership(
            unit_id=unit.pk, person=person, share=share, starts_on=since, certificate_number=check.text("certificate")
        )
        occupancy = (
            Occupancy(unit_id=unit.pk, person=person, relation=Relation.OWNER, moved_in_on=since)
            if lives in YES
            else None
        )
        entries.append(Entry(person=person, ownership=ownership, occupancy=occupancy))
    return entries, problems


def write_owners(clean: list[Any], context: Context) -> list[models.Model]:
    entries: list[Entry] = clean
    people: dict[int, Person] = {}
    for entry in entries:
        if entry.person._state.adding:
            people.setdefault(id(entry.person), entry.person)
    new_people = list(people.values())
    Person.objects.bulk_create(new_people, batch_size=BULK_SIZE)
    # The units, once: the audit log labels each ownership with its unit (one query, not one per row).
    units = Unit.objects.in_bulk({entry.ownership.unit_id for entry in entries})
    for entry in entries:
        entry.ownership.unit = units[entry.ownership.unit_id]
        if entry.occupancy is not None:
            entry.occupancy.unit = units[entry.occupancy.unit_id]
    ownerships, occupancies, done = [], [], 0
    for start in range(0, len(entries), BULK_SIZE):
        chunk = entries[start : start + BULK_SIZE]
        for entry in chunk:
            entry.ownership.person = entry.person
            if entry.occupancy is not None:
                entry.occupancy.person = entry.person
        ownerships += Ownership.objects.bulk_create([entry.ownership for entry in chunk])
        occupancies += Occupancy.objects.bulk_create([e.occupancy for e in chunk if e.occupancy is not None])
        done += len(chunk)
        context.progress(done)
    return [*new_people, *ownerships, *occupancies]


def export_owners(viewer: Any) -> Iterator[dict[str, Any]]:
    language = get_language()
    today = timezone.localdate()
    sees_numbers = policies.sees_id_numbers(viewer)
    units = estate_selectors.records(Unit, viewer=viewer)
    current = Q(starts_on__lte=today) & (Q(ends_on__isnull=True) | Q(ends_on__gt=today))
    living = set(
        Occupancy.objects.filter(unit__in=units, moved_out_on__isnull=True).values_list("unit_id", "person_id")
    )
    ownerships = (
        Ownership.objects.filter(current, unit__in=units)
        .select_related("person", "unit__building", "unit__project")
        .order_by("unit__project__code", "unit__building__name", "unit__number", "person__name")
    )
    for ownership in ownerships.iterator(2000):
        person = ownership.person
        yield {
            "project": ownership.unit.project.code,
            "building": ownership.unit.building.name,
            "unit": ownership.unit.number,
            "name": person.name,
            "phone": person.phone,
            "email": person.email,
            "id_type": ID_TYPES.word(person.id_type, language) if person.id_type else "",
            # Only those allowed to see ID numbers export them whole (a masked number re-imports as invalid).
            "id_number": (person.id_number if sees_numbers else person.id_number_hint) if person.id_type else "",
            "share": ownership.share.normalize()
            if ownership.share == ownership.share.to_integral()
            else ownership.share,
            "since": ownership.starts_on.isoformat(),
            "certificate": ownership.certificate_number,
            "lives_here": ("是" if language and language.startswith("zh") else "yes")
            if (ownership.unit_id, person.pk) in living
            else "",
        }


def register_kinds() -> None:
    register(
        ImportKind(
            code="owners",
            label=gettext_lazy("Owners and ownership"),
            description=gettext_lazy(
                "One row per owner of a unit. The same identity document is the same person; "
                "shares of a unit add up to at most 100 %."
            ),
            columns=COLUMNS,
            permission=policies.perm("add", "ownership"),
            check=check_owners,
            write=write_owners,
            export=export_owners,
            order=40,
        )
    )
