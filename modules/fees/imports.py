"""Spreadsheet import and export of meter readings (registered into wuye.imports from apps.py):

    meter_readings   one row per meter and month: project code, meter kind and serial number, the month,
                     the reading, and optionally the day it was read

A file is what a meter reader brings back from a round (抄表), or what a utility's system exports. The
rules of services.reading_record hold: a reading is entered month by month (a period after the meter's
latest reading), never below the previous reading (a replaced meter is recorded on the readings page, with
the old meter's final reading and the new one's start; not here), once per meter per month, and only for
meters in the importer's scope (a unit's meter is in its unit's zone; a common meter is project-wide). The
records written are those reading_record writes: the previous reading, consumption = (reading − previous)
× the meter's multiplier, and the abnormal flag (above three times the average of the last six
consumptions) that holds a reading back from billing until someone reviews it.

Lookups are fetched once for the whole file: the projects, the meters named, their latest readings.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from modules.estate.imports import METER_KINDS, Lookups, RowCheck
from modules.estate.models import Meter, Project
from wuye.core.errors import ServiceError
from wuye.core.policies import require
from wuye.core.scope import scope_of
from wuye.imports.registry import Column, Context, ImportKind, Problem, Row, register

from . import calculation, policies
from .calculation import month_start
from .models import MeterReading

BULK_SIZE = 1000
READING_MAX = Decimal("10000000000")  # as services._reading_value
QUANTITY_STEP = Decimal("0.0001")


# ------------------------------------------------------------------------------------------ the arithmetic
# The same rules as services.reading_record (without a replacement, which an import does not record).
def meter_consumption(previous: Decimal | None, reading: Decimal, multiplier: Decimal) -> Decimal | None:
    """What a meter used since its previous reading: none for the first (baseline) reading."""
    if previous is None:
        return None
    if reading < previous:
        raise ValueError("a reading below the previous one needs a recorded replacement")
    return calculation.metered(reading - previous, multiplier)


# ------------------------------------------------------------------------------------------ values
_PERIOD = re.compile(r"(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*月?(?:\s*(?:[-/.])\s*(\d{1,2})\s*日?)?")
_DATE = re.compile(r"(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00)?)?")


def _month(text: str) -> dt.date | None:
    """2026-03, 2026/3, 2026年3月, or a date in the month (Excel turns 2026-03 into 2026-03-01)."""
    found = _PERIOD.fullmatch(text.strip())
    if found is None:
        return None
    year, month, day = int(found[1]), int(found[2]), int(found[3] or 1)
    try:
        return month_start(dt.date(year, month, day))
    except ValueError:
        return None


def _day(text: str) -> dt.date | None:
    found = _DATE.fullmatch(text.strip())
    if found is None:
        return None
    try:
        return dt.date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


COLUMNS = (
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
        help=gettext_lazy("The meter's serial number, as on the meters page."),
    ),
    Column(
        "period",
        "抄表月份",
        "Period",
        required=True,
        examples=("2026-03", "2026-03"),
        help=gettext_lazy("The month the reading is for, like 2026-03: after the meter's latest reading."),
    ),
    Column(
        "reading",
        "本期读数",
        "Reading",
        required=True,
        examples=("1236.5", "58021"),
        help=gettext_lazy(
            "The number on the meter, not below its previous reading. A replaced meter is recorded on the "
            "readings page."
        ),
    ),
    Column(
        "read_on",
        "抄表日期",
        "Read on",
        examples=("2026-03-25", ""),
        help=gettext_lazy("Optional. The day the meter was read; empty: the day of the import."),
    ),
)


@dataclass
class PlannedReading:
    """A good row: the meter, and what its reading will be."""

    row: int
    meter: Meter
    project: Project
    period: dt.date
    reading: Decimal
    read_on: dt.date | None


def _latest(meter_ids: Sequence[Any]) -> dict[Any, tuple[dt.date, Decimal]]:
    """Each meter's latest reading: meter id -> (period, reading). One query."""
    return {
        meter_id: (period, reading)
        for meter_id, period, reading in MeterReading.objects.filter(meter_id__in=list(meter_ids))
        .order_by("meter_id", "-period")
        .distinct("meter_id")
        .values_list("meter_id", "period", "reading")
    }


