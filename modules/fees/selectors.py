"""Reads on fees, in the viewer's scope (an account is seen through its project and zone). Balances and a
bill's status are sums of ledger entries, worked out in the query (one aggregate per list, not per row)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from modules.estate.models import Building, Project, Zone
from modules.households.models import Ownership
from wuye.core.errors import NotFound, PolicyDenied
from wuye.core.ids import as_uuid
from wuye.core.policies import require
from wuye.core.progress import progress_get
from wuye.core.scope import scope_of

from . import policies
from .calculation import month_after, month_start
from .models import (
    BILLED_KINDS,
    COLLECTED_KINDS,
    Account,
    Bill,
    BillLine,
    BillRun,
    ChargeCategory,
    ChargeItem,
    ChaseRecord,
    CollectionSum,
    EntryKind,
    FeeSettings,
    LedgerEntry,
    MeterReading,
    OnlinePayment,
    OnlineStatus,
    Payment,
    Reconciliation,
    ReconciliationDifference,
    Refund,
    Tariff,
    WriteOff,
)

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=14, decimal_places=2)


def _sum(queryset: QuerySet[Any]) -> Any:
    """A correlated subquery: the sum of `amount` over `queryset`, zero when empty."""
    return Coalesce(
        Subquery(queryset.order_by().annotate(total=Sum("amount")).values("total")[:1], output_field=_MONEY),
        Value(ZERO),
        output_field=_MONEY,
    )


def _entries_of_account() -> QuerySet[LedgerEntry, Any]:
    return LedgerEntry.objects.filter(account=OuterRef("pk")).values("account")


def _id(value: Any) -> uuid.UUID:
    """An id from a filter; one that is not a UUID matches nothing (the nil UUID is never a key)."""
    return as_uuid(value) or uuid.UUID(int=0)


def _in_scope(viewer: Any, queryset: QuerySet[Any], *, prefix: str = "") -> QuerySet[Any]:
    return scope_of(viewer).filter(queryset, project=f"{prefix}project", zone=f"{prefix}zone")


# ------------------------------------------------------------------------------------------ accounts
def account_list(
    *,
    viewer: Any,
    project: Any = None,
    zone: Any = None,
    building: Any = None,
    search: str = "",
    owing_only: bool = False,
) -> QuerySet[Account]:
    """Household accounts with their balance (owed − prepaid) and prepaid credit."""
    require(viewer, policies.VIEW)
    accounts = _in_scope(viewer, Account.objects.all())
    for name, value in (("project_id", project), ("zone_id", zone), ("building_id", building)):
        if value:
            accounts = accounts.filter(**{name: as_uuid(value)})
    search = (search or "").strip()
    if search:
        accounts = accounts.filter(label__icontains=search)
    accounts = accounts.annotate(
        owed=_sum(_entries_of_account().filter(line__isnull=False)),
        credit=-_sum(_entries_of_account().filter(line__isnull=True)),
    ).annotate(balance=F("owed") - F("credit"))
    if owing_only:
        accounts = accounts.filter(owed__gt=0)
    return accounts.select_related("project", "unit", "parking_space").order_by("label", "id")


def account_get(*, viewer: Any, account_id: Any) -> Account:
    key = as_uuid(account_id)
    found = account_list(viewer=viewer).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("No such account."))
    return found


def bill_lines_with_balance(bills: QuerySet[Bill] | Iterable[Bill]) -> QuerySet[BillLine]:
    line_entries = LedgerEntry.objects.filter(line=OuterRef("pk")).values("line")
    return (
        BillLine.objects.filter(bill__in=list(bills) if not isinstance(bills, QuerySet) else bills)
        .select_related("charge_item")
        .annotate(
            balance=_sum(line_entries),
            charged=_sum(line_entries.filter(kind__in=BILLED_KINDS)),
        )
        .order_by("charge_item__sort_order", "id")
    )


def bill_list(
    *,
    viewer: Any,
    account: Account | None = None,
    project: Any = None,
    period: dt.date | None = None,
    status: str = "",
    owner_user: Any = None,
) -> QuerySet[Bill]:
    """Bills with `charged` (net of reversals), `balance` and `status`: unpaid, part_paid, paid, or
    cancelled (reversed in full). `owner_user` lists an owner's own bills instead of a staff member's."""
    bills = Bill.objects.all()
    if owner_user is not None:
        bills = bills.filter(account__in=owner_accounts(user=owner_user))
    else:
        require(viewer, policies.VIEW)
        bills = _in_scope(viewer, bills, prefix="account__")
    if account is not None:
        bills = bills.filter(account=account)
    if project:
        bills = bills.filter(account__project_id=_id(project))
    if period:
        bills = bills.filter(period=month_start(period))
    entries = LedgerEntry.objects.filter(line__bill=OuterRef("pk")).values("line__bill")
    bills = bills.annotate(
        charged=_sum(entries.filter(kind__in=BILLED_KINDS)),
        balance=_sum(entries),
    ).annotate(
        status=Case(
            When(charged__lte=0, then=Value("cancelled")),
            When(balance__lte=0, then=Value("paid")),
            When(balance__lt=F("charged"), then=Value("part_paid")),
            default=Value("unpaid"),
        )
    )
    if status:
        bills = bills.filter(status=status)
    return bills.select_related("account").order_by("-period", "account__label", "id")


BILL_STATUSES = {
    "unpaid": gettext_lazy("Unpaid"),
    "part_paid": gettext_lazy("Part-paid"),
    "paid": gettext_lazy("Paid"),
    "cancelled": gettext_lazy("Cancelled"),
}


def bill_get(*, viewer: Any, bill_id: Any, owner_user: Any = None) -> Bill:
    key = as_uuid(bill_id)
    found = bill_list(viewer=viewer, owner_user=owner_user).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("No such bill."))
    return found


def line_get(*, viewer: Any, line_id: Any) -> BillLine:
    key = as_uuid(line_id)
    found = (
        BillLine.objects.filter(pk=key, bill__in=bill_list(viewer=viewer))
        .select_related("bill__account", "charge_item")
        .first()
        if key
        else None
    )
    if found is None:
        raise NotFound(_("No such bill line."))
    return found


@dataclass
class Statement:
    account: Account
    bills: list[Bill]
    lines: dict[uuid.UUID, list[BillLine]]
    entries: list[LedgerEntry]
    payments: list[Payment]
    owed: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.owed - self.credit


def account_statement(*, viewer: Any, account: Account, owner_user: Any = None, entries_limit: int = 200) -> Statement:
    """An account's file of money: its bills with their lines and balances, its latest entries and
    payments, what it owes and its prepaid credit."""
    bills = list(bill_list(viewer=viewer, account=account, owner_user=owner_user))
    lines: dict[uuid.UUID, list[BillLine]] = defaultdict(list)
    for line in bill_lines_with_balance([bill.pk for bill in bills]):  # type: ignore[misc]
        lines[line.bill_id].append(line)
    entries = list(
        LedgerEntry.objects.filter(account=account)
        .select_related("charge_item", "payment", "by")
        .order_by("-at", "-id")[:entries_limit]
    )
    payments = list(Payment.objects.filter(account=account).select_related("void", "by").order_by("-received_at")[:100])
    totals = LedgerEntry.objects.filter(account=account).aggregate(
        owed=Sum("amount", filter=Q(line__isnull=False)), credit=Sum("amount", filter=Q(line__isnull=True))
    )
    return Statement(
        account=account,
        bills=bills,
        lines=lines,
        entries=entries,
        payments=payments,
        owed=totals["owed"] or ZERO,
        credit=-(totals["credit"] or ZERO),
    )


def owner_accounts(*, user: Any) -> QuerySet[Account]:
    """The accounts of the units an owner owns today (and of nothing else)."""
    today = timezone.localdate()
    units = Ownership.objects.filter(person__user=user, starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gt=today)
    )
    return Account.objects.filter(unit_id__in=units.values("unit_id"))


# ------------------------------------------------------------------------------------------ payments, receipts
def payment_list(
    *, viewer: Any, account: Account | None = None, project: Any = None, day: dt.date | None = None
) -> QuerySet[Payment]:
    require(viewer, policies.VIEW)
    payments = _in_scope(viewer, Payment.objects.all(), prefix="account__")
    if account is not None:
        payments = payments.filter(account=account)
    if project:
        payments = payments.filter(account__project_id=_id(project))
    if day:
        payments = payments.filter(booked_on=day)
    return payments.select_related("account", "void", "by").order_by("-received_at", "-id")


def payment_get(*, viewer: Any, payment_id: Any, owner_user: Any = None) -> Payment:
    key = as_uuid(payment_id)
    if owner_user is not None:
        payments = Payment.objects.filter(account__in=owner_accounts(user=owner_user)).select_related("account", "void")
    else:
        payments = payment_list(viewer=viewer)
    found = payments.filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("No such payment."))
    return found


@dataclass
class Receipt:
    """What a receipt shows: the payment, what it paid (item, period, amount) and what became prepayment."""

    payment: Payment
    paid: list[tuple[str, dt.date | None, Decimal]]
    prepaid: Decimal
    refunded: Decimal
    voided: bool
    void_reason: str


def receipt(*, payment: Payment) -> Receipt:
    rows = (
        LedgerEntry.objects.filter(payment=payment)
        .select_related("charge_item")
        .order_by("period", "charge_item__sort_order", "id")
    )
    paid, prepaid = [], ZERO
    for entry in rows:
        if entry.line_id is None:
            prepaid += -entry.amount
        else:
            paid.append((entry.charge_item.name if entry.charge_item else "", entry.period, -entry.amount))
    void = getattr(payment, "void", None)
    refunded = Refund.objects.filter(payment=payment).aggregate(total=Sum("amount"))["total"] or ZERO
    return Receipt(
        payment=payment,
        paid=paid,
        prepaid=prepaid,
        refunded=refunded,
        voided=void is not None,
        void_reason=void.reason if void else "",
    )


# ------------------------------------------------------------------------------------------ tariffs, readings, runs
def settings_get(*, viewer: Any) -> FeeSettings:
    require(viewer, policies.VIEW_TARIFFS)
    return FeeSettings.objects.first() or FeeSettings()


def charge_items(*, viewer: Any, include_archived: bool = False) -> QuerySet[ChargeItem]:
    require(viewer, policies.VIEW_TARIFFS)
    items = ChargeItem.objects.all()
    return items if include_archived else items.filter(archived_at__isnull=True)


def charge_item_in_use(*, code: str) -> ChargeItem | None:
    """The company's charge item of this code, unless archived: for other modules billing on the
    system's behalf (the helpdesk's special services), where no person's view applies."""
    return ChargeItem.objects.filter(code=code, archived_at__isnull=True).first()


