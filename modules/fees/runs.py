"""The bill run engine: what a project's accounts owe for a month (the plan), and writing it (posting).

The plan is worked out in memory from one query per kind of record (units, ownership periods, parking
spaces, readings, tariffs), so a preview and a post agree to the fen. Posting writes bills, lines and
their charge entries with PostgreSQL's COPY in chunks of accounts, each chunk its own transaction under
an advisory lock of its own, skipping accounts already billed for the period; writer threads post the
chunks while the rest of the plan is worked out. So a worker killed mid-run leaves whole chunks behind
and the resumed run adds exactly the rest; and if anything still tried to bill an account twice, the
unique constraint on (account, period) would refuse it.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import queue
import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tenants.utils import schema_context

from modules.estate.models import Meter, ParkingSpace, ParkingStatus, Unit
from modules.households.models import Ownership
from wuye.core.ids import uuid7_texts

from . import calculation
from .calculation import fen, month_after
from .models import (
    Account,
    Bill,
    BillKind,
    BillLine,
    BillRun,
    ChargeBasis,
    ChargeItem,
    EntryKind,
    LedgerEntry,
    MeterReading,
    Tariff,
)

# Accounts per transaction of a posting (settings.FEES_RUN_CHUNK, WUYE_FEES_RUN_CHUNK).
CHUNK = settings.FEES_RUN_CHUNK
# Sessions writing a posting's chunks at once (settings.FEES_RUN_WRITERS, WUYE_FEES_RUN_WRITERS).
WRITERS = settings.FEES_RUN_WRITERS
EXCEPTIONS_LISTED = 200  # a preview lists this many of each kind of exception, and counts them all


@dataclass
class LineDraft:
    charge_item_id: uuid.UUID
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    meter_reading_id: uuid.UUID | None = None


@dataclass
class BillDraft:
    account_id: uuid.UUID
    project_id: uuid.UUID
    zone_id: uuid.UUID | None
    building_id: uuid.UUID | None
    label: str
    lines: list[LineDraft] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


@dataclass
class Plan:
    period: dt.date
    bills: list[BillDraft]
    # code -> (count, first few labels)
    exceptions: dict[str, tuple[int, list[str]]]
    already_billed: int = 0
    accounts: int = 0  # the accounts the plan looks at
    seen: int = 0  # of which looked at so far (while plan_bills runs)

    def exception_add(self, code: str, label: str) -> None:
        count, labels = self.exceptions.get(code, (0, []))
        if len(labels) < EXCEPTIONS_LISTED:
            labels.append(label)
        self.exceptions[code] = (count + 1, labels)

    def totals_by_item(self) -> dict[uuid.UUID, tuple[int, Decimal]]:
        totals: dict[uuid.UUID, list[Any]] = defaultdict(lambda: [0, Decimal(0)])
        for bill in self.bills:
            for line in bill.lines:
                totals[line.charge_item_id][0] += 1
                totals[line.charge_item_id][1] += line.amount
        return {item: (count, amount) for item, (count, amount) in totals.items()}

    @property
    def total(self) -> Decimal:
        return sum((bill.amount for bill in self.bills), Decimal(0))


# The codes of a plan's exceptions, with what a person reads.
EXCEPTION_LABELS = {
    "no_owner": gettext_lazy("Units without an owner in the period (not billed)"),
    "no_reading": gettext_lazy("Meters without a reading for the period"),
    "reading_abnormal": gettext_lazy("Abnormal readings waiting for review (not billed)"),
    "no_tariff": gettext_lazy("Units or spaces of a kind no tariff applies to"),
}


def _tariffs(
    project_id: uuid.UUID, period: dt.date, items: Iterable[ChargeItem]
) -> dict[tuple[uuid.UUID, str], Tariff]:
    """The tariffs in force on the first day of the period: (item, applies_to) -> tariff."""
    found = (
        Tariff.objects.filter(project_id=project_id, charge_item__in=list(items), valid_from__lte=period)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=period))
        .prefetch_related("tiers")
    )
    return {(tariff.charge_item_id, tariff.applies_to): tariff for tariff in found}


def _price(tariffs: dict[tuple[uuid.UUID, str], Tariff], item_id: uuid.UUID, kind: str) -> Tariff | None:
    return tariffs.get((item_id, kind)) or tariffs.get((item_id, ""))


@functools.lru_cache(maxsize=4096)  # a project has few distinct areas and prices
def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f").rstrip("0")


def plan_make(
    *,
    project_id: uuid.UUID,
    period: dt.date,
    account_ids: set[uuid.UUID] | None = None,
    with_meters: bool = True,
) -> Plan:
    """What the project's accounts owe for `period`. `account_ids` limits the plan to some accounts (a
    collection in advance); `with_meters` False leaves utilities out (they are billed on readings)."""
    plan = Plan(period=period, bills=[], exceptions={})
    plan.bills = list(
        plan_bills(plan, project_id=project_id, period=period, account_ids=account_ids, with_meters=with_meters)
    )
    return plan


def plan_bills(
    plan: Plan,
    *,
    project_id: uuid.UUID,
    period: dt.date,
    account_ids: set[uuid.UUID] | None = None,
    with_meters: bool = True,
) -> Iterator[BillDraft]:
    """The bills of the plan, made one account at a time in the order of the accounts' ids, skipping those
    already billed for the period; exceptions and the already-billed count go to `plan` as they are met.
    A posting writes the first chunks while the rest is still being worked out."""
    items = [item for item in ChargeItem.objects.filter(archived_at__isnull=True, basis__in=ChargeBasis.periodic())]
    if not with_meters:
        items = [item for item in items if item.basis != ChargeBasis.METER]
    tariffs = _tariffs(project_id, period, items)
    month_days = calculation.days_in_month(period)
    after = month_after(period)
    accounts = Account.objects.filter(project_id=project_id)
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    # Sorted by the ids' integers: comparing UUID objects costs a Python call per comparison.
    rows = sorted(accounts.values_list("id", "unit_id", "parking_space_id", "label"), key=lambda row: row[0].int)
    plan.accounts = len(rows)
    some = account_ids is not None  # a few accounts: name their units (a whole project reads them all)

    # What each kind of line needs, read once for the whole project (or the few accounts asked for).
    unit_items = [item for item in items if item.basis in (ChargeBasis.AREA, ChargeBasis.UNIT)]
    spans: dict[uuid.UUID, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    units: dict[uuid.UUID, tuple[str, Decimal, Any, Any]] = {}
    if unit_items:
        owned = Ownership.objects.filter(unit__project_id=project_id, starts_on__lt=after).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gt=period)
        )
        for unit_id, starts_on, ends_on in owned.values_list("unit_id", "starts_on", "ends_on"):
            spans[unit_id].append((starts_on, ends_on))
        unit_rows = Unit.objects.filter(project_id=project_id, archived_at__isnull=True)
        if some:
            unit_rows = unit_rows.filter(pk__in=[row[1] for row in rows if row[1]])
        for unit_id, kind, area, zone_id, building_id in unit_rows.values_list(
            "id", "kind", "floor_area", "zone_id", "building_id"
        ):
            units[unit_id] = (kind, area, zone_id, building_id)

    space_items = [item for item in items if item.basis == ChargeBasis.SPACE]
    spaces: dict[uuid.UUID, tuple[str, Any]] = {}
    if space_items:
        space_rows = ParkingSpace.objects.filter(
            project_id=project_id,
            archived_at__isnull=True,
            status__in=[ParkingStatus.SOLD, ParkingStatus.RENTED],
        )
        if some:
            space_rows = space_rows.filter(pk__in=[row[2] for row in rows if row[2]])
        for space_id, space_kind, zone_id in space_rows.values_list("id", "kind", "zone_id"):
            spaces[space_id] = (space_kind, zone_id)

    meter_items = {item.category: item for item in items if item.basis == ChargeBasis.METER}
    meters: dict[uuid.UUID, list[tuple[Any, ...]]] = defaultdict(list)
    readings: dict[uuid.UUID, tuple[Any, ...]] = {}
    if meter_items:
        readings = {
            meter_id: (reading_id, consumption, flagged, reviewed, previous, value)
            for meter_id, reading_id, consumption, flagged, reviewed, previous, value in MeterReading.objects.filter(
                project_id=project_id, period=period, bill_line__isnull=True
            ).values_list("meter_id", "id", "consumption", "flagged", "reviewed_at", "previous", "reading")
        }
        billed = set(
            MeterReading.objects.filter(project_id=project_id, period=period, bill_line__isnull=False).values_list(
                "meter_id", flat=True
            )
        )
        meter_rows = Meter.objects.filter(
            project_id=project_id, unit__isnull=False, archived_at__isnull=True, kind__in=list(meter_items)
        ).values_list("id", "kind", "unit_id", "unit__kind", "unit__zone_id", "unit__building_id", "serial")
        for meter in meter_rows:
            if meter[0] not in billed:
                meters[meter[2]].append(meter)

    already = set(
        Bill.objects.filter(kind=BillKind.PERIODIC, period=period, account__project_id=project_id).values_list(
            "account_id", flat=True
        )
    )

    def unit_lines(bill: BillDraft, unit_id: uuid.UUID) -> None:
        """By floor area or per unit, for the days someone owned the unit this month."""
        unit = units.get(unit_id)
        if unit is None:
            return
        kind, area, bill.zone_id, bill.building_id = unit
        days = calculation.covered_days(period, spans.get(unit_id, ()))
        if days == 0:
            plan.exception_add("no_owner", bill.label)
            return
        for item in unit_items:
            tariff = _price(tariffs, item.pk, kind)
            if tariff is None:
                if any(key[0] == item.pk for key in tariffs):
                    plan.exception_add("no_tariff", f"{bill.label} · {item.name}")
                continue
            quantity = area if item.basis == ChargeBasis.AREA else Decimal(1)
            amount = calculation.prorated(quantity, tariff.unit_price, days, month_days)
            if amount <= 0:
                continue
            if item.basis == ChargeBasis.AREA:
                text = f"{_fmt(area)} m² × {_fmt(tariff.unit_price)}"
            else:
                text = f"1 × {_fmt(tariff.unit_price)}"
            if days < month_days:
                text += " × " + _("%(days)s/%(month)s days") % {"days": days, "month": month_days}
            bill.lines.append(LineDraft(item.pk, text, quantity, tariff.unit_price, amount))

    def meter_lines(bill: BillDraft, unit_id: uuid.UUID) -> None:
        """The consumption of each of the unit's meters read for this period."""
        for meter_id, kind, _unit, unit_kind, zone_id, building_id, serial in meters.get(unit_id, ()):
            item = meter_items[kind]
            tariff = _price(tariffs, item.pk, unit_kind)
            if tariff is None:
                continue
            found = readings.get(meter_id)
            if found is None:
                plan.exception_add("no_reading", f"{bill.label} · {serial}")
                continue
            reading_id, consumption, flagged, reviewed, previous, value = found
            if consumption is None or consumption == 0:
                continue  # a baseline reading, or nothing used
            if flagged and reviewed is None:
                plan.exception_add("reading_abnormal", f"{bill.label} · {serial}")
                continue
            tiers = [(tier.starts_above, tier.unit_price) for tier in tariff.tiers.all()]
            amount = calculation.tiered(consumption, tariff.unit_price, tiers)
            if amount <= 0:
                continue
            text = f"{serial}: {_fmt(previous)} → {_fmt(value)}" if previous is not None else serial
            bill.zone_id, bill.building_id = zone_id, building_id
            bill.lines.append(LineDraft(item.pk, text, consumption, tariff.unit_price, amount, reading_id))

    def space_lines(bill: BillDraft, space_id: uuid.UUID) -> None:
        """Per space per month, for spaces sold or let."""
        space_kind, bill.zone_id = spaces[space_id]
        for item in space_items:
            tariff = _price(tariffs, item.pk, space_kind)
            if tariff is None or tariff.unit_price <= 0:
                continue
            price = tariff.unit_price
            bill.lines.append(LineDraft(item.pk, f"1 × {_fmt(price)}", Decimal(1), price, fen(price)))

    for plan.seen, (account_id, unit_id, space_id, label) in enumerate(rows, start=1):
        bill = BillDraft(account_id, project_id, None, None, label)
        if unit_id:
            unit_lines(bill, unit_id)
            meter_lines(bill, unit_id)
        elif space_id in spaces:
            space_lines(bill, space_id)
        if not bill.lines:
            continue
        if account_id in already:
            plan.already_billed += 1
            continue
        yield bill


