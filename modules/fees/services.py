"""Writes on fees. Keyword-only and atomic; each checks the permission and the scope of the account or
project it touches. Every write that moves money first locks the account's row, so two clerks at two
desks are served one after the other, and the second sees what the first did.

Money is appended, never changed (models.py): a payment, a reversal, a refund or a write-off adds entries;
the database refuses UPDATE and DELETE on them and refuses a line or a credit going below zero.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from modules.estate.models import Building, Meter, ParkingKind, ParkingSpace, Project, Unit, UnitKind
from wuye.core.audit import audit_record, snapshot
from wuye.core.errors import NotFound, PolicyDenied, ServiceError
from wuye.core.ids import as_uuid, uuid7
from wuye.core.models import AuditAction
from wuye.core.policies import require
from wuye.core.progress import progress_set
from wuye.core.queue import enqueue_on_commit
from wuye.core.scope import scope_of

from . import calculation, policies, runs
from .calculation import fen, month_after, month_start
from .models import (
    AMOUNT_MAX,
    DESK_METHODS,
    Account,
    Bill,
    BillKind,
    BillLine,
    BillRun,
    ChargeBasis,
    ChargeCategory,
    ChargeItem,
    ChaseChannel,
    ChaseRecord,
    CollectionSum,
    DifferenceKind,
    EntryKind,
    FeeSettings,
    LedgerEntry,
    MeterReading,
    OnlinePayment,
    OnlinePurpose,
    OnlineStatus,
    Payment,
    PaymentMethod,
    PaymentVoid,
    Reconciliation,
    ReconciliationDifference,
    Refund,
    RunStatus,
    Tariff,
    TariffTier,
    WriteOff,
    WriteOffStatus,
)

ZERO = Decimal("0.00")
logger = logging.getLogger(__name__)


def _validated(instance: Any, exclude: Sequence[str] = ()) -> None:
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as error:
        raise ServiceError.from_validation(error) from None


def _money(value: Any, *, field_name: str = "amount") -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ServiceError(_("Give an amount in yuan, like 120.50."), code="amount_invalid", field=field_name) from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ServiceError(
            _("An amount has at most two decimal places (fen)."), code="amount_invalid", field=field_name
        )
    if amount <= 0:
        raise ServiceError(_("The amount must be more than zero."), code="amount_not_positive", field=field_name)
    if amount > Decimal("100000000"):
        raise ServiceError(_("The amount is too large."), code="amount_too_large", field=field_name)
    return amount


def _require_project(by: Any, project_id: uuid.UUID) -> None:
    if not scope_of(by).covers(project_id=project_id):
        raise PolicyDenied(_("This is outside the projects and zones you work in."))


def _require_meter(by: Any, meter: Meter) -> None:
    """A unit's meter is in its unit's zone (a zone manager reads their zones' meters); a common meter is
    the project's."""
    zone_id = meter.unit.zone_id if meter.unit is not None else None
    if not scope_of(by).covers(project_id=meter.project_id, zone_id=zone_id):
        raise PolicyDenied(_("This is outside the projects and zones you work in."))


def _require_account(by: Any, account: Account) -> None:
    if by is None:  # the system itself (an online payment confirmed by the gateway)
        return
    if not scope_of(by).covers(project_id=account.project_id, zone_id=account.zone_id):
        raise PolicyDenied(_("This is outside the projects and zones you work in."))


def fee_settings() -> FeeSettings:
    found = FeeSettings.objects.first()
    return found if found is not None else FeeSettings()


@transaction.atomic
def settings_update(*, by: Any, **values: Any) -> FeeSettings:
    require(by, policies.MANAGE_SETTINGS)
    allowed = {"run_day", "auto_run", "due_days", "auto_apply_prepayment", "reminder_text"}
    unknown = set(values) - allowed
    if unknown:
        raise ServiceError(_("These cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    current, _created = FeeSettings.objects.select_for_update().get_or_create(id=1)
    before = snapshot(current, sorted(allowed))
    for name, value in values.items():
        setattr(current, name, value)
    _validated(current)
    current.save()
    audit_record(
        actor=by, action=AuditAction.CHANGED, instance=current, before=before, after=snapshot(current, sorted(allowed))
    )
    return current


# ------------------------------------------------------------------------------------------ charge items, tariffs
@transaction.atomic
def charge_item_create(
    *, by: Any, code: str, name: str, category: str, basis: str, sort_order: int = 100
) -> ChargeItem:
    require(by, policies.MANAGE_TARIFFS)
    item = ChargeItem(
        code=(code or "").strip(), name=(name or "").strip(), category=category, basis=basis, sort_order=sort_order
    )
    _validated(item)
    item.save()
    audit_record(
        actor=by, action=AuditAction.CREATED, instance=item, after=snapshot(item, ["code", "name", "category", "basis"])
    )
    return item


@transaction.atomic
def charge_item_update(*, by: Any, item: ChargeItem, **changes: Any) -> ChargeItem:
    """Name and order only: what an item is (category, basis) is fixed once bills may carry it."""
    require(by, policies.MANAGE_TARIFFS)
    if set(changes) - {"name", "sort_order", "archived"}:
        raise ServiceError(_("Only the name, the order and whether it is in use can be changed."), code="not_editable")
    item = ChargeItem.objects.select_for_update().get(pk=item.pk)
    before = snapshot(item, ["name", "sort_order", "archived_at"])
    if "name" in changes:
        item.name = str(changes["name"]).strip()
    if "sort_order" in changes:
        item.sort_order = changes["sort_order"]
    if "archived" in changes:
        item.archived_at = timezone.now() if changes["archived"] else None
    _validated(item)
    item.save()
    audit_record(
        actor=by,
        action=AuditAction.CHANGED,
        instance=item,
        before=before,
        after=snapshot(item, ["name", "sort_order", "archived_at"]),
    )
    return item


def _applies_to_choices(item: ChargeItem) -> set[str]:
    if item.basis == ChargeBasis.SPACE:
        return {""} | set(ParkingKind.values)
    return {""} | set(UnitKind.values)


def _overlapping(tariff: Tariff) -> Any:
    others = Tariff.objects.filter(
        charge_item=tariff.charge_item_id, project=tariff.project_id, applies_to=tariff.applies_to
    ).exclude(pk=tariff.pk)
    others = others.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=tariff.valid_from))
    if tariff.valid_until is not None:
        others = others.filter(valid_from__lt=tariff.valid_until)
    return others


@transaction.atomic
def tariff_create(
    *,
    by: Any,
    project: Project,
    charge_item: ChargeItem,
    unit_price: Decimal,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    applies_to: str = "",
    tiers: Sequence[tuple[Decimal, Decimal]] = (),
    note: str = "",
) -> Tariff:
    require(by, policies.MANAGE_TARIFFS)
    _require_project(by, project.pk)
    if charge_item.archived_at is not None:
        raise ServiceError(_("This charge item is no longer in use."), code="item_archived", field="charge_item")
    applies_to = (applies_to or "").strip()
    if applies_to not in _applies_to_choices(charge_item):
        raise ServiceError(_("This tariff cannot apply to that kind."), code="applies_to_invalid", field="applies_to")
    if tiers and charge_item.basis != ChargeBasis.METER:
        raise ServiceError(_("Only meter charges have tiers."), code="tiers_not_metered", field="tiers")
    if any(Decimal(str(price)) < 0 or Decimal(str(price)) > Decimal("1000000") for _above, price in tiers):
        raise ServiceError(_("A tier's price cannot be negative."), code="tiers_invalid", field="tiers")
    thresholds = [Decimal(str(above)) for above, _price in tiers]
    if len(set(thresholds)) != len(thresholds) or any(t <= 0 for t in thresholds):
        raise ServiceError(
            _("Each tier starts above a different quantity, more than zero."), code="tiers_invalid", field="tiers"
        )
    Project.objects.select_for_update().filter(pk=project.pk).first()  # one writer of a project's tariffs at a time
    tariff = Tariff(
        charge_item=charge_item,
        project=project,
        applies_to=applies_to,
        unit_price=unit_price,
        valid_from=valid_from,
        valid_until=valid_until,
        note=(note or "").strip(),
    )
    _validated(tariff)
    clash = _overlapping(tariff).first()
    if clash is not None:
        message = (
            _("Another tariff of this item already applies from %(start)s to %(end)s.")
            if clash.valid_until
            else _("Another tariff of this item already applies from %(start)s.")
        )
        raise ServiceError(
            message % {"start": clash.valid_from.isoformat(), "end": str(clash.valid_until)},
            code="tariff_overlap",
            field="valid_from",
        )
    tariff.save()
    TariffTier.objects.bulk_create(
        [
            TariffTier(tariff=tariff, starts_above=Decimal(str(above)), unit_price=Decimal(str(price)))
            for above, price in tiers
        ]
    )
    audit_record(
        actor=by,
        action=AuditAction.CREATED,
        instance=tariff,
        after={
            **snapshot(tariff, ["project", "charge_item", "applies_to", "unit_price", "valid_from", "valid_until"]),
            "tiers": [[str(a), str(p)] for a, p in tiers],
        },
    )
    return tariff


@transaction.atomic
def tariff_end(*, by: Any, tariff: Tariff, on: dt.date) -> Tariff:
    """A tariff stops applying from `on` (a new price follows as a new tariff; bills keep the old price)."""
    require(by, policies.MANAGE_TARIFFS)
    _require_project(by, tariff.project_id)
    tariff = Tariff.objects.select_for_update().get(pk=tariff.pk)
    if on <= tariff.valid_from:
        raise ServiceError(_("A tariff ends after it starts."), code="period_order", field="on")
    if tariff.valid_until is not None and on >= tariff.valid_until:
        raise ServiceError(_("This tariff already ends by then."), code="already_ended", field="on")
    before = {"valid_until": tariff.valid_until.isoformat() if tariff.valid_until else None}
    tariff.valid_until = on
    tariff.save(update_fields=["valid_until", "updated_at"])
    audit_record(
        actor=by, action=AuditAction.CHANGED, instance=tariff, before=before, after={"valid_until": on.isoformat()}
    )
    return tariff


# ------------------------------------------------------------------------------------------ accounts
def accounts_ensure(*, project_id: uuid.UUID) -> int:
    """Make the household accounts a project's units and parking spaces do not have yet, in two set-based
    statements (a first bill run of 100,000 units does not wait for 100,000 inserts). Returns how many."""
    account = Account._meta.db_table
    unit = Unit._meta.db_table
    building = Building._meta.db_table
    space = ParkingSpace._meta.db_table
    made = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # With stale statistics (a project whose units were just imported) the planner probes the accounts
        # table once per unit in a nested loop: minutes for 100,000 units, against seconds with a hash join.
        # SET LOCAL lasts to the end of the outermost transaction: set back below, so that it only
        # touches these two statements.
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(
            f"""INSERT INTO {account} (id, created_at, updated_at, project_id, zone_id, building_id, unit_id, label)
                SELECT gen_random_uuid(), now(), now(), u.project_id, u.zone_id, u.building_id, u.id,
                       left(b.name || ' ' || u.number, 80)
                FROM {unit} u JOIN {building} b ON b.id = u.building_id
                WHERE u.project_id = %s AND u.archived_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM {account} a WHERE a.unit_id = u.id)
                ON CONFLICT DO NOTHING""",  # noqa: S608  (table names from the models, values bound)
            [project_id],
        )
        made += cursor.rowcount
        cursor.execute(
            f"""INSERT INTO {account}
                    (id, created_at, updated_at, project_id, zone_id, building_id, parking_space_id, label)
                SELECT gen_random_uuid(), now(), now(), s.project_id, s.zone_id, NULL, s.id,
                       left(%s || ' ' || s.number, 80)
                FROM {space} s
                WHERE s.project_id = %s AND s.archived_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM {account} a WHERE a.parking_space_id = s.id)
                ON CONFLICT DO NOTHING""",  # noqa: S608
            [_("Parking"), project_id],
        )
        made += cursor.rowcount
        cursor.execute("SET LOCAL enable_nestloop TO DEFAULT")
    return made


def account_for(*, unit: Unit | None = None, parking_space: ParkingSpace | None = None) -> Account:
    """The account of a unit or a parking space, made if it has none yet."""
    target = unit or parking_space
    if target is None:
        raise ServiceError(_("Choose a unit or a parking space."), code="account_target_required")
    existing = (
        Account.objects.filter(unit=unit).first()
        if unit
        else Account.objects.filter(parking_space=parking_space).first()
    )
    if existing is not None:
        return existing
    accounts_ensure(project_id=target.project_id)
    return Account.objects.get(unit=unit) if unit else Account.objects.get(parking_space=parking_space)


def _lock(account: Account) -> Account:
    return Account.objects.select_for_update().get(pk=account.pk)


# ------------------------------------------------------------------------------------------ meter readings
def _reading_value(value: Any, field_name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ServiceError(_("Give the reading as a number."), code="reading_invalid", field=field_name) from None
    if not number.is_finite() or number < 0 or number >= Decimal("10000000000"):
        raise ServiceError(_("A reading is a number, zero or more."), code="reading_invalid", field=field_name)
    return number


def _consumption(
    meter: Meter,
    previous: Decimal | None,
    reading: Decimal,
    replaced: bool,
    old_final: Decimal | None,
    new_start: Decimal | None,
) -> Decimal | None:
    if previous is None:
        return None  # the baseline reading
    if replaced:
        assert old_final is not None and new_start is not None
        if old_final < previous:
            raise ServiceError(
                _("The old meter's final reading is below its previous reading %(previous)s.") % {"previous": previous},
                code="reading_below_previous",
                field="old_final",
            )
        if reading < new_start:
            raise ServiceError(
                _("The reading is below the new meter's start."), code="reading_below_start", field="reading"
            )
        used = (old_final - previous) + (reading - new_start)
    else:
        if reading < previous:
            raise ServiceError(
                _(
                    "The reading is below the previous one (%(previous)s). "
                    "If the meter was replaced, record the replacement."
                )
                % {"previous": previous},
                code="reading_below_previous",
                field="reading",
            )
        used = reading - previous
    return calculation.metered(used, meter.multiplier)


def _abnormal(meter: Meter, period: dt.date, consumption: Decimal | None) -> bool:
    if consumption is None or consumption == 0:
        return False
    recent = list(
        MeterReading.objects.filter(meter=meter, period__lt=period, consumption__isnull=False)
        .order_by("-period")
        .values_list("consumption", flat=True)[: calculation.AVERAGE_OF]
    )
    return calculation.abnormal(consumption, [value for value in recent if value is not None])


@transaction.atomic
def reading_record(
    *,
    by: Any,
    project: Project,
    meter: Meter,
    period: dt.date,
    reading: Any,
    read_on: dt.date | None = None,
    replaced: bool = False,
    old_final: Any = None,
    new_start: Any = None,
) -> MeterReading:
    """Record a meter's reading for a period (抄表). Refused for a meter of another project than the one the
    readings are being entered for, below the previous reading without a replacement, or out of order."""
    require(by, policies.ENTER_READINGS)
    if meter.project_id != project.pk:
        raise ServiceError(_("This meter belongs to another project."), code="meter_other_project", field="meter")
    _require_meter(by, meter)
    if meter.archived_at is not None:
        raise ServiceError(_("This meter is archived."), code="meter_archived", field="meter")
    period = month_start(period)
    value = _reading_value(reading, "reading")
    old = _reading_value(old_final, "old_final") if replaced else None
    start = _reading_value(new_start, "new_start") if replaced else None
    Meter.objects.select_for_update().filter(pk=meter.pk).first()  # one writer of a meter's readings at a time
    later = MeterReading.objects.filter(meter=meter, period__gte=period).order_by("period").first()
    if later is not None:
        raise ServiceError(
            _("This meter already has a reading for %(period)s; readings are entered month by month.")
            % {"period": later.period.strftime("%Y-%m")},
            code="reading_exists" if later.period == period else "reading_out_of_order",
            field="period",
        )
    last = MeterReading.objects.filter(meter=meter, period__lt=period).order_by("-period").first()
    previous = last.reading if last is not None else None
    if replaced and previous is None:
        raise ServiceError(
            _("A first reading needs no replacement."), code="replacement_without_previous", field="replaced"
        )
    used = _consumption(meter, previous, value, replaced, old, start)
    record = MeterReading(
        meter=meter,
        project=project,
        period=period,
        reading=value,
        read_on=read_on or timezone.localdate(),
        previous=previous,
        replaced=replaced,
        old_final=old,
        new_start=start,
        consumption=used,
        flagged=_abnormal(meter, period, used),
        entered_by=by,
    )
    _validated(record, exclude=["entered_by", "reviewed_by"])
    record.save()
    return record


@transaction.atomic
def reading_correct(*, by: Any, reading: MeterReading, value: Any, **replacement: Any) -> MeterReading:
    """Correct the latest reading of a meter before it is billed."""
    require(by, policies.REVIEW_READINGS)
    _require_meter(by, reading.meter)
    reading = MeterReading.objects.select_for_update().select_related("meter").get(pk=reading.pk)
    if BillLine.objects.filter(meter_reading=reading).exists():
        raise ServiceError(_("This reading is billed; correct the bill instead."), code="reading_billed")
    if MeterReading.objects.filter(meter=reading.meter_id, period__gt=reading.period).exists():
        raise ServiceError(_("Only the latest reading of a meter can be corrected."), code="reading_not_latest")
    value_new = _reading_value(value, "reading")
    replaced = bool(replacement.get("replaced", reading.replaced))
    old = _reading_value(replacement.get("old_final", reading.old_final), "old_final") if replaced else None
    start = _reading_value(replacement.get("new_start", reading.new_start), "new_start") if replaced else None
    before = {"reading": str(reading.reading)}
    reading.reading, reading.replaced, reading.old_final, reading.new_start = value_new, replaced, old, start
    reading.consumption = _consumption(reading.meter, reading.previous, value_new, replaced, old, start)
    reading.flagged = _abnormal(reading.meter, reading.period, reading.consumption)
    reading.reviewed_at, reading.reviewed_by = (timezone.now(), by) if reading.flagged else (None, None)
    reading.save()
    audit_record(
        actor=by, action=AuditAction.CHANGED, instance=reading, before=before, after={"reading": str(value_new)}
    )
    return reading


@transaction.atomic
def reading_review(*, by: Any, reading: MeterReading) -> MeterReading:
    """Someone looked at an abnormal reading and confirms it: it may be billed."""
    require(by, policies.REVIEW_READINGS)
    _require_meter(by, reading.meter)
    reading = MeterReading.objects.select_for_update().get(pk=reading.pk)
    if not reading.flagged:
        raise ServiceError(_("This reading is not waiting for review."), code="not_flagged")
    if reading.reviewed_at is not None:
        raise ServiceError(_("This reading is already reviewed."), code="already_reviewed")
    reading.reviewed_at, reading.reviewed_by = timezone.now(), by
    reading.save(update_fields=["reviewed_at", "reviewed_by", "updated_at"])
    audit_record(
        actor=by, action=AuditAction.CHANGED, instance=reading, before={"reviewed": False}, after={"reviewed": True}
    )
    return reading


# ------------------------------------------------------------------------------------------ bill runs
PROGRESS_TOPIC = "fees.run"


@transaction.atomic
def run_create(*, by: Any, project: Project, period: dt.date) -> BillRun:
    """A project's bill run for a month, as a draft to preview. One per project and month."""
    require(by, policies.RUN_BILLS)
    _require_project(by, project.pk)
    period = month_start(period)
    existing = BillRun.objects.filter(project=project, period=period).first()
    if existing is not None:
        if existing.status == RunStatus.POSTED:
            raise ServiceError(
                _("The bills of %(period)s are already posted for this project.")
                % {"period": period.strftime("%Y-%m")},
                code="run_already_posted",
                field="period",
            )
        raise ServiceError(
            _("This project already has a bill run for %(period)s.") % {"period": period.strftime("%Y-%m")},
            code="run_exists",
            field="period",
        )
    run = BillRun(project=project, period=period, created_by=by)
    _validated(run, exclude=["created_by"])
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        raise ServiceError(
            _("This project already has a bill run for this period."), code="run_exists", field="period"
        ) from None
    audit_record(
        actor=by,
        action=AuditAction.CREATED,
        instance=run,
        after={"project": str(project.pk), "period": period.isoformat()},
    )
    return run


def run_preview(*, by: Any, run: BillRun) -> runs.Plan:
    """What posting the run would bill now: counts, totals per item, and the exceptions to look at."""
    require(by, policies.RUN_BILLS)
    _require_project(by, run.project_id)
    accounts_ensure(project_id=run.project_id)
    return runs.plan_make(project_id=run.project_id, period=run.period)


@transaction.atomic
def run_post(*, by: Any, run: BillRun) -> BillRun:
    """Queue the run to be posted by a worker. Posting a posted run again is refused; a run left half-way
    (a worker that died) is posted again from where it stopped."""
    require(by, policies.RUN_BILLS)
    _require_project(by, run.project_id)
    run = BillRun.objects.select_for_update().get(pk=run.pk)
    if run.status == RunStatus.POSTED:
        raise ServiceError(
            _("The bills of %(period)s are already posted for this project.")
            % {"period": run.period.strftime("%Y-%m")},
            code="run_already_posted",
        )
    run.status, run.error = RunStatus.POSTING, ""
    run.save(update_fields=["status", "error", "updated_at"])
    progress_set(PROGRESS_TOPIC, run.pk, status=RunStatus.POSTING, done=0, total=0)
    from .tasks import bill_run_post

    enqueue_on_commit(bill_run_post, str(run.pk))
    audit_record(
        actor=by, action=AuditAction.CHANGED, instance=run, before={"status": "draft"}, after={"status": "posting"}
    )
    return run


def run_execute(*, run_id: Any, chunk: int = runs.CHUNK) -> BillRun | None:
    """Post a run (the worker's side). Safe to run twice and to resume: each chunk skips what is billed."""
    run = BillRun.objects.filter(pk=run_id).first()
    if run is None or run.status == RunStatus.POSTED:
        return run
    settings_now = fee_settings()
    accounts_ensure(project_id=run.project_id)

    def report(done: int, total: int) -> None:
        progress_set(PROGRESS_TOPIC, run.pk, status=RunStatus.POSTING, done=done, total=total)

    try:
        billed = runs.run_write(run, due_days=settings_now.due_days, chunk=chunk, progress=report)
    except Exception as error:
        BillRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED, error=str(error)[:2000], updated_at=timezone.now()
        )
        progress_set(PROGRESS_TOPIC, run.pk, status=RunStatus.FAILED, done=0, total=0)
        raise
    if settings_now.auto_apply_prepayment and billed:
        for account in Account.objects.filter(pk__in=_with_credit(billed)):
            credit_apply(by=None, account=account)
    count, total = runs.run_totals(run)
    BillRun.objects.filter(pk=run.pk).update(
        status=RunStatus.POSTED, posted_at=timezone.now(), bill_count=count, total=total, updated_at=timezone.now()
    )
    progress_set(PROGRESS_TOPIC, run.pk, status=RunStatus.POSTED, done=count, total=count)
    run.refresh_from_db()
    return run


def _with_credit(account_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    return list(
        LedgerEntry.objects.filter(account_id__in=account_ids, line__isnull=True)
        .values("account_id")
        .annotate(total=Sum("amount"))
        .filter(total__lt=0)
        .values_list("account_id", flat=True)
    )


def runs_due(*, today: dt.date | None = None) -> list[BillRun]:
    """The monthly runs beat starts (when the company turned it on): on or after the company's run day,
    each project without a run for this month gets one, posted by the system."""
    today = today or timezone.localdate()
    current = fee_settings()
    if not current.auto_run or today.day < current.run_day:
        return []
    period = month_start(today)
    started = []
    for project in Project.objects.filter(archived_at__isnull=True).exclude(
        pk__in=BillRun.objects.filter(period=period).values("project_id")
    ):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    run = BillRun.objects.create(project=project, period=period, status=RunStatus.POSTING)
            except IntegrityError:
                continue  # another beat tick made it
            from .tasks import bill_run_post

            enqueue_on_commit(bill_run_post, str(run.pk))
            started.append(run)
    return started


# ------------------------------------------------------------------------------------------ the ledger
@dataclass
class _Open:
    line: BillLine
    balance: Decimal
    period: dt.date
    due_on: dt.date
    project_id: uuid.UUID
    zone_id: uuid.UUID | None
    building_id: uuid.UUID | None
    charge_item_id: uuid.UUID


def _line_balances(account: Account, *, lines: Sequence[uuid.UUID] | None = None) -> dict[uuid.UUID, Decimal]:
    entries = LedgerEntry.objects.filter(account=account, line__isnull=False)
    if lines is not None:
        entries = entries.filter(line_id__in=lines)
    return {row["line_id"]: row["total"] for row in entries.values("line_id").annotate(total=Sum("amount"))}


def _line_room(account: Account, lines: Sequence[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    """How much more each line may owe: what it still charges (net of reversals) less what it owes now. A
    void or a refund that re-opens a line re-opens it at most this far: beyond it, the money it paid has
    moved to prepayment (a reversal after the payment), and re-opening the line would leave a cancelled
    charge owing and that prepayment still there."""
    charged = {
        row["line_id"]: row["total"]
        for row in LedgerEntry.objects.filter(
            account=account, line_id__in=lines, kind__in=[EntryKind.CHARGE, EntryKind.CHARGE_REVERSAL]
        )
        .values("line_id")
        .annotate(total=Sum("amount"))
    }
    balances = _line_balances(account, lines=lines)
    return {line: charged.get(line, ZERO) - balances.get(line, ZERO) for line in lines}


def _open_lines_of(accounts: Sequence[Account], *, bills: Sequence[Bill] | None = None) -> dict[uuid.UUID, list[_Open]]:
    """Each account's lines with something still owed, oldest first (period, due date, item order): one
    query for them all, each line with its balance (the entries' key starts with the line)."""
    line_total = LedgerEntry.objects.filter(line=OuterRef("pk")).values("line").annotate(t=Sum("amount")).values("t")
    lines = (
        BillLine.objects.filter(account_id__in=[account.pk for account in accounts])
        .select_related("bill", "charge_item")
        .annotate(balance=Coalesce(Subquery(line_total), ZERO, output_field=DecimalField()))
        .filter(balance__gt=0)
    )
    if bills is not None:
        lines = lines.filter(bill__in=list(bills))
    by_id = {account.pk: account for account in accounts}
    found: dict[uuid.UUID, list[_Open]] = {account.pk: [] for account in accounts}
    for line in lines:
        account = by_id[line.account_id]
        found[account.pk].append(
            _Open(
                line=line,
                balance=line.balance,
                period=line.bill.period,
                due_on=line.bill.due_on,
                project_id=account.project_id,
                zone_id=account.zone_id,
                building_id=account.building_id,
                charge_item_id=line.charge_item_id,
            )
        )
    for open_lines in found.values():
        open_lines.sort(key=lambda o: (o.period, o.due_on, o.line.charge_item.sort_order, str(o.line.pk)))
    return found


def _open_lines(account: Account, *, bills: Sequence[Bill] | None = None) -> list[_Open]:
    return _open_lines_of([account], bills=bills)[account.pk]


def credit_of(account: Account) -> Decimal:
    """Prepaid credit (预存余额): minus the sum of the account's entries without a line."""
    total = LedgerEntry.objects.filter(account=account, line__isnull=True).aggregate(total=Sum("amount"))["total"]
    return -(total or ZERO)


def _entry(
    account: Account,
    kind: str,
    amount: Decimal,
    *,
    line: _Open | BillLine | None = None,
    group: uuid.UUID,
    by: Any,
    today: dt.date,
    **links: Any,
) -> LedgerEntry:
    entry = LedgerEntry(
        account=account,
        kind=kind,
        amount=amount,
        group=group,
        by=by if getattr(by, "pk", None) else None,
        booked_on=today,
        project_id=account.project_id,
        zone_id=account.zone_id,
        building_id=account.building_id,
        **links,
    )
    if isinstance(line, _Open):
        entry.line = line.line
        entry.charge_item_id, entry.period = line.charge_item_id, line.period
    elif isinstance(line, BillLine):
        entry.line = line
        entry.charge_item_id, entry.period = line.charge_item_id, line.bill.period
    return entry


def _entries_save(entries: list[LedgerEntry]) -> None:
    try:
        with transaction.atomic():
            LedgerEntry.objects.bulk_create(entries)
    except IntegrityError as error:
        # The database's own rules (a line or a credit below zero) caught what the checks above did not.
        raise ServiceError(
            _("This would leave an account inconsistent: %(detail)s") % {"detail": error}, code="ledger_refused"
        ) from None


@dataclass
class Allocation:
    line: BillLine
    amount: Decimal


def _allocate(
    account: Account, amount: Decimal, *, bills: Sequence[Bill] | None, allocations: Sequence[Allocation] | None
) -> list[tuple[_Open, Decimal]]:
    """Split `amount` over open lines: the ones given (each at most its balance), or the chosen bills'
    lines, or every open line, oldest first. What is left is prepayment."""
    if allocations:
        by_line = {item.line.pk: item for item in _open_lines(account)}
        result = []
        for allocation in allocations:
            share = _money(allocation.amount, field_name="allocations")
            open_line = by_line.get(allocation.line.pk)
            if open_line is None:
                if allocation.line.bill.account_id != account.pk:
                    raise ServiceError(
                        _("This bill is of another account."), code="bill_other_account", field="allocations"
                    )
                raise ServiceError(_("This bill is already paid."), code="bill_paid", field="allocations")
            if share > open_line.balance:
                raise ServiceError(
                    _("%(amount)s is more than the %(balance)s still owed on this bill line.")
                    % {"amount": share, "balance": open_line.balance},
                    code="over_allocated",
                    field="allocations",
                )
            result.append((open_line, share))
        if sum((share for _line, share in result), ZERO) > amount:
            raise ServiceError(
                _("The allocations add up to more than the payment."), code="over_allocated", field="allocations"
            )
        return result
    if bills is not None:
        for bill in bills:
            if bill.account_id != account.pk:
                raise ServiceError(_("This bill is of another account."), code="bill_other_account", field="bills")
        open_lines = _open_lines(account, bills=bills)
        if not open_lines and bills:
            raise ServiceError(_("These bills are already paid."), code="bill_paid", field="bills")
    else:
        open_lines = _open_lines(account)
    result, left = [], amount
    for open_line in open_lines:
        if left <= 0:
            break
        share = min(left, open_line.balance)
        result.append((open_line, share))
        left -= share
    return result


def _receipt_numbers(today: dt.date, count: int = 1) -> int:
    """Take the next `count` receipt numbers of the year, under the counter's row lock (one statement
    makes the year's counter or moves it on); returns the last one taken. Gapless because a payment that
    rolls back rolls its numbers back with it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO fees_receiptcounter (year, last) VALUES (%s, %s) "
            "ON CONFLICT (year) DO UPDATE SET last = fees_receiptcounter.last + EXCLUDED.last RETURNING last",
            [today.year, count],
        )
        (last,) = cursor.fetchone()
    return int(last)


def _receipt_number(today: dt.date, number: int) -> str:
    return f"{today.year}{number:06d}"


@transaction.atomic
def payment_record(
    *,
    by: Any,
    account: Account,
    amount: Any,
    method: str,
    bills: Sequence[Bill] | None = None,
    allocations: Sequence[Allocation] | None = None,
    payer_name: str = "",
    reference: str = "",
    note: str = "",
    external_id: str | None = None,
) -> Payment:
    """Money received (收款): allocated to the lines given, or to the chosen bills, or oldest first; what is
    left becomes prepayment (预存). Numbered with the next receipt number. `by` None is the system (an
    online payment the gateway confirmed); such a payment carries the provider's id and is recorded once."""
    if by is not None:
        require(by, policies.TAKE_PAYMENTS)
        if method not in DESK_METHODS:
            raise ServiceError(_("Choose how the money was paid."), code="method_invalid", field="method")
    elif method not in PaymentMethod.values:
        raise ServiceError(_("Choose how the money was paid."), code="method_invalid", field="method")
    _require_account(by, account)
    value = _money(amount)
    # Looked up under the account's lock: two deliveries of the same provider event wait for each other,
    # and the second finds what the first recorded.
    account = _lock(account)
    if external_id:
        existing = Payment.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing
    if bills is not None and allocations:
        raise ServiceError(_("Choose bills or amounts per line, not both."), code="allocation_ambiguous")
    shares = _allocate(account, value, bills=bills, allocations=allocations)
    today = timezone.localdate()
    payment = Payment(
        account=account,
        receipt_number=_receipt_number(today, _receipt_numbers(today)),
        method=method,
        amount=value,
        booked_on=today,
        payer_name=(payer_name or "").strip()[:100],
        reference=(reference or "").strip()[:100],
        note=(note or "").strip()[:200],
        external_id=external_id or None,
        by=by,
    )
    payment.save()
    group = uuid7()
    entries = [
        _entry(account, EntryKind.PAYMENT, -share, line=open_line, group=group, by=by, today=today, payment=payment)
        for open_line, share in shares
    ]
    left = value - sum((share for _line, share in shares), ZERO)
    if left > 0:
        entries.append(_entry(account, EntryKind.PREPAYMENT, -left, group=group, by=by, today=today, payment=payment))
    _entries_save(entries)
    return payment


@dataclass(frozen=True)
class OnlineReceipt:
    """One online payment the provider confirmed, for `online_payments_record`."""

    account_id: uuid.UUID
    amount: Decimal
    external_id: str
    # The bills it pays; None: oldest first; []: none (all of it prepayment).
    bill_ids: Sequence[uuid.UUID] | None


@transaction.atomic
def online_payments_record(receipts: Sequence[OnlineReceipt]) -> dict[str, Payment]:
    """Many online payments at once — a batch of the provider's confirmations — written as `payment_record`
    would write them one by one (allocated to their bills, or oldest first when those were paid meanwhile,
    the rest prepayment; receipt numbers in order; a provider id recorded once), in a fixed number of
    statements whatever the batch's size. Returns the payment of each provider id, those recorded before
    included. Refuses (ServiceError) when an account is not found: the caller takes them one by one."""
    accounts = {
        account.pk: account
        for account in Account.objects.select_for_update()
        .filter(pk__in=sorted({receipt.account_id for receipt in receipts}))
        .order_by("pk")  # locks taken in one order: two batches never wait for each other in a circle
    }
    if len(accounts) != len({receipt.account_id for receipt in receipts}):
        raise ServiceError("an online payment names no household account of this company", code="no_account")
    # Looked up under the accounts' locks, as payment_record does.
    refs = [receipt.external_id for receipt in receipts]
    found = {str(payment.external_id): payment for payment in Payment.objects.filter(external_id__in=refs)}
    todo = [r for r in {r.external_id: r for r in receipts}.values() if r.external_id not in found]
    if not todo:
        return found
    open_lines = _open_lines_of([accounts[key] for key in {r.account_id for r in todo}])
    today = timezone.localdate()
    last = _receipt_numbers(today, len(todo))
    payments: list[Payment] = []
    entries: list[LedgerEntry] = []
    for number, receipt in enumerate(todo, start=last - len(todo) + 1):
        account, value = accounts[receipt.account_id], _money(receipt.amount)
        lines = open_lines[account.pk]
        if receipt.bill_ids is not None:
            chosen = set(receipt.bill_ids)
            mine = [item for item in lines if item.line.bill_id in chosen and item.balance > 0]
            lines = mine if mine or not chosen else lines  # its bills paid meanwhile: oldest first
        payment = Payment(
            account=account,
            receipt_number=_receipt_number(today, number),
            method=PaymentMethod.ONLINE,
            amount=value,
            booked_on=today,
            reference=receipt.external_id[:100],
            external_id=receipt.external_id,
            by=None,
        )
        payments.append(payment)
        group, left = uuid7(), value
        for item in lines:
            if left <= 0:
                break
            share = min(left, item.balance)
            if share <= 0:
                continue
            item.balance -= share  # the next payment of the batch on this account sees what is left
            left -= share
            entries.append(
                _entry(
                    account, EntryKind.PAYMENT, -share, line=item, group=group, by=None, today=today, payment=payment
                )
            )
        if left > 0:
            entries.append(
                _entry(account, EntryKind.PREPAYMENT, -left, group=group, by=None, today=today, payment=payment)
            )
    Payment.objects.bulk_create(payments)
    _entries_save(entries)
    return found | {str(payment.external_id): payment for payment in payments}


@transaction.atomic
def credit_apply(*, by: Any, account: Account, bills: Sequence[Bill] | None = None) -> Decimal:
    """Pay open lines from the account's prepaid credit (预存抵扣), oldest first. Returns the amount used."""
    if by is not None:
        require(by, policies.TAKE_PAYMENTS)
    _require_account(by, account)
    account = _lock(account)
    credit = credit_of(account)
    if credit <= 0:
        if by is None:
            return ZERO
        raise ServiceError(_("This account has no prepayment to use."), code="no_credit")
    shares = _allocate(account, credit, bills=bills, allocations=None)
    if not shares:
        return ZERO
    today, group = timezone.localdate(), uuid7()
    used = sum((share for _line, share in shares), ZERO)
    entries = [_entry(account, EntryKind.CREDIT_USED, used, group=group, by=by, today=today)]
    entries += [
        _entry(account, EntryKind.CREDIT_PAYMENT, -share, line=line, group=group, by=by, today=today)
        for line, share in shares
    ]
    _entries_save(entries)
    return used


@transaction.atomic
def payment_void(*, by: Any, payment: Payment, reason: str) -> PaymentVoid:
    """Void a receipt (作废): every entry of the payment is reversed; the number stays used."""
    require(by, policies.VOID_RECEIPTS)
    _require_account(by, payment.account)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why the receipt is voided."), code="reason_required", field="reason")
    account = _lock(payment.account)
    if PaymentVoid.objects.filter(payment=payment).exists():
        raise ServiceError(_("This receipt is already voided."), code="already_voided")
    if Refund.objects.filter(payment=payment).exists():
        raise ServiceError(_("Part of this payment was refunded; it cannot be voided."), code="payment_refunded")
    originals = list(LedgerEntry.objects.filter(payment=payment).select_related("line__bill"))
    prepaid = -sum((e.amount for e in originals if e.line_id is None), ZERO)
    if prepaid > credit_of(account):
        raise ServiceError(
            _("The prepayment of this receipt has been used since; reverse that first."),
            code="credit_used",
            field="reason",
        )
    room = _line_room(account, [e.line_id for e in originals if e.line_id is not None])
    if any(-e.amount > room[e.line_id] for e in originals if e.line_id is not None):
        raise ServiceError(
            _("A charge this receipt paid has been reversed since: its money is prepayment now, not on the bill."),
            code="charge_reversed",
            field="reason",
        )
    void = PaymentVoid.objects.create(payment=payment, reason=reason[:200], by=by)
    today, group = timezone.localdate(), uuid7()
    entries = []
    for original in originals:
        entry = _entry(
            account,
            EntryKind.VOID,
            -original.amount,
            line=original.line,
            group=group,
            by=by,
            today=today,
            reverses=original,
            reason=reason[:200],
        )
        entries.append(entry)
    _entries_save(entries)
    audit_record(
        actor=by,
        action=AuditAction.CHANGED,
        instance=payment,
        before={"voided": False},
        after={"voided": True, "reason": reason},
    )
    return void


@transaction.atomic
def charge_reverse(*, by: Any, line: BillLine, reason: str, amount: Any = None) -> list[LedgerEntry]:
    """Reverse (part of) a charge (冲红/减免) with a reason. If the line was paid beyond what it now owes,
    the excess moves to the account's prepayment."""
    require(by, policies.REVERSE_CHARGES)
    line = BillLine.objects.select_related("bill__account").get(pk=line.pk)
    account = line.bill.account
    _require_account(by, account)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why the charge is reversed."), code="reason_required", field="reason")
    account = _lock(account)
    entries = LedgerEntry.objects.filter(line=line)
    net_charge = (
        entries.filter(kind__in=[EntryKind.CHARGE, EntryKind.CHARGE_REVERSAL]).aggregate(t=Sum("amount"))["t"] or ZERO
    )
    value = net_charge if amount is None else _money(amount)
    if value <= 0:
        raise ServiceError(_("This charge is already reversed."), code="already_reversed")
    if value > net_charge:
        raise ServiceError(
            _("At most %(amount)s of this charge is left to reverse.") % {"amount": net_charge},
            code="reverse_too_much",
            field="amount",
        )
    balance = entries.aggregate(t=Sum("amount"))["t"] or ZERO
    today, group = timezone.localdate(), uuid7()
    new = [
        _entry(
            account, EntryKind.CHARGE_REVERSAL, -value, line=line, group=group, by=by, today=today, reason=reason[:200]
        )
    ]
    excess = value - balance
    if excess > 0:
        new.append(
            _entry(
                account, EntryKind.TO_CREDIT, excess, line=line, group=group, by=by, today=today, reason=reason[:200]
            )
        )
        new.append(_entry(account, EntryKind.FROM_LINE, -excess, group=group, by=by, today=today, reason=reason[:200]))
    _entries_save(new)
    return new


def _refundable_check(payment: Payment, value: Decimal) -> None:
    """A refund against a payment: not a voided one, and at most what it brought and is not refunded yet."""
    if PaymentVoid.objects.filter(payment=payment).exists():
        raise ServiceError(_("This receipt is voided."), code="payment_voided")
    refunded = Refund.objects.filter(payment=payment).aggregate(t=Sum("amount"))["t"] or ZERO
    if value > payment.amount - refunded:
        raise ServiceError(
            _("At most %(left)s of this payment is left to refund.") % {"left": payment.amount - refunded},
            code="refund_too_much",
            field="amount",
        )


@transaction.atomic
def refund_record(
    *,
    by: Any,
    account: Account,
    amount: Any,
    reason: str,
    method: str,
    payment: Payment | None = None,
    external_id: str | None = None,
) -> Refund:
    """Pay money back (退款). Without a payment: from prepaid credit, at most the credit. Against a payment:
    at most what that payment brought and is not refunded yet; it takes prepaid credit first and then
    re-opens what the payment paid, latest line first. A provider's refund id is recorded once."""
    if by is not None:
        require(by, policies.REFUND)
    _require_account(by, account)
    value = _money(amount)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why the money is paid back."), code="reason_required", field="reason")
    if method not in PaymentMethod.values:
        raise ServiceError(_("Choose how the money is paid back."), code="method_invalid", field="method")
    # Looked up under the account's lock: two deliveries of the same provider event wait for each other,
    # and the second finds what the first recorded.
    account = _lock(account)
    if external_id:
        existing = Refund.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing
    credit = credit_of(account)
    today, group = timezone.localdate(), uuid7()
    if payment is None:
        if value > credit:
            raise ServiceError(
                _("At most the prepayment of %(credit)s can be refunded.") % {"credit": credit},
                code="refund_too_much",
                field="amount",
            )
        refund = Refund.objects.create(
            account=account, amount=value, method=method, reason=reason[:200], by=by, external_id=external_id or None
        )
        _entries_save(
            [
                _entry(
                    account,
                    EntryKind.REFUND,
                    value,
                    group=group,
                    by=by,
                    today=today,
                    refund=refund,
                    reason=reason[:200],
                )
            ]
        )
        return refund
    if payment.account_id != account.pk:
        raise ServiceError(_("This payment is of another account."), code="payment_other_account")
    _refundable_check(payment, value)
    refund = Refund.objects.create(
        account=account,
        payment=payment,
        amount=value,
        method=method,
        reason=reason[:200],
        by=by,
        external_id=external_id or None,
    )
    entries = []
    from_credit = min(value, credit)
    if from_credit > 0:
        entries.append(
            _entry(
                account,
                EntryKind.REFUND,
                from_credit,
                group=group,
                by=by,
                today=today,
                refund=refund,
                reason=reason[:200],
            )
        )
    left = value - from_credit
    if left > 0:
        paid = list(
            LedgerEntry.objects.filter(payment=payment, line__isnull=False)
            .select_related("line__bill")
            .order_by("-line__bill__period", "-id")
        )
        reopened = {
            row["line_id"]: row["total"]
            for row in LedgerEntry.objects.filter(refund__payment=payment, line__isnull=False)
            .values("line_id")
            .annotate(total=Sum("amount"))
        }
        line_room = _line_room(account, [original.line_id for original in paid if original.line_id])
        for original in paid:
            assert original.line_id is not None  # entries of lines only (the query)
            room = min(-original.amount - reopened.get(original.line_id, ZERO), line_room[original.line_id])
            share = min(room, left)
            if share <= 0:
                continue
            entries.append(
                _entry(
                    account,
                    EntryKind.REFUND,
                    share,
                    line=original.line,
                    group=group,
                    by=by,
                    today=today,
                    refund=refund,
                    reason=reason[:200],
                )
            )
            left -= share
            if left <= 0:
                break
        if left > 0:
            raise ServiceError(
                _("Only %(possible)s of this payment can be refunded now: its prepayment has been used.")
                % {"possible": value - left},
                code="refund_too_much",
                field="amount",
            )
    _entries_save(entries)
    return refund


@transaction.atomic
def deposit_return(*, by: Any, line: BillLine, method: str, reason: str, amount: Any = None) -> Refund:
    """Return a refundable deposit (退押金), in full or less deductions (the part kept stays charged): the
    deposit's charge is reversed by what is returned, which moves that much of what was paid to the
    account's prepayment, and it is paid back from there. Only a deposit paid in full is returned."""
    require(by, policies.REFUND)
    line = BillLine.objects.select_related("bill__account", "charge_item").get(pk=line.pk)
    if line.charge_item.category != ChargeCategory.DEPOSIT:
        raise ServiceError(_("This is not a deposit."), code="not_a_deposit", field="line")
    _require_account(by, line.bill.account)
    _lock(line.bill.account)
    entries = LedgerEntry.objects.filter(line=line)
    if entries.filter(kind=EntryKind.CHARGE_REVERSAL).exists():
        raise ServiceError(_("This deposit is already returned."), code="deposit_returned", field="line")
    if entries.aggregate(t=Sum("amount"))["t"] != ZERO:
        raise ServiceError(_("Only a deposit paid in full is returned."), code="deposit_unpaid", field="line")
    held = entries.filter(kind__in=[EntryKind.CHARGE, EntryKind.CHARGE_REVERSAL]).aggregate(t=Sum("amount"))["t"]
    value = held if amount is None else _money(amount)
    if not held or value > held:
        raise ServiceError(
            _("At most %(held)s of this deposit is held.") % {"held": held or ZERO},
            code="refund_too_much",
            field="amount",
        )
    charge_reverse(by=by, line=line, reason=reason, amount=value)
    return refund_record(by=by, account=line.bill.account, amount=value, method=method, reason=reason)


@transaction.atomic
def write_off_request(*, by: Any, line: BillLine, amount: Any, reason: str) -> WriteOff:
    """Ask to write off (核销) what a line still owes; someone else approves."""
    require(by, policies.REQUEST_WRITE_OFF)
    line = BillLine.objects.select_related("bill__account").get(pk=line.pk)
    _require_account(by, line.bill.account)
    value = _money(amount)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why this is written off."), code="reason_required", field="reason")
    balance = _line_balances(line.bill.account, lines=[line.pk]).get(line.pk, ZERO)
    if value > balance:
        raise ServiceError(
            _("%(amount)s is more than the %(balance)s still owed on this line.")
            % {"amount": value, "balance": balance},
            code="over_allocated",
            field="amount",
        )
    return WriteOff.objects.create(line=line, amount=value, reason=reason[:200], requested_by=by)


@transaction.atomic
def write_off_decide(*, by: Any, write_off: WriteOff, approve: bool) -> WriteOff:
    require(by, policies.APPROVE_WRITE_OFF)
    write_off = WriteOff.objects.select_for_update().select_related("line__bill__account").get(pk=write_off.pk)
    account = write_off.line.bill.account
    _require_account(by, account)
    if write_off.status != WriteOffStatus.REQUESTED:
        raise ServiceError(_("This write-off is already decided."), code="already_decided")
    if write_off.requested_by_id == getattr(by, "pk", None):
        raise PolicyDenied(_("A write-off is approved by someone other than the person who asked for it."))
    account = _lock(account)
    write_off.status = WriteOffStatus.APPROVED if approve else WriteOffStatus.REJECTED
    write_off.decided_by, write_off.decided_at = by, timezone.now()
    write_off.save()
    if approve:
        balance = _line_balances(account, lines=[write_off.line_id]).get(write_off.line_id, ZERO)
        if write_off.amount > balance:
            raise ServiceError(
                _("Only %(balance)s is still owed on this line now.") % {"balance": balance}, code="over_allocated"
            )
        today = timezone.localdate()
        _entries_save(
            [
                _entry(
                    account,
                    EntryKind.WRITE_OFF,
                    -write_off.amount,
                    line=write_off.line,
                    group=uuid7(),
                    by=by,
                    today=today,
                    write_off=write_off,
                    reason=write_off.reason,
                )
            ]
        )
    return write_off


# ------------------------------------------------------------------------------------------ one-off charges, advance
@transaction.atomic
def one_off_charge(
    *, by: Any, account: Account, charge_item: ChargeItem, quantity: Any = 1, unit_price: Any = None, note: str = ""
) -> Bill:
    """A one-off bill (a special service, a card, a certificate, a deposit): quantity × the item's tariff
    in the project, or the price given."""
    if by is not None:
        require(by, policies.CHARGE_ONE_OFF)
    _require_account(by, account)
    if charge_item.basis != ChargeBasis.ITEM:
        raise ServiceError(_("This item is billed by the monthly run."), code="item_periodic", field="charge_item")
    if charge_item.archived_at is not None:
        raise ServiceError(_("This charge item is no longer in use."), code="item_archived", field="charge_item")
    try:
        count = Decimal(str(quantity))
    except (InvalidOperation, ValueError):
        raise ServiceError(_("Give the quantity as a number."), code="quantity_invalid", field="quantity") from None
    if not count.is_finite() or count <= 0 or count > 100000:
        raise ServiceError(_("The quantity must be more than zero."), code="quantity_invalid", field="quantity")
    today = timezone.localdate()
    if unit_price is None:
        tariff = runs._tariffs(account.project_id, today, [charge_item]).get((charge_item.pk, ""))
        if tariff is None:
            raise ServiceError(
                _("No tariff sets this item's price in the project: give the price."),
                code="price_required",
                field="unit_price",
            )
        price = tariff.unit_price
    else:
        try:
            price = Decimal(str(unit_price))
        except (InvalidOperation, ValueError):
            raise ServiceError(_("Give the price as a number."), code="price_invalid", field="unit_price") from None
        if not price.is_finite() or price <= 0 or price > Decimal("1000000"):
            raise ServiceError(_("The price must be more than zero."), code="price_invalid", field="unit_price")
    amount = fen(count * price)
    if amount <= 0:
        raise ServiceError(_("The amount comes to zero."), code="amount_not_positive", field="quantity")
    if amount > AMOUNT_MAX:
        raise ServiceError(_("The amount is too large."), code="amount_too_large", field="quantity")
    bill = Bill.objects.create(
        account=account,
        kind=BillKind.ONE_OFF,
        period=month_start(today),
        issued_on=today,
        due_on=runs.due_date(month_start(today), today, fee_settings().due_days),
        amount=amount,
        note=(note or "").strip()[:200],
    )
    line = BillLine.objects.create(
        bill=bill,
        account=account,
        charge_item=charge_item,
        description=(note or charge_item.name).strip()[:200],
        quantity=count,
        unit_price=price,
        amount=amount,
    )
    _entries_save([_entry(account, EntryKind.CHARGE, amount, line=line, group=uuid7(), by=by, today=today)])
    return bill


@transaction.atomic
def advance_collect(
    *,
    by: Any,
    account: Account,
    months: int,
    method: str,
    prepayment: Any = None,
    payer_name: str = "",
    reference: str = "",
) -> Payment:
    """Collect N months of the monthly fees in advance (预收), as at handover (DOMAIN.md §7: three months of
    property fees and a prepayment): the next N months' bills the account does not have yet are issued
    now (utilities excepted: they follow readings), and one payment pays them, plus `prepayment` kept as
    credit. Later bill runs skip the months billed here."""
    require(by, policies.TAKE_PAYMENTS)
    _require_account(by, account)
    if not isinstance(months, int) or months < 1 or months > 36:
        raise ServiceError(_("Collect from 1 to 36 months in advance."), code="months_invalid", field="months")
    extra = _money(prepayment, field_name="prepayment") if prepayment not in (None, "", 0, "0") else ZERO
    account = _lock(account)
    today = timezone.localdate()
    period = month_start(today)
    due_days = fee_settings().due_days
    bills: list[Bill] = []
    for offset in range(months):
        month = month_after(period, offset)
        existing = Bill.objects.filter(account=account, kind=BillKind.PERIODIC, period=month).first()
        if existing is not None:
            bills.append(existing)
            continue
        plan = runs.plan_make(project_id=account.project_id, period=month, account_ids={account.pk}, with_meters=False)
        if plan.bills:
            ids = runs.bills_write(
                plan.bills, run_id=None, period=month, issued_on=today, due_on=runs.due_date(month, today, due_days)
            )
            bills.extend(Bill.objects.filter(pk__in=ids))
    owed = sum((item.balance for item in _open_lines(account, bills=bills)), ZERO) if bills else ZERO
    if owed + extra <= 0:
        raise ServiceError(
            _("Nothing is owed for those months: no tariff applies, or they are paid."),
            code="nothing_to_collect",
            field="months",
        )
    # Only the months still owed: an empty list pays nothing but the prepayment (None would pay older
    # arrears first, which is not what was asked).
    still_owed = {item.line.bill_id for item in _open_lines(account, bills=bills)} if bills else set()
    return payment_record(
        by=by,
        account=account,
        amount=owed + extra,
        method=method,
        bills=[b for b in bills if b.pk in still_owed],
        payer_name=payer_name,
        reference=reference,
        note=_("%(months)s months in advance") % {"months": months},
    )


# ------------------------------------------------------------------------------------------ arrears
@transaction.atomic
def chase_record(
    *, by: Any, account: Account, channel: str, result: str = "", promised_on: dt.date | None = None
) -> ChaseRecord:
    """Log an attempt to collect arrears (催缴记录)."""
    require(by, policies.CHASE)
    _require_account(by, account)
    if channel not in ChaseChannel.values:
        raise ServiceError(_("Choose how the household was reached."), code="channel_invalid", field="channel")
    if promised_on is not None and promised_on < timezone.localdate():
        raise ServiceError(_("A promised date is today or later."), code="promise_in_past", field="promised_on")
    owed = LedgerEntry.objects.filter(account=account, line__isnull=False).aggregate(t=Sum("amount"))["t"] or ZERO
    return ChaseRecord.objects.create(
        account=account, by=by, channel=channel, result=(result or "").strip()[:300], promised_on=promised_on, owed=owed
    )


# ------------------------------------------------------------------------------------------ report sums
_SUM_KEY = "project_id, zone_id, building_id, charge_item_id, period, kind, booked_month"


@transaction.atomic
def collection_sums_compact() -> int:
    """Fold each group's rows of the collection report's sums into one (beat, every few minutes). The
    ledger's trigger adds a row per group per INSERT statement; the sums are right whether folded or
    not, this only keeps them few. Safe beside writers and another compaction: a row is deleted once, and
    rows added after this statement's snapshot are left for the next one. Returns the groups folded."""
    table = CollectionSum._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH gone AS (
                    DELETE FROM {table} WHERE id IN (
                        SELECT id FROM (
                            SELECT id, count(*) OVER (PARTITION BY {_SUM_KEY}) AS rows FROM {table}
                        ) counted WHERE rows > 1)
                    RETURNING *)
                INSERT INTO {table} ({_SUM_KEY}, amount, last_booked_on)
                SELECT {_SUM_KEY}, sum(amount), max(last_booked_on) FROM gone GROUP BY {_SUM_KEY}"""  # noqa: S608
        )
        return cursor.rowcount


# ------------------------------------------------------------------------------------------ online payments
TOP_UP_MAX = Decimal("100000.00")  # one prepayment online; more is a matter for the desk
_REUSABLE = (OnlineStatus.REQUIRES_PAYMENT, OnlineStatus.FAILED)


def _require_owner(by: Any, account: Account) -> None:
    from .selectors import owner_accounts

    if by is None or not owner_accounts(user=by).filter(pk=account.pk).exists():
        raise NotFound(_("No such account."))


def _bills_owed(owner: Any, account: Account, bill_ids: Sequence[Any]) -> tuple[list[Bill], Decimal]:
    """The chosen bills of this account and what they still owe together; a bill of another account (or
    another company) is not found, a bill with nothing left to pay is refused."""
    from .selectors import bill_list

    keys = [key for key in (as_uuid(value) for value in bill_ids) if key]
    if not keys or len(keys) != len(bill_ids):
        raise ServiceError(_("Choose the bills to pay."), code="bills_required", field="bills")
    found = {bill.pk: bill for bill in bill_list(viewer=owner, owner_user=owner, account=account).filter(pk__in=keys)}
    if len(found) != len(set(keys)):
        raise NotFound(_("No such bill."))
    # bill_list annotates each bill with what it still owes.
    owed = {key: bill.balance for key, bill in found.items()}  # type: ignore[attr-defined]
    if any(value <= 0 for value in owed.values()):
        raise ServiceError(_("This bill is already paid."), code="bill_paid", field="bills")
    return list(found.values()), sum(owed.values(), ZERO)


def online_payment_start(
    *, by: Any, account: Account, bills: Sequence[Any] = (), everything: bool = False, amount: Any = None
) -> tuple[OnlinePayment, Any]:
    """An owner starts paying online: chosen bills, everything due, or a prepayment of their choice. The
    amount comes from the ledger (a prepayment's from the owner), never from the browser's total. Returns
    the online payment and the gateway's checkout for the browser. Starting the same payment again (same
    bills, same amount, not paid yet) goes on with the one already started."""
    from billing_gateway import selectors as gateway_selectors
    from billing_gateway import services as gateway

    from .gateway import ACCOUNT_KEY, BILLS_KEY, ONLINE_KEY

    _require_owner(by, account)
    company = gateway_selectors.current_company()
    if not gateway_selectors.payments_open(company=company):
        raise ServiceError(
            _("Online payment is not available yet: please pay at the front desk."), code="gateway_closed"
        )
    chosen: list[Bill] = []
    if bills:
        purpose = OnlinePurpose.BILLS
        chosen, value = _bills_owed(by, account, list(bills))
    elif everything:
        purpose = OnlinePurpose.EVERYTHING
        owed = LedgerEntry.objects.filter(account=account).aggregate(t=Sum("amount"))["t"] or ZERO
        value = owed
    else:
        purpose = OnlinePurpose.PREPAYMENT
        value = _money(amount)
        if value > TOP_UP_MAX:
            raise ServiceError(
                _("At most %(max)s can be prepaid online at once.") % {"max": TOP_UP_MAX},
                code="amount_too_large",
                field="amount",
            )
    if value <= 0:
        raise ServiceError(_("There is nothing to pay."), code="amount_zero", field="amount")
    since = timezone.now() - dt.timedelta(hours=12)
    for started in (
        OnlinePayment.objects.filter(
            account=account, purpose=purpose, amount=value, status__in=_REUSABLE, created_at__gte=since
        )
        .exclude(payment_ref=None)
        .prefetch_related("bills")
    ):
        if {bill.pk for bill in started.bills.all()} == {bill.pk for bill in chosen}:
            return started, gateway_selectors.checkout_get(company=company, payment_ref=started.payment_ref or "")
    with transaction.atomic():
        online = OnlinePayment.objects.create(
            account=account, purpose=purpose, amount=value, currency=company.currency, started_by=by
        )
        online.bills.set(chosen)
        checkout = gateway.payment_start(
            company=company,
            amount=value,
            currency=company.currency,
            reference=str(online.pk),
            metadata={
                "wuye_company": company.slug,
                ACCOUNT_KEY: str(account.pk),
                BILLS_KEY: ",".join(str(bill.pk) for bill in chosen),
                ONLINE_KEY: str(online.pk),
            },
            description=f"{company.name} · {account.label}",
        )
        online.payment_ref = checkout.payment_ref
        online.save(update_fields=["payment_ref"])
    return online, checkout


ONLINE_EXPIRES_AFTER = dt.timedelta(hours=24)


def online_payments_expire(*, now: dt.datetime | None = None) -> int:
    """Cancel, at the provider and here, the online payments started a day ago and never paid: an old
    checkout page can then no longer charge bills that were paid at the desk meanwhile. One the provider
    will not cancel (paid in the meantime: its event is on the way) is left as it is. Returns how many
    were cancelled."""
    from billing_gateway import interface
    from billing_gateway import selectors as gateway_selectors
    from billing_gateway import services as gateway

    company = gateway_selectors.current_company()
    cutoff = (now or timezone.now()) - ONLINE_EXPIRES_AFTER
    stale = OnlinePayment.objects.filter(status__in=_REUSABLE, created_at__lt=cutoff).exclude(payment_ref=None)
    cancelled = 0
    for online in stale.order_by("created_at")[:500]:
        try:
            state = gateway.payment_cancel(company=company, payment_ref=online.payment_ref or "")
        except ServiceError:
            logger.info("online payment %s: the provider did not cancel it", online.pk, exc_info=True)
            continue
        if state.status != interface.CANCELED:
            continue
        with transaction.atomic():
            found = OnlinePayment.objects.select_for_update().get(pk=online.pk)
            if found.status in _REUSABLE:  # not paid meanwhile (its event may have come first)
                found.status, found.updated_at = OnlineStatus.CANCELED, timezone.now()
                found.save(update_fields=["status", "updated_at"])
                cancelled += 1
    return cancelled


def online_refund(*, by: Any, online: OnlinePayment, amount: Any, reason: str) -> Refund:
    """Pay (part of) an online payment back through the provider, with a reason. Recorded from the
    provider's answer; the provider's event of the same refund later finds it recorded."""
    from billing_gateway import selectors as gateway_selectors
    from billing_gateway import services as gateway

    require(by, policies.REFUND)
    _require_account(by, online.account)
    value = _money(amount)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why the money is paid back."), code="reason_required", field="reason")
    payment = online.payment
    if online.status != OnlineStatus.SUCCEEDED or payment is None or not online.payment_ref:
        raise ServiceError(_("Only a paid online payment can be refunded."), code="not_paid")
    _refundable_check(payment, value)  # before asking the provider; refund_record asks again under the lock
    answer = gateway.refund_create(
        company=gateway_selectors.current_company(),
        payment_ref=online.payment_ref,
        amount=value,
        currency=online.currency,
        reason=reason,
        reference=str(uuid7()),
    )
    with transaction.atomic():
        return refund_record(
            by=by,
            account=online.account,
            amount=answer.amount,
            reason=reason,
            method=PaymentMethod.ONLINE,
            payment=payment,
            external_id=answer.refund_ref,
        )


# ------------------------------------------------------------------------------------------ reconciliation
def _day_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The company's day [00:00, 24:00) in its own time zone."""
    from billing_gateway.selectors import current_company

    zone = ZoneInfo(getattr(current_company(), "timezone", "") or "Asia/Shanghai")
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, start + dt.timedelta(days=1)


@transaction.atomic
def reconcile_day(*, day: dt.date, by: Any = None) -> Reconciliation | None:
    """Compare what the provider settled on `day` (payments and refunds) with the ledger, both ways, and
    keep every difference for finance (对账). The provider is asked for the day and a day either side, so
    a payment started before midnight and recorded after is not a difference. Run again, it replaces the
    day's open differences and keeps the resolved ones. None when the company takes no online payments."""
    from billing_gateway import selectors as gateway_selectors

    if by is not None:
        require(by, policies.RECONCILE)
    company = gateway_selectors.current_company()
    if gateway_selectors.account_for(company=company) is None:
        return None
    start, end = _day_window(day)
    near = gateway_selectors.settlements(
        company=company, start=start - dt.timedelta(days=1), end=end + dt.timedelta(days=1)
    )
    provider = {(item.kind, item.ref): item for item in near}
    of_day = [item for item in near if start <= item.at < end]
    ledger_payments: dict[str, Any] = {
        str(payment.external_id): payment
        for payment in Payment.objects.filter(method=PaymentMethod.ONLINE, external_id__isnull=False).filter(
            Q(received_at__gte=start, received_at__lt=end)
            | Q(external_id__in=[item.ref for item in of_day if item.kind == "payment"])
        )
    }
    ledger_refunds: dict[str, Any] = {
        str(refund.external_id): refund
        for refund in Refund.objects.filter(method=PaymentMethod.ONLINE, external_id__isnull=False).filter(
            Q(at__gte=start, at__lt=end) | Q(external_id__in=[item.ref for item in of_day if item.kind == "refund"])
        )
    }
    found: list[ReconciliationDifference] = []

    def compare(movement: str, ledger: dict[str, Any]) -> None:
        for item in of_day:
            if item.kind == movement and item.ref not in ledger:
                found.append(
                    ReconciliationDifference(
                        kind=DifferenceKind.MISSING_IN_LEDGER,
                        movement=movement,
                        ref=item.ref,
                        provider_amount=item.amount,
                    )
                )
        for ref, record in ledger.items():
            held = provider.get((movement, ref))
            if held is None and start <= (record.received_at if movement == "payment" else record.at) < end:
                kind, provider_amount = DifferenceKind.MISSING_AT_PROVIDER, None
            elif held is not None and held.amount != record.amount:
                kind, provider_amount = DifferenceKind.AMOUNT, held.amount
            else:
                continue
            found.append(
                ReconciliationDifference(
                    kind=kind,
                    movement=movement,
                    ref=ref,
                    provider_amount=provider_amount,
                    ledger_amount=record.amount,
                    account_id=record.account_id,
                )
            )

    compare("payment", ledger_payments)
    compare("refund", ledger_refunds)
    reconciliation, _created = Reconciliation.objects.select_for_update().get_or_create(day=day)
    reconciliation.provider_payments = sum(1 for item in of_day if item.kind == "payment")
    reconciliation.provider_refunds = sum(1 for item in of_day if item.kind == "refund")
    reconciliation.ledger_payments = Payment.objects.filter(
        method=PaymentMethod.ONLINE, received_at__gte=start, received_at__lt=end
    ).count()
    reconciliation.ledger_refunds = Refund.objects.filter(
        method=PaymentMethod.ONLINE, at__gte=start, at__lt=end
    ).count()
    reconciliation.ran_at = timezone.now()
    reconciliation.save()
    reconciliation.differences.filter(resolved_at__isnull=True).delete()
    resolved = set(reconciliation.differences.values_list("movement", "ref"))
    for difference in found:
        difference.reconciliation = reconciliation
    ReconciliationDifference.objects.bulk_create([d for d in found if (d.movement, d.ref) not in resolved])
    return reconciliation


@transaction.atomic
def difference_resolve(*, by: Any, difference: ReconciliationDifference, resolution: str) -> ReconciliationDifference:
    """Finance says what was done about a difference (a refund made by hand in Stripe's dashboard, a
    payment recorded at the desk as well, ...)."""
    require(by, policies.RECONCILE)
    resolution = (resolution or "").strip()
    if not resolution:
        raise ServiceError(_("Say what was done about it."), code="resolution_required", field="resolution")
    difference = ReconciliationDifference.objects.select_for_update().get(pk=difference.pk)
    if difference.resolved_at is not None:
        raise ServiceError(_("This difference is already resolved."), code="already_resolved")
    difference.resolved_at, difference.resolved_by, difference.resolution = timezone.now(), by, resolution[:300]
    difference.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return difference


def difference_record_payment(*, by: Any, difference: ReconciliationDifference) -> ReconciliationDifference:
    """A payment the provider holds and the ledger lacks (its event lost or refused): ask the provider for
    it and record it the way its event would have, then mark the difference resolved."""
    from billing_gateway import interface
    from billing_gateway import selectors as gateway_selectors

    from .gateway import payment_succeeded

    require(by, policies.RECONCILE)
    if difference.kind != DifferenceKind.MISSING_IN_LEDGER or difference.movement != "payment":
        raise ServiceError(_("Only a payment missing from the ledger can be recorded."), code="not_recordable")
    state = gateway_selectors.payment_get(company=gateway_selectors.current_company(), payment_ref=difference.ref)
    if state.status != interface.SUCCEEDED:
        raise ServiceError(_("The provider does not hold this payment as paid."), code="not_paid")
    with transaction.atomic():
        payment_succeeded(state)  # what the provider's event would have brought
        return difference_resolve(
            by=by,
            difference=difference,
            resolution=_("Recorded from the provider's payment by %(name)s.") % {"name": by},
        )