def check_readings(rows: list[Row], context: Context) -> tuple[list[Any], list[Problem]]:
    problems: list[Problem] = []
    lookups = Lookups(context.viewer, rows)
    serials = {row.get("serial").strip() for row in rows} - {""}
    meters = {
        (meter.project_id, meter.kind, meter.serial): meter
        for meter in Meter.objects.filter(project_id__in=lookups.project_ids, serial__in=serials).select_related("unit")
    }
    latest = _latest([meter.pk for meter in meters.values()])
    seen: dict[Any, int] = {}
    clean: list[PlannedReading] = []
    for row in rows:
        check = RowCheck(row, problems)
        project = lookups.project(check)
        kind = check.choice("kind", METER_KINDS)
        serial = check.text("serial", required=True)
        period_text = check.text("period", required=True)
        period = _month(period_text) if period_text else None
        if period_text and period is None:
            check.add("period", _("Give the month as 2026-03."))
        reading = check.decimal("reading", required=True)
        if reading is not None and not (0 <= reading < READING_MAX):
            check.add("reading", _("A reading is a number, zero or more."))
            reading = None
        elif reading is not None:
            check.validate(MeterReading(reading=reading), {"reading": "reading"})
        read_on_text = check.text("read_on")
        read_on = _day(read_on_text) if read_on_text else None
        if read_on_text and read_on is None:
            check.add("read_on", _("Give the date as 2026-03-25."))
        if project is None or kind is None or not serial:
            continue
        meter = meters.get((project.pk, kind, serial))
        if meter is None:
            check.add(
                "serial",
                _("The project has no %(kind)s meter with this serial number.") % {"kind": METER_KINDS.word(kind)},
            )
            continue
        if meter.archived_at is not None:
            check.add("serial", _("This meter is archived."))
            continue
        # Out of scope: say so, and nothing more about the meter.
        if not lookups.in_scope(check, "serial", project, meter.unit.zone_id if meter.unit else None):
            continue
        if meter.pk in seen:
            check.add("serial", _("The file has this meter already, in row %(row)s.") % {"row": seen[meter.pk]})
            continue
        seen[meter.pk] = row.number
        last_period, last_reading = latest.get(meter.pk, (None, None))
        if period is not None and last_period is not None and period <= last_period:
            check.add(
                "period",
                _("This meter already has a reading for %(period)s; readings are entered month by month.")
                % {"period": last_period.strftime("%Y-%m")},
            )
        if reading is not None and last_reading is not None and reading < last_reading:
            check.add(
                "reading",
                _(
                    "The reading is below the previous one (%(previous)s). A replaced meter is recorded on the "
                    "readings page, not imported."
                )
                % {"previous": _plain(last_reading)},
            )
        if check.ok and period is not None and reading is not None:
            clean.append(PlannedReading(row.number, meter, project, period, reading, read_on))
    return clean, problems


def _recent_consumptions(meter_ids: Sequence[Any]) -> dict[Any, list[Decimal]]:
    """The last calculation.AVERAGE_OF consumptions of each meter, latest first. One query."""
    ranked = (
        MeterReading.objects.filter(meter_id__in=list(meter_ids), consumption__isnull=False)
        .annotate(rank=Window(RowNumber(), partition_by=[F("meter_id")], order_by=F("period").desc()))
        .filter(rank__lte=calculation.AVERAGE_OF)
        .order_by("meter_id", "-period")
        .values_list("meter_id", "consumption")
    )
    found: dict[Any, list[Decimal]] = defaultdict(list)
    for meter_id, consumption in ranked:
        if consumption is not None:  # never, by the filter; for the type
            found[meter_id].append(consumption)
    return found