# ------------------------------------------------------------------------------------------ writing
_BILL_COLUMNS = ("id", "account_id", "kind", "period", "run_id", "issued_on", "due_on", "amount", "note", "created_at")
_LINE_COLUMNS = (
    "id",
    "bill_id",
    "account_id",
    "charge_item_id",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "meter_reading_id",
)
_ENTRY_COLUMNS = (
    "id",
    "account_id",
    "line_id",
    "kind",
    "amount",
    "at",
    "booked_on",
    "group",
    "reason",
    "project_id",
    "zone_id",
    "building_id",
    "charge_item_id",
    "period",
)


def _copy(table: str, columns: Iterable[str], text: str) -> None:
    """COPY `text` (PostgreSQL's text format, built by the caller) into `table` in one write."""
    quoted = ", ".join(f'"{name}"' for name in columns)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no COPY
        with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            copy.write(text)


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def _text(value: str) -> str:
    """A text field for COPY's text format: backslash, tab and line ends escaped."""
    return value.translate(_ESCAPES)


class _Texts(dict[Any, str]):
    """str() of the few distinct ids many rows repeat (project, zone, building, item), made once each."""

    def __missing__(self, key: Any) -> str:
        text = self[key] = NULL if key is None else str(key)
        return text


def bills_write(
    drafts: list[BillDraft], *, run_id: uuid.UUID | None, period: dt.date, issued_on: dt.date, due_on: dt.date
) -> list[str]:
    """Bills, lines and charge entries of `drafts`, in three COPY statements. Returns the bills' ids.

    The rows are written as COPY's text format by hand, one string per table, with the ids made as text
    in bulk: a tuple per row through psycopg's dumpers, and a UUID object per id, cost a bill run of
    100,000 accounts seconds (infra/bench/README.md, "Fees")."""
    if not drafts:
        return []
    now = timezone.now().isoformat()
    count = len(drafts)
    lines_count = sum(len(bill.lines) for bill in drafts)
    ids = uuid7_texts(count + 2 * lines_count + 1)
    bill_ids, line_ids, entry_ids = ids[:count], ids[count : count + lines_count], ids[count + lines_count :]
    texts = _Texts()
    run = texts[run_id]
    head = f"\t{BillKind.PERIODIC.value}\t{period}\t{run}\t{issued_on}\t{due_on}\t"
    tail = f"\t{EntryKind.CHARGE.value}\t"
    dated = f"\t{now}\t{issued_on}\t{entry_ids.pop()}\t\t"  # the entries' group: one per call
    bills: list[str] = []
    lines: list[str] = []
    entries: list[str] = []
    at = 0
    for bill_id, bill in zip(bill_ids, drafts, strict=True):
        account = str(bill.account_id)
        bills.append(f"{bill_id}\t{account}{head}{bill.amount}\t\t{now}\n")
        where = f"{texts[bill.project_id]}\t{texts[bill.zone_id]}\t{texts[bill.building_id]}\t"
        for line in bill.lines:
            line_id, item = line_ids[at], texts[line.charge_item_id]
            lines.append(
                f"{line_id}\t{bill_id}\t{account}\t{item}\t{_text(line.description[:200])}\t"
                f"{line.quantity}\t{line.unit_price}\t{line.amount}\t{texts[line.meter_reading_id]}\n"
            )
            entries.append(f"{entry_ids[at]}\t{account}\t{line_id}{tail}{line.amount}{dated}{where}{item}\t{period}\n")
            at += 1
    _copy(Bill._meta.db_table, _BILL_COLUMNS, "".join(bills))
    _copy(BillLine._meta.db_table, _LINE_COLUMNS, "".join(lines))
    _copy(LedgerEntry._meta.db_table, _ENTRY_COLUMNS, "".join(entries))
    return bill_ids