def charge_item_get(*, viewer: Any, item_id: Any) -> ChargeItem:
    key = as_uuid(item_id)
    found = charge_items(viewer=viewer, include_archived=True).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("No such charge item."))
    return found


def tariff_list(*, viewer: Any, project: Any = None, on: dt.date | None = None) -> QuerySet[Tariff]:
    require(viewer, policies.VIEW_TARIFFS)
    tariffs = scope_of(viewer).filter(Tariff.objects.all(), project="project")
    if project:
        tariffs = tariffs.filter(project_id=_id(project))
    if on:
        tariffs = tariffs.filter(valid_from__lte=on).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=on))
    return (
        tariffs.select_related("charge_item", "project")
        .prefetch_related("tiers")
        .order_by("project__name", "charge_item__sort_order", "applies_to", "-valid_from")
    )


def tariff_get(*, viewer: Any, tariff_id: Any) -> Tariff:
    key = as_uuid(tariff_id)
    found = tariff_list(viewer=viewer).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("No such tariff."))
    return found


def readings_sheet(*, viewer: Any, project: Project, period: dt.date) -> list[dict[str, Any]]:
    """The meter-reading sheet of a project and month (抄表单): every unit meter with its last reading
    before the month and its reading of the month, if entered."""
    require(viewer, policies.ENTER_READINGS)
    scope = scope_of(viewer)
    if not scope.sees_project(project.pk):
        raise NotFound(_("No such project."))
    from modules.estate.models import Meter

    period = month_start(period)
    meters = list(
        scope.filter(
            Meter.objects.filter(project=project, archived_at__isnull=True), project="project", zone="unit__zone"
        )
        .select_related("unit__building")
        .order_by("unit__building__sort_order", "unit__building__name", "unit__floor", "unit__number", "kind", "serial")
    )
    current = {r.meter_id: r for r in MeterReading.objects.filter(project=project, period=period)}
    last_before = (
        MeterReading.objects.filter(project=project, period__lt=period)
        .order_by("meter_id", "-period")
        .distinct("meter_id")
        .values_list("meter_id", "reading", "period")
    )
    previous = {meter_id: (reading, when) for meter_id, reading, when in last_before}
    return [{"meter": meter, "previous": previous.get(meter.pk), "reading": current.get(meter.pk)} for meter in meters]