def write_readings(clean: list[Any], context: Context) -> list[models.Model]:
    planned: list[PlannedReading] = clean
    meter_ids = sorted(item.meter.pk for item in planned)
    # One writer of a meter's readings at a time, as in reading_record (in one order: two imports never
    # deadlock). The check ran before these locks, so the latest readings are read again under them.
    list(Meter.objects.select_for_update().filter(pk__in=meter_ids).order_by("pk").values_list("pk", flat=True))
    latest = _latest(meter_ids)
    recent = _recent_consumptions(meter_ids)
    today = timezone.localdate()
    records: list[MeterReading] = []
    for item in planned:
        last_period, previous = latest.get(item.meter.pk, (None, None))
        if (last_period is not None and item.period <= last_period) or (
            previous is not None and item.reading < previous
        ):
            raise ServiceError(
                _("Row %(row)s: the meter's readings changed since the file was checked. Upload it again.")
                % {"row": item.row},
                code="reading_changed",
            )
        consumption = meter_consumption(previous, item.reading, item.meter.multiplier)
        records.append(
            MeterReading(
                meter=item.meter,
                project=item.project,
                period=item.period,
                reading=item.reading,
                read_on=item.read_on or today,
                previous=previous,
                consumption=consumption,
                flagged=calculation.abnormal(consumption, recent.get(item.meter.pk, [])),
                entered_by=context.viewer,
            )
        )
    done = 0
    for start in range(0, len(records), BULK_SIZE):
        chunk = records[start : start + BULK_SIZE]
        MeterReading.objects.bulk_create(chunk)
        done += len(chunk)
        context.progress(done)
    return list(records)


def _plain(value: Decimal) -> str:
    """1234.5000 -> 1234.5, 1200.0000 -> 1200: as a person writes the number."""
    return format(value.normalize(), "f")


def export_readings(viewer: Any) -> Iterator[dict[str, Any]]:
    require(viewer, policies.ENTER_READINGS)
    language = get_language()
    readings = (
        scope_of(viewer)
        .filter(MeterReading.objects.all(), project="project", zone="meter__unit__zone")
        .select_related("project", "meter")
        .order_by("project__code", "meter__kind", "meter__serial", "period")
    )
    for reading in readings.iterator(2000):
        yield {
            "project": reading.project.code,
            "kind": METER_KINDS.word(reading.meter.kind, language),
            "serial": reading.meter.serial,
            "period": reading.period.strftime("%Y-%m"),
            "reading": _plain(reading.reading),
            "read_on": reading.read_on.isoformat(),
        }


# ------------------------------------------------------------------------------------------ registration
def undo_check_readings(made: list[tuple[type[models.Model], list[str]]]) -> str | None:
    """A reading read after an imported one was worked out from it (its previous value and consumption):
    undoing the import would leave it wrong. Correct or remove the later reading first."""
    ids = [pk for model, pks in made if model is MeterReading for pk in pks]
    later = (
        MeterReading.objects.filter(meter__readings__pk__in=ids, period__gt=F("meter__readings__period"))
        .exclude(pk__in=ids)
        .select_related("meter")
        .first()
    )
    if later is None:
        return None
    return _(
        "Meter %(serial)s has a later reading (%(period)s) worked out from this import's: correct or remove it "
        "before undoing the import."
    ) % {"serial": later.meter.serial, "period": f"{later.period:%Y-%m}"}


def register_kinds() -> None:
    register(
        ImportKind(
            code="meter_readings",
            label=gettext_lazy("Meter readings"),
            description=gettext_lazy(
                "One row per meter and month. A reading below the previous one, or for a month already read, "
                "is refused."
            ),
            columns=COLUMNS,
            permission=policies.ENTER_READINGS,
            check=check_readings,
            write=write_readings,
            export=export_readings,
            order=40,
            undo_check=undo_check_readings,
        )
    )