def _chunks(items: Iterable[BillDraft], size: int) -> Iterator[list[BillDraft]]:
    part: list[BillDraft] = []
    for item in items:
        part.append(item)
        if len(part) == size:
            yield part
            part = []
    if part:
        yield part


def due_date(period: dt.date, issued_on: dt.date, due_days: int) -> dt.date:
    return max(period + dt.timedelta(days=due_days), issued_on)


def run_write(
    run: BillRun,
    *,
    due_days: int,
    chunk: int = CHUNK,
    progress: Callable[[int, int], None] | None = None,
    writers: int = WRITERS,
) -> list[uuid.UUID]:
    """Post the run's plan chunk by chunk; returns the accounts billed by this call. `progress` is told
    (accounts looked at, accounts) after each chunk.

    Chunks are written by `writers` sessions at once (threads, each with its own connection in the
    company's schema) while this thread works out the next ones (plan_bills), so PostgreSQL's share of a
    run (checking keys, filling indexes, committing) is spread over the server's cores and overlaps the
    plan. Inside a caller's transaction (a test, a collection in advance) there is one session, the
    caller's: other sessions could not see what it has not committed."""
    issued_on = timezone.localdate()
    due_on = due_date(run.period, issued_on, due_days)
    plan = Plan(period=run.period, bills=[], exceptions={})
    billed: list[uuid.UUID] = []

    def write(number: int, part: list[BillDraft]) -> list[uuid.UUID]:
        return _chunk_write(run, number, part, issued_on=issued_on, due_on=due_on)

    def written(accounts: list[uuid.UUID], seen: int) -> None:
        billed.extend(accounts)
        if progress is not None:
            progress(seen, plan.accounts)

    # The plan holds a few objects per account; the collector would walk them again and again while it
    # is made and posted (a third of the time with 100,000 accounts) and can free nothing until the end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        parts = _chunks(plan_bills(plan, project_id=run.project_id, period=run.period), chunk)
        if writers <= 1 or connection.in_atomic_block:
            for number, part in enumerate(parts):
                written(write(number, part), plan.seen)
            return billed
        schema = connection.schema_name  # type: ignore[attr-defined]  # django-tenants adds it
        pending: deque[tuple[Future[list[uuid.UUID]], int]] = deque()

        def drain(keep: int) -> None:
            """Wait for the oldest chunks until `keep` are pending: in chunk order, so the progress bar
            moves as chunks finish in sequence."""
            while len(pending) > keep:
                future, seen = pending.popleft()
                written(future.result(), seen)

        with _Writers(writers, schema, write) as pool:
            for number, part in enumerate(parts):
                pending.append((pool.submit(number, part), plan.seen))
                drain(writers)  # no further ahead than the writers can take
            drain(0)
    finally:
        if collecting:
            gc.enable()
    return billed