def _require_readings(viewer: Any) -> None:
    """Who enters readings or reviews them (a project manager confirms abnormal ones) may see them."""
    if not (policies.can(viewer, policies.ENTER_READINGS) or policies.can(viewer, policies.REVIEW_READINGS)):
        raise PolicyDenied(_("You do not have permission to do this."))


def reading_get(*, viewer: Any, reading_id: Any) -> MeterReading:
    _require_readings(viewer)
    key = as_uuid(reading_id)
    found = (
        scope_of(viewer)
        .filter(MeterReading.objects.select_related("meter__unit"), project="project", zone="meter__unit__zone")
        .filter(pk=key)
        .first()
        if key
        else None
    )
    if found is None:
        raise NotFound(_("No such reading."))
    return found


def readings_flagged(*, viewer: Any, project: Any = None) -> QuerySet[MeterReading]:
    _require_readings(viewer)
    readings = (
        scope_of(viewer)
        .filter(MeterReading.objects.all(), project="project", zone="meter__unit__zone")
        .filter(flagged=True, reviewed_at__isnull=True)
    )
    if project:
        readings = readings.filter(project_id=_id(project))
    return readings.select_related("meter__unit").order_by("period", "meter__serial")


def run_list(*, viewer: Any, project: Any = None) -> QuerySet[BillRun]:
    require(viewer, policies.VIEW)
    runs = scope_of(viewer).filter(BillRun.objects.all(), project="project")
    if project:
        runs = runs.filter(project_id=_id(project))
    return runs.select_related("project", "created_by").order_by("-period", "project__name")


def run_get(*, viewer: Any, run_id: Any) -> BillRun:
    key = as_uuid(run_id)
    found = run_list(viewer=viewer).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("No such bill run."))
    return found


def run_progress(*, run: BillRun) -> dict[str, Any]:
    """Status and progress of a run: the cache has the live count while a worker posts it."""
    live = progress_get("fees.run", run.pk) if run.status == "posting" else None
    if live:
        return {"status": run.status, "done": live["done"], "total": live["total"]}
    return {"status": run.status, "done": run.bill_count, "total": run.bill_count}


def write_off_list(*, viewer: Any, pending_only: bool = False) -> QuerySet[WriteOff]:
    require(viewer, policies.VIEW)
    found = WriteOff.objects.filter(line__bill__in=bill_list(viewer=viewer))
    if pending_only:
        found = found.filter(status="requested")
    return found.select_related("line__bill__account", "line__charge_item", "requested_by", "decided_by").order_by(
        "-requested_at"
    )


def write_off_get(*, viewer: Any, write_off_id: Any) -> WriteOff:
    key = as_uuid(write_off_id)
    found = write_off_list(viewer=viewer).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound(_("No such write-off."))
    return found


def deposits_held(*, viewer: Any, project: Any = None) -> QuerySet[BillLine]:
    """Refundable deposits (押金) paid in full and not yet returned, held apart from income, each with `held`
    (what was paid). A return reverses the deposit's charge by what is paid back, whatever is kept as a
    deduction stays charged: a deposit with a reversal is settled."""
    require(viewer, policies.VIEW)
    lines = BillLine.objects.filter(bill__in=bill_list(viewer=viewer), charge_item__category=ChargeCategory.DEPOSIT)
    if project:
        lines = lines.filter(bill__account__project_id=_id(project))
    line_entries = LedgerEntry.objects.filter(line=OuterRef("pk")).values("line")
    return (
        lines.annotate(balance=_sum(line_entries), held=_sum(line_entries.filter(kind__in=BILLED_KINDS)))
        .filter(balance=0, held__gt=0)
        .exclude(Exists(LedgerEntry.objects.filter(line=OuterRef("pk"), kind=EntryKind.CHARGE_REVERSAL)))
        .select_related("bill__account", "charge_item")
        .order_by("bill__account__label", "bill__issued_on")
    )