class _Writers:
    """Threads writing a run's chunks, each with one database session in the company's schema for all the
    chunks it takes (a session per chunk cost a connection each). Leaving the block after a failure
    cancels the chunks not started (posting again resumes the run)."""

    def __init__(self, count: int, schema: str, write: Callable[[int, list[BillDraft]], list[uuid.UUID]]) -> None:
        self.tasks: queue.SimpleQueue[tuple[int, list[BillDraft], Future[list[uuid.UUID]]] | None]
        self.tasks = queue.SimpleQueue()
        self.threads = [
            threading.Thread(target=self._work, args=(schema, write), name=f"bill-run-writer-{n}", daemon=True)
            for n in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, number: int, part: list[BillDraft]) -> Future[list[uuid.UUID]]:
        future: Future[list[uuid.UUID]] = Future()
        self.tasks.put((number, part, future))
        return future

    def _work(self, schema: str, write: Callable[[int, list[BillDraft]], list[uuid.UUID]]) -> None:
        try:
            with schema_context(schema):
                while (task := self.tasks.get()) is not None:
                    number, part, future = task
                    if not future.set_running_or_notify_cancel():
                        continue
                    try:
                        future.set_result(write(number, part))
                    except BaseException as error:  # handed to the run's thread, which raises it
                        future.set_exception(error)
        finally:
            connection.close()  # this thread's own session

    def __enter__(self) -> _Writers:
        return self

    def __exit__(self, kind: Any, *_: Any) -> None:
        if kind is not None:
            while True:
                try:
                    task = self.tasks.get_nowait()
                except queue.Empty:
                    break
                if task is not None:
                    task[2].cancel()
        for _thread in self.threads:
            self.tasks.put(None)
        for thread in self.threads:
            thread.join()