# ------------------------------------------------------------------------------------------ arrears
AGING_BUCKETS = [
    ("0_30", gettext_lazy("0–30 days"), 0, 30),
    ("31_90", gettext_lazy("31–90 days"), 31, 90),
    ("91_180", gettext_lazy("91–180 days"), 91, 180),
    ("over_180", gettext_lazy("Over 180 days"), 181, None),
]


@dataclass
class AgingRow:
    account: Account
    buckets: dict[str, Decimal]
    total: Decimal
    oldest_due: dt.date | None
    last_chase: ChaseRecord | None = None


def arrears_aging(
    *, viewer: Any, project: Any = None, zone: Any = None, building: Any = None, as_of: dt.date | None = None
) -> tuple[list[AgingRow], dict[str, Decimal]]:
    """Accounts with overdue lines, what they owe by how long it is overdue (after the bill's due date),
    and the totals per bucket. Deposits are not arrears."""
    require(viewer, policies.VIEW_COLLECTION)
    as_of = as_of or timezone.localdate()
    entries = _in_scope(
        viewer, LedgerEntry.objects.filter(line__isnull=False, line__bill__due_on__lt=as_of, booked_on__lte=as_of)
    )
    entries = entries.exclude(charge_item__category=ChargeCategory.DEPOSIT)
    for name, value in (("project_id", project), ("zone_id", zone), ("building_id", building)):
        if value:
            entries = entries.filter(**{name: as_uuid(value)})
    per_line = (
        entries.values("account_id", "line_id", "line__bill__due_on").annotate(total=Sum("amount")).filter(total__gt=0)
    )
    by_account: dict[uuid.UUID, dict[str, Any]] = {}
    totals = {key: ZERO for key, *_rest in AGING_BUCKETS}
    for row in per_line:
        days = (as_of - row["line__bill__due_on"]).days
        bucket = next(key for key, _label, low, high in AGING_BUCKETS if days >= low and (high is None or days <= high))
        found = by_account.setdefault(row["account_id"], {"buckets": {key: ZERO for key in totals}, "oldest": None})
        found["buckets"][bucket] += row["total"]
        totals[bucket] += row["total"]
        due = row["line__bill__due_on"]
        found["oldest"] = due if found["oldest"] is None or due < found["oldest"] else found["oldest"]
    accounts = Account.objects.in_bulk(list(by_account))
    latest_chase = {
        chase.account_id: chase
        for chase in ChaseRecord.objects.filter(account_id__in=list(by_account))
        .order_by("account_id", "-at")
        .distinct("account_id")
        .select_related("by")
    }
    rows = [
        AgingRow(
            account=accounts[key],
            buckets=value["buckets"],
            total=sum(value["buckets"].values(), ZERO),
            oldest_due=value["oldest"],
            last_chase=latest_chase.get(key),
        )
        for key, value in by_account.items()
    ]
    rows.sort(key=lambda row: (-row.total, row.account.label))
    return rows, totals


def chase_list(*, viewer: Any, account: Account | None = None, zone: Any = None) -> QuerySet[ChaseRecord]:
    require(viewer, policies.VIEW_COLLECTION)
    chases = _in_scope(viewer, ChaseRecord.objects.all(), prefix="account__")
    if account is not None:
        chases = chases.filter(account=account)
    if zone:
        chases = chases.filter(account__zone_id=_id(zone))
    return chases.select_related("account", "by").order_by("-at")


# ------------------------------------------------------------------------------------------ collection rate
GROUPS: dict[str, tuple[str, Any]] = {
    "project": ("project_id", Project),
    "zone": ("zone_id", Zone),
    "building": ("building_id", Building),
    "charge_item": ("charge_item_id", ChargeItem),
}


@dataclass
class RateRow:
    key: uuid.UUID | None
    label: str
    period: dt.date
    billed: Decimal = ZERO
    collected_in_period: Decimal = ZERO  # paid by the end of the period (当期实收)
    collected: Decimal = ZERO  # paid up to the report's date
    written_off: Decimal = ZERO
    arrears_at_start: Decimal = ZERO  # owed on earlier periods when the period began (往期欠费)
    recovered: Decimal = ZERO  # of which paid during the period (往期追缴)
    target: Decimal | None = None

    @staticmethod
    def _rate(part: Decimal, whole: Decimal) -> Decimal | None:
        return (part * 100 / whole).quantize(Decimal("0.01")) if whole > 0 else None

    @property
    def rate_in_period(self) -> Decimal | None:
        return self._rate(self.collected_in_period, self.billed)

    @property
    def rate(self) -> Decimal | None:
        return self._rate(self.collected, self.billed)

    @property
    def recovery_rate(self) -> Decimal | None:
        return self._rate(self.recovered, self.arrears_at_start)

    @property
    def outstanding(self) -> Decimal:
        return self.billed - self.collected - self.written_off


@dataclass
class CollectionReport:
    group: str
    periods: list[dt.date]
    rows: list[RateRow]
    totals: list[RateRow] = field(default_factory=list)  # one per period, over every group