def _chunk_write(
    run: BillRun, number: int, part: list[BillDraft], *, issued_on: dt.date, due_on: dt.date
) -> list[uuid.UUID]:
    """One chunk in one transaction: the accounts of `part` not billed yet for the period get their bills.
    Returns those accounts."""
    with transaction.atomic():
        _chunk_lock(run.pk, number)
        already = _already_billed([bill.account_id for bill in part], run.period)
        fresh = [bill for bill in part if bill.account_id not in already]
        bills_write(fresh, run_id=run.pk, period=run.period, issued_on=issued_on, due_on=due_on)
    return [bill.account_id for bill in fresh]


def _chunk_lock(run_id: uuid.UUID, number: int) -> None:
    """One writer at a time per chunk of a run, until its transaction ends: a second worker given the same
    run (a task delivered twice) waits, then finds the chunk billed and skips it. Should two workers plan
    different chunks (accounts made in between), the unique bill per account and period still refuses
    the second bill, and the run can be posted again to finish."""
    with connection.cursor() as cursor:
        # The id's last 32 bits are random (uuid7's leading ones are its time, shared by runs made together).
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [(run_id.int & 0xFFFFFFFF) - (1 << 31), number])


def _already_billed(account_ids: list[uuid.UUID], period: dt.date) -> set[uuid.UUID]:
    """Which of these accounts have the period's monthly bill: one index probe per account, whatever the
    table's statistics say (a month's new bills are not in them yet, and the planner would scan)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT b.account_id FROM unnest(%s::uuid[]) AS a(id)
                CROSS JOIN LATERAL (
                    SELECT account_id FROM {Bill._meta.db_table}
                    WHERE account_id = a.id AND period = %s AND kind = %s OFFSET 0
                ) b""",  # noqa: S608  (the table name is the model's; values are bound)
            [account_ids, period, BillKind.PERIODIC.value],
        )
        return {row[0] for row in cursor.fetchall()}


def run_totals(run: BillRun) -> tuple[int, Decimal]:
    totals = Bill.objects.filter(run=run).aggregate(count=Count("id"), total=Sum("amount"))
    return totals["count"] or 0, totals["total"] or Decimal(0)