def collection_report(
    *,
    viewer: Any,
    period_from: dt.date,
    period_to: dt.date,
    group: str = "project",
    project: Any = None,
    zone: Any = None,
    charge_item: Any = None,
    as_of: dt.date | None = None,
) -> CollectionReport:
    """The collection rate (收缴率) per group and month: what was billed for the month, what of it was paid
    by the month's end and by `as_of`, and separately the recovery of earlier arrears during the month.

    One grouped query reads the ledger's report index: sums by (group, period billed, kind class, month
    booked); everything else is arithmetic on that small table. Deposits are held apart: not income."""
    require(viewer, policies.VIEW_COLLECTION)
    if group not in GROUPS:
        raise NotFound(_("No such grouping."))
    first, last = month_start(period_from), month_start(period_to)
    if last < first:
        first, last = last, first
    as_of = as_of or timezone.localdate()
    column, model = GROUPS[group]

    def narrowed(queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = _in_scope(viewer, queryset.filter(period__lt=month_after(last)))
        queryset = queryset.exclude(charge_item__in=ChargeItem.objects.filter(category=ChargeCategory.DEPOSIT))
        if project:
            queryset = queryset.filter(project_id=_id(project))
        if zone:
            queryset = queryset.filter(zone_id=_id(zone))
        if charge_item:
            queryset = queryset.filter(charge_item_id=_id(charge_item))
        return queryset

    # The ledger's sums by month booked (CollectionSum) answer unless the month of `as_of` holds entries
    # booked after it (a report as of a past day): then the entries themselves, which say the same, slower.
    this_month = month_start(as_of)
    sums = narrowed(CollectionSum.objects.filter(booked_month__lte=this_month))
    if sums.filter(booked_month=this_month, last_booked_on__gt=as_of).exists():
        source = narrowed(LedgerEntry.objects.filter(line__isnull=False, booked_on__lte=as_of))
        source = source.annotate(booked_month=TruncMonth("booked_on"))
    else:
        source = sums
    kind_class = Case(
        When(kind__in=BILLED_KINDS, then=Value("b")),
        When(kind__in=COLLECTED_KINDS, then=Value("c")),
        When(kind=EntryKind.WRITE_OFF, then=Value("w")),
        default=Value("x"),
    )
    grouped = (
        source.order_by()
        .annotate(k=kind_class)
        .values(column, "period", "k", "booked_month")
        .annotate(total=Sum("amount"))
    )
    periods = []
    month = first
    while month <= last:
        periods.append(month)
        month = month_after(month)
    rows: dict[tuple[Any, dt.date], RateRow] = {}
    totals = {p: RateRow(key=None, label=str(_("Total")), period=p) for p in periods}

    def row(key: Any, period: dt.date) -> RateRow:
        if (key, period) not in rows:
            rows[(key, period)] = RateRow(key=key, label="", period=period)
        return rows[(key, period)]

    for item in grouped:
        key, billed_for, k, booked = item[column], item["period"], item["k"], item["booked_month"]
        booked = booked.date() if isinstance(booked, dt.datetime) else booked
        amount = item["total"]
        for target in periods:
            if billed_for == target:
                for r in (row(key, target), totals[target]):
                    if k == "b":
                        r.billed += amount
                    elif k == "c":
                        r.collected -= amount
                        if booked <= target:
                            r.collected_in_period -= amount
                    elif k == "w":
                        r.written_off -= amount
            elif billed_for < target:
                # Earlier arrears: what was owed when `target` began, and what of it was paid in `target`.
                for r in (row(key, target), totals[target]):
                    if booked < target:
                        r.arrears_at_start += amount
                    elif booked == target and k == "c":
                        r.recovered -= amount
    labels = {obj.pk: str(obj) for obj in model.objects.filter(pk__in={key for key, _p in rows if key})}
    targets = {}
    if group == "project":
        targets = dict(Project.objects.filter(pk__in=list(labels)).values_list("pk", "collection_rate_target"))
    result = []
    for (key, _period), found in rows.items():
        if found.billed == 0 and found.arrears_at_start <= 0 and found.collected == 0:
            continue
        found.label = labels.get(key, str(_("(none)")))
        found.target = targets.get(key)
        result.append(found)
    result.sort(key=lambda r: (r.period, r.label))
    return CollectionReport(group=group, periods=periods, rows=result, totals=[totals[p] for p in periods])


@dataclass
class DailyReceivables:
    day: dt.date
    collected_by_method: list[tuple[str, int, Decimal]]
    collected_total: Decimal
    billed_today: Decimal
    outstanding: Decimal
    overdue: Decimal
    credit: Decimal
    payments: list[Payment]


def receivables_daily(*, viewer: Any, day: dt.date | None = None, project: Any = None) -> DailyReceivables:
    """The CS manager's daily look at receivables (DOMAIN.md §3): what came in today and how, what was
    billed, what is still owed and overdue, and the prepaid credit held."""
    require(viewer, policies.VIEW_COLLECTION)
    day = day or timezone.localdate()
    entries = _in_scope(viewer, LedgerEntry.objects.all())
    payments = payment_list(viewer=viewer, project=project, day=day).filter(void__isnull=True)
    if project:
        entries = entries.filter(project_id=_id(project))
    by_method = list(
        payments.order_by().values("method").annotate(count=Count("id"), total=Sum("amount")).order_by("method")
    )
    totals = entries.filter(booked_on__lte=day).aggregate(
        owed=Sum("amount", filter=Q(line__isnull=False)),
        credit=Sum("amount", filter=Q(line__isnull=True)),
        billed=Sum("amount", filter=Q(booked_on=day, kind__in=BILLED_KINDS)),
        overdue=Sum("amount", filter=Q(line__isnull=False, line__bill__due_on__lt=day)),
    )
    return DailyReceivables(
        day=day,
        collected_by_method=[(row["method"], row["count"], row["total"]) for row in by_method],
        collected_total=sum((row["total"] for row in by_method), ZERO),
        billed_today=totals["billed"] or ZERO,
        outstanding=totals["owed"] or ZERO,
        overdue=totals["overdue"] or ZERO,
        credit=-(totals["credit"] or ZERO),
        payments=list(payments[:200]),
    )


def weekly_collection(
    *, viewer: Any, weeks: int = 12, project: Any = None, until: dt.date | None = None
) -> list[tuple[dt.date, Decimal, int]]:
    """Money collected per week (Monday to Sunday) for the weekly review: (week start, amount, payments)."""
    require(viewer, policies.VIEW_COLLECTION)
    until = until or timezone.localdate()
    start = until - dt.timedelta(days=until.weekday()) - dt.timedelta(weeks=weeks - 1)

    payments = _in_scope(
        viewer,
        Payment.objects.filter(booked_on__gte=start, booked_on__lte=until, void__isnull=True),
        prefix="account__",
    )
    if project:
        payments = payments.filter(account__project_id=_id(project))
    found = {
        (row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]): (row["total"], row["count"])
        for row in payments.order_by()
        .annotate(week=TruncWeek("booked_on"))
        .values("week")
        .annotate(total=Sum("amount"), count=Count("id"))
    }
    return [(start + dt.timedelta(weeks=n), *found.get(start + dt.timedelta(weeks=n), (ZERO, 0))) for n in range(weeks)]


# ------------------------------------------------------------------------------------------ online payments
def online_payment_list(*, viewer: Any, status: str = "", account: Account | None = None) -> QuerySet[OnlinePayment]:
    """Online payments in the viewer's scope, newest first, with what was refunded of each."""
    require(viewer, policies.VIEW)
    found = _in_scope(viewer, OnlinePayment.objects.all(), prefix="account__")
    if status:
        found = found.filter(status=status)
    if account is not None:
        found = found.filter(account=account)
    refunded = Refund.objects.filter(payment=OuterRef("payment_id")).values("payment").annotate(t=Sum("amount"))
    return (
        found.select_related("account__project", "payment")
        .annotate(refunded=Coalesce(Subquery(refunded.values("t")), Value(ZERO), output_field=_MONEY))
        .order_by("-created_at", "-id")
    )


def online_payment_get(*, viewer: Any, online_id: Any, owner_user: Any = None) -> OnlinePayment:
    """One online payment: an owner's own (owner_user), or one in a staff member's scope."""
    key = as_uuid(online_id)
    if owner_user is not None:
        found = OnlinePayment.objects.filter(account__in=owner_accounts(user=owner_user)).select_related(
            "account__project", "payment"
        )
    else:
        found = online_payment_list(viewer=viewer)
    online = found.filter(pk=key).first() if key else None
    if online is None:
        raise NotFound(_("No such online payment."))
    return online


def owner_online_in_progress(*, user: Any) -> QuerySet[OnlinePayment]:
    """An owner's online payments that were paid and wait for the provider's word."""
    return OnlinePayment.objects.filter(account__in=owner_accounts(user=user), status=OnlineStatus.PROCESSING)


def reconciliation_list(*, viewer: Any) -> QuerySet[Reconciliation]:
    require(viewer, policies.RECONCILE)
    open_differences = Count("differences", filter=Q(differences__resolved_at__isnull=True))
    return Reconciliation.objects.annotate(open_differences=open_differences).order_by("-day")


def reconciliation_get(*, viewer: Any, day: dt.date) -> Reconciliation:
    found = reconciliation_list(viewer=viewer).filter(day=day).first()
    if found is None:
        raise NotFound(_("This day has not been reconciled."))
    return found


def difference_get(*, viewer: Any, difference_id: Any) -> ReconciliationDifference:
    require(viewer, policies.RECONCILE)
    key = as_uuid(difference_id)
    found = ReconciliationDifference.objects.filter(pk=key).select_related("reconciliation").first() if key else None
    if found is None:
        raise NotFound(_("No such difference."))
    return found
