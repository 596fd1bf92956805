"""`make bench`, fees: a monthly bill run of 100,000 units, and the collection-rate report over a year.

Targets (the fees issue):
  1. A bill run for 100,000 units posts in at most 5 s, and within 3x of a plain PostgreSQL COPY of the
     same rows measured in the same run.
  2. The collection-rate report over 12 months x 100,000 units answers in at most 1 s.

Like the other benchmarks, this works in a database of its own (`<name>_bench_fees` beside DATABASE_URL's,
dropped at the end, also after a failure, Ctrl-C or SIGTERM), provisions one company, and prints
everything before saying PASS or FAIL (exit status 1 on a FAIL).

The estate (not measured; written in bulk, not through the services): one project of --units units in
buildings of 200 (50 floors of 4; the ground floor is shops), 10 zones; one person owning each unit, except
1 in 100 units with no owner (the plan's "no owner" exception), 1 in 100 owned only from 2025-03-15
(prorated in March, not billed before) and 1 in 100 sold on 2025-06-10 (two owners that month); --spaces
parking spaces, sold. Tariffs through `services.tariff_create`: property fee 2.80/m2, shops 6.50/m2,
parking 150/space. The estate tables are then ANALYZEd (autovacuum does so within a minute of a bulk
import). Without that, accounts_ensure's `NOT EXISTS` becomes a nested loop that reads all of fees_account
again for every unit (203 s here for 102,000 accounts instead of 6 s; see README). The household accounts
are made once beforehand by `services.accounts_ensure` (timed, for information: a project's first run
makes them, every later run finds them).

1. Posting. For the months 2025-01 .. 2025-12 in turn, a run is made (`services.run_create`, untimed) and
   posted by `services.run_execute(run_id=...)` as the worker does, on a new database session, with the
   clock set to 02:00 on the 1st of the month (Django's `timezone.now` replaced for the call): so bills
   are issued on the 1st and due 30 days later, as if each run had been posted on its run day, and the
   ledger has the dates the report and the arrears need. The first --runs months are the repetitions
   the target is judged on (medians); the later ones are timed for information (does posting slow down
   as the ledger grows?). Timers around `runs.run_write`, the `runs.plan_bills` generator, each chunk
   (`runs._chunk_write`, `runs.bills_write`, `runs._copy`) and the per-chunk progress call split each run
   into: accounts (accounts_ensure), plan and write (wall clock: the plan is worked out while the first
   chunks are written; the time spent inside the plan's generator is shown apart), the chunks' steps
   summed over the writer sessions (the run's chunk lock and the already-billed check; building the rows
   in Python; the three COPYs; the commit, where the deferred foreign keys are checked), and finish
   (totals, run row, progress). The CPU time of this process and of the database sessions' server
   processes (read from /proc when the server runs on this machine; a writer's session at the end of each
   of its chunks) is printed too: on a shared machine it says what the work cost, where the wall clock
   also counts the wait for a core.

   The plain COPY: after each of the --runs repetitions, that run's bills, bill lines and charge entries
   (the columns `runs.bills_write` writes) are read out with COPY TO into memory, then written with
   COPY FROM, in one transaction with its commit, into empty copies of the three tables. Three times:
   "bare" copies (`CREATE TABLE ... (LIKE fees_x INCLUDING DEFAULTS)`: no index, no constraint, no
   trigger), the baseline the ratio is judged on; "indexed" copies (INCLUDING DEFAULTS CONSTRAINTS
   INDEXES: the same primary keys, unique and other indexes and CHECK constraints, no foreign keys and no
   trigger), and "keyed" copies (indexed, plus each table's foreign keys, to the same parent rows), both
   for information: keyed / bare is the share of the ratio PostgreSQL itself needs for these rows under
   the ledger's rules, before any of the application's work.

2. The collection-rate report. After the 12 runs, ~85 % of each month's bills are paid: 70 % during the
   month, 10 % the month after, 5 % two to five months later (15 % stay unpaid). The payments are not
   made through `services.payment_record` (a million calls), but written with COPY in the shape it
   writes: a Payment row per bill (receipt number per year, method, amount, booked_on, by) and a ledger
   entry per line, kind "payment", minus the line's amount, with the payment, a group, and the project,
   zone, building, charge item and period copied as services._entry does. The database's own rules
   (foreign keys, the ledger trigger) check them. Then VACUUM (ANALYZE) of the fees tables (what
   autovacuum does to an insert-only table in time), one untimed call of each, and --reports calls
   each of `selectors.collection_report(viewer=admin, period_from=2025-01-01, period_to=2025-12-01,
   group=project | building)`, alternating; medians. `selectors.arrears_aging(viewer=admin)` once, for
   information.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import signal
import statistics
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from provisioning import bench_url, database_create, database_drop, server_params

TARGET_POST_SECONDS = 5.0
TARGET_COPY_RATIO = 3.0
TARGET_REPORT_SECONDS = 1.0
YEAR = 2025
PER_BUILDING = 200  # 50 floors of 4
ZONES = 10
OWNED_SINCE = dt.date(2020, 1, 1)
LATE_OWNER = dt.date(2025, 3, 15)  # 1 unit in 100: owned from mid-March (prorated)
SOLD_ON = dt.date(2025, 6, 10)  # 1 unit in 100: sold in June (two owners that month)
PAY_SHARES = ((0.70, 0), (0.10, 1), (0.05, None))  # (share of bills, months after the period; None: 2-5)
METHODS = ("wechat", "alipay", "cash", "bank_transfer", "pos")


def months(count: int) -> list[dt.date]:
    return [dt.date(YEAR + (n // 12), n % 12 + 1, 1) for n in range(count)]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ------------------------------------------------------------------------------------------ set-up
def company() -> Any:
    from django.core.management import call_command

    from tenants import services as tenant_services
    from wuye.core.tenancy import use_public_schema

    call_command("migrate", interactive=False, verbosity=0)
    use_public_schema()
    return tenant_services.company_create(
        name="收费基准", slug="feesbench", admin_email="admin@feesbench.example.com", admin_name="Admin",
        admin_password="fees-bench-password-1",  # noqa: S106 - a throw-away database
    )  # fmt: skip


def estate(admin: Any, units: int, spaces: int) -> Any:
    """The project, its zones, buildings, units, owners and parking spaces, in bulk; the tariffs through
    the service."""
    from modules.estate.models import Building, ParkingSpace, ParkingStatus, Project, Unit, UnitKind, Zone
    from modules.fees import services
    from modules.fees.models import ChargeItem
    from modules.households.models import Ownership, Person

    project = Project.objects.create(name="万户花园", code="wanhu")
    zones = Zone.objects.bulk_create([Zone(project=project, name=f"{n}区", sort_order=n) for n in range(1, ZONES + 1)])
    count = -(-units // PER_BUILDING)
    buildings = Building.objects.bulk_create(
        [
            Building(
                project=project, zone=zones[n * ZONES // count], name=f"{n + 1}栋", sort_order=n + 1, floors_above=50
            )
            for n in range(count)
        ]
    )
    rows = []
    for index in range(units):
        building = buildings[index // PER_BUILDING]
        floor, door = divmod(index % PER_BUILDING, 4)
        rows.append(
            Unit(
                project=project,
                building=building,
                zone_id=building.zone_id,
                number=f"{floor + 1}{door + 1:02d}",
                floor=floor + 1,
                kind=UnitKind.SHOP if floor == 0 else UnitKind.FLAT,
                floor_area=Decimal("68.35") + Decimal(index % 9) * Decimal("11.27"),
                status="occupied",
            )
        )
    made = Unit.objects.bulk_create(rows, batch_size=5000)
    people, ownerships = [], []
    for index, unit in enumerate(made):
        case = index % 100
        if case == 0:
            continue  # no owner: the plan lists it, never bills it
        first = Person(name=f"业主{index}", phone=f"139{index:08d}")
        people.append(first)
        if case == 1:
            ownerships.append(Ownership(unit=unit, person=first, starts_on=LATE_OWNER))
        elif case == 2:
            second = Person(name=f"新业主{index}", phone=f"138{index:08d}")
            people.append(second)
            ownerships.append(Ownership(unit=unit, person=first, starts_on=OWNED_SINCE, ends_on=SOLD_ON))
            ownerships.append(Ownership(unit=unit, person=second, starts_on=SOLD_ON))
        else:
            ownerships.append(Ownership(unit=unit, person=first, starts_on=OWNED_SINCE))
    Person.objects.bulk_create(people, batch_size=5000)
    Ownership.objects.bulk_create(ownerships, batch_size=5000)
    ParkingSpace.objects.bulk_create(
        [
            ParkingSpace(project=project, zone=zones[n % ZONES], number=f"B{n + 1:05d}", status=ParkingStatus.SOLD)
            for n in range(spaces)
        ],
        batch_size=5000,
    )
    since = dt.date(2024, 1, 1)
    item = {code: ChargeItem.objects.get(code=code) for code in ("property", "parking")}
    for code, price, applies_to in (("property", "2.80", ""), ("property", "6.50", "shop"), ("parking", "150.00", "")):
        services.tariff_create(
            by=admin, project=project, charge_item=item[code], unit_price=Decimal(price), valid_from=since,
            applies_to=applies_to,
        )  # fmt: skip
    return project


# ------------------------------------------------------------------------------------------ instruments
class Timeline:
    """Timers around the steps of a run's posting, installed on the modules' own names (run_write and
    run_execute look them up at each call). Each wrapper costs a few microseconds, ~100 calls a run.

    Chunks are written by several sessions at once (runs.WRITERS threads), so the steps inside the chunks
    are summed over the writers (they overlap in time); `write` is the wall clock from the end of the plan
    to the last chunk's progress report."""

    def __init__(self) -> None:
        self.events: list[tuple[str, float, float, int, Any]] = []  # (name, start, end, thread, detail)

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from modules.fees import runs, services

        patches: list[tuple[Any, str, Any]] = []

        def wrap(module: Any, name: str, detail: Callable[..., Any] = lambda *a, **k: None) -> None:
            real = getattr(module, name)

            def timed(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return real(*args, **kwargs)
                finally:
                    ended = time.perf_counter()
                    self.events.append((name, started, ended, threading.get_ident(), detail(*args, **kwargs)))

            patches.append((module, name, real))
            setattr(module, name, timed)

        wrap(services, "accounts_ensure")
        wrap(runs, "run_write")
        real_plan = runs.plan_bills

        def plan_timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            """The generator, with the time spent inside it (on the run's thread) recorded per bill."""
            bills = real_plan(*args, **kwargs)
            while True:
                begin = time.perf_counter()
                try:
                    bill = next(bills)
                except StopIteration:
                    self.events.append(("plan_bills", begin, time.perf_counter(), threading.get_ident(), None))
                    return
                self.events.append(("plan_bills", begin, time.perf_counter(), threading.get_ident(), None))
                yield bill

        patches.append((runs, "plan_bills", real_plan))
        runs.plan_bills = plan_timed
        # A writer thread's session ends with the run: its CPU time so far is read at each chunk's end.
        wrap(runs, "_chunk_write", lambda *a, **k: _writer_cpu())
        wrap(runs, "bills_write", lambda drafts, **_: len(drafts))
        wrap(runs, "_copy", lambda table, *_: table)
        wrap(services, "progress_set")  # run_execute's per-chunk report, after each chunk in order
        wrap(runs, "run_totals")
        try:
            yield
        finally:
            for module, name, real in reversed(patches):
                setattr(module, name, real)

    def clear(self) -> None:
        self.events = []

    def split(self, started: float, ended: float) -> dict[str, float]:
        """Seconds per step of one run_execute call that ran from `started` to `ended`."""
        keys = ("accounts", "start", "plan", "lock_check", "build", "copy_bill", "copy_line", "copy_entry", "commit")
        parts = dict.fromkeys(keys, 0.0)
        tables = {"fees_bill": "copy_bill", "fees_billline": "copy_line", "fees_ledgerentry": "copy_entry"}
        writing = started
        totals_at = next((begin for name, begin, *_ in self.events if name == "run_totals"), ended)
        last_report = None
        writer_cpu: dict[int, float] = {}  # a writer session's pid -> its CPU seconds at its last chunk's end
        for name, begin, end, thread, detail in self.events:
            if name == "accounts_ensure":
                parts["accounts"] += end - begin
            elif name == "run_write":
                parts["start"] += begin - started - parts["accounts"]  # the run row, the fee settings
                writing = begin
            elif name == "plan_bills":
                parts["plan"] += end - begin
            elif name == "_chunk_write":
                # In this thread, within this chunk: the lock and check before the rows, the commit after.
                inner = [e for e in self.events if e[3] == thread and begin <= e[1] and e[2] <= end]
                rows = next(e for e in inner if e[0] == "bills_write")
                parts["lock_check"] += rows[1] - begin
                parts["commit"] += end - rows[2]
                parts["build"] += rows[2] - rows[1]
                for copy in (e for e in inner if e[0] == "_copy"):
                    parts[tables[copy[4]]] += copy[2] - copy[1]
                    parts["build"] -= copy[2] - copy[1]  # building the rows is what is left of bills_write
                if detail is not None:
                    writer_cpu[detail[0]] = max(writer_cpu.get(detail[0], 0.0), detail[1])
            elif name == "progress_set" and end <= totals_at:
                last_report = end
        mark = last_report if last_report is not None else writing
        parts["write"] = mark - writing
        parts["finish"] = ended - mark
        parts["total"] = ended - started
        parts["cpu_writers"] = sum(writer_cpu.values())
        parts["chunks"] = sum(1 for name, *_ in self.events if name == "_chunk_write")
        return parts


@contextlib.contextmanager
def clock_at(moment: dt.datetime) -> Iterator[None]:
    """Django's clock set to `moment` (timezone.now and so localdate; the fees code reads no other)."""
    from django.utils import timezone

    real = timezone.now
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = real


def run_day(period: dt.date) -> dt.datetime:
    return dt.datetime(period.year, period.month, 1, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def post(admin: Any, project: Any, period: dt.date, timeline: Timeline) -> tuple[Any, dict[str, float]]:
    from django.db import connection

    from modules.fees import services
    from modules.fees.models import RunStatus

    with clock_at(run_day(period)):
        run = services.run_create(by=admin, project=project, period=period)
        connection.close()  # a new session, like the worker's task
        connection.ensure_connection()
        server = backend_cpu()
        timeline.clear()
        cpu = time.process_time()
        started = time.perf_counter()
        done = services.run_execute(run_id=run.pk)
        ended = time.perf_counter()
        cpu = time.process_time() - cpu
        server = backend_cpu() - server
    if done is None or done.status != RunStatus.POSTED:
        raise RuntimeError(f"run {period:%Y-%m} ended {getattr(done, 'status', None)}: {getattr(done, 'error', '')}")
    parts = timeline.split(started, ended)
    return done, {**parts, "cpu_client": cpu, "cpu_server": server + parts.pop("cpu_writers")}


def _writer_cpu() -> tuple[int, float] | None:
    """(pid, CPU seconds) of this thread's database session, when it is a writer thread's own (the main
    thread's session is measured around the whole run). A writer's session lives for one run."""
    from django.db import connection

    if threading.current_thread() is threading.main_thread():
        return None
    return connection.connection.info.backend_pid, backend_cpu()


def backend_cpu() -> float:
    """CPU seconds the database session's server process has used (user + system), read from /proc when
    the server runs on this machine; NaN otherwise. On a shared machine CPU time says what the work cost
    when the wall clock also counts waiting for a core."""
    from django.db import connection

    try:
        pid = connection.connection.info.backend_pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, AttributeError, IndexError, ValueError):
        return float("nan")


# ------------------------------------------------------------------------------------------ the plain COPY
def plain_copy(schema: str, run_id: uuid.UUID) -> dict[str, Any]:
    """The run's bills, lines and charge entries read out with COPY TO, then written with COPY FROM into
    empty copies of the tables: bare; indexed (with their checks and unique and other indexes); and keyed
    (indexed, plus the same foreign keys to the same parent rows: what PostgreSQL itself must do to store
    these rows under the ledger's rules). Seconds of each, commit included (deferred keys are checked
    there). No trigger is copied: the report's sums would count the copies."""
    from django.db import connection, transaction

    from modules.fees import runs

    def cols(names: tuple[str, ...], alias: str = "") -> str:
        return ", ".join(f'{alias}"{name}"' for name in names)

    # Column names from runs.py, the run's id bound: nothing here comes from outside.
    bills = "FROM fees_bill b WHERE b.run_id = %s"
    lines = "FROM fees_billline l JOIN fees_bill b ON b.id = l.bill_id WHERE b.run_id = %s"
    entries = (
        "FROM fees_ledgerentry e JOIN fees_billline l ON l.id = e.line_id JOIN fees_bill b ON b.id = l.bill_id "
        "WHERE b.run_id = %s AND e.kind = 'charge'"
    )
    reads = [
        ("fees_bill", runs._BILL_COLUMNS, f"SELECT {cols(runs._BILL_COLUMNS, 'b.')} {bills}"),
        ("fees_billline", runs._LINE_COLUMNS, f"SELECT {cols(runs._LINE_COLUMNS, 'l.')} {lines}"),
        ("fees_ledgerentry", runs._ENTRY_COLUMNS, f"SELECT {cols(runs._ENTRY_COLUMNS, 'e.')} {entries}"),
    ]
    data: dict[str, tuple[tuple[str, ...], bytes, int]] = {}
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for table, names, query in reads:
            buffer = bytearray()
            with raw.copy(f"COPY ({query}) TO STDOUT", [run_id]) as copy:
                for block in copy:
                    buffer += block
            data[table] = (names, bytes(buffer), buffer.count(b"\n"))
    result: dict[str, Any] = {"rows": {table: rows for table, (_n, _d, rows) in data.items()}}
    indexed = "INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES"
    variants = {"bare": "INCLUDING DEFAULTS", "indexed": indexed, "keyed": indexed}
    for variant, like in variants.items():
        with connection.cursor() as cursor:
            cursor.execute("CREATE SCHEMA IF NOT EXISTS bench_copy")
            for table in data:
                cursor.execute(f"DROP TABLE IF EXISTS bench_copy.{table}")
                cursor.execute(f'CREATE TABLE bench_copy.{table} (LIKE "{schema}".{table} {like})')
                if variant == "keyed":  # the table's own foreign keys, to the company's tables (search_path)
                    cursor.execute(
                        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid = %s::regclass AND contype = 'f'",
                        [f'"{schema}".{table}'],
                    )
                    for name, definition in cursor.fetchall():
                        cursor.execute(f'ALTER TABLE bench_copy.{table} ADD CONSTRAINT "{name}" {definition}')
        server = backend_cpu()
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor
            for table, (names, payload, _rows) in data.items():
                with raw.copy(f"COPY bench_copy.{table} ({cols(names)}) FROM STDIN") as copy:
                    copy.write(payload)
        result[variant] = time.perf_counter() - started
        result[f"{variant}_cpu_server"] = backend_cpu() - server
        with connection.cursor() as cursor:
            for table in data:
                cursor.execute(f"DROP TABLE bench_copy.{table}")
    result["bytes"] = sum(len(payload) for _n, payload, _r in data.values())
    return result


# ------------------------------------------------------------------------------------------ payments
def _copy_rows(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    from django.db import connection

    quoted = ", ".join(f'"{name}"' for name in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def payments(admin: Any, periods: list[dt.date], paid_share: float) -> dict[str, int]:
    """Pay ~`paid_share` of each month's bills, in the shape services.payment_record writes (docstring)."""
    from django.db import connection, transaction

    from modules.fees.models import LedgerEntry, Payment, ReceiptCounter
    from wuye.core.ids import uuid7

    shares = [(share * paid_share / 0.85, later) for share, later in PAY_SHARES]
    tz = ZoneInfo("Asia/Shanghai")
    counters: dict[int, int] = {}
    made = {"payments": 0, "entries": 0}
    payment_columns = (
        "id", "account_id", "receipt_number", "method", "amount", "received_at", "booked_on", "payer_name",
        "reference", "note", "by_id",
    )  # fmt: skip
    entry_columns = (
        "id", "account_id", "line_id", "kind", "amount", "at", "booked_on", "group", "payment_id", "reason", "by_id",
        "project_id", "zone_id", "building_id", "charge_item_id", "period",
    )  # fmt: skip
    for period in periods:
        chance = random.Random(period.toordinal())
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT b.id, l.id, l.account_id, l.amount, l.charge_item_id, a.project_id, a.zone_id, a.building_id
                   FROM fees_bill b JOIN fees_billline l ON l.bill_id = b.id JOIN fees_account a ON a.id = l.account_id
                   WHERE b.kind = 'periodic' AND b.period = %s ORDER BY b.id, l.id""",
                [period],
            )
            lines = cursor.fetchall()
        by_bill: dict[uuid.UUID, list[tuple[Any, ...]]] = {}
        for line in lines:
            by_bill.setdefault(line[0], []).append(line)
        pays: list[tuple[Any, ...]] = []
        entries: list[tuple[Any, ...]] = []
        for bill_lines in by_bill.values():
            draw, later = chance.random(), -1
            for share, months_later in shares:
                if draw < share:
                    later = months_later if months_later is not None else chance.randint(2, 5)
                    break
                draw -= share
            if later < 0:
                continue  # unpaid
            month = dt.date(period.year + (period.month - 1 + later) // 12, (period.month - 1 + later) % 12 + 1, 1)
            booked = month.replace(day=chance.randint(2 if later == 0 else 1, 28))
            received = dt.datetime(booked.year, booked.month, booked.day, 10, chance.randint(0, 59), tzinfo=tz)
            counters[booked.year] = counters.get(booked.year, 0) + 1
            payment_id, group = uuid7(), uuid7()
            total = sum((line[3] for line in bill_lines), Decimal(0))
            account_id = bill_lines[0][2]
            receipt = f"{booked.year}{counters[booked.year]:06d}"
            method = METHODS[len(pays) % len(METHODS)]
            pays.append((payment_id, account_id, receipt, method, total, received, booked, "", "", "", admin.pk))
            for _bill, line_id, account, amount, item, project_id, zone_id, building_id in bill_lines:
                entries.append(
                    (
                        uuid7(), account, line_id, "payment", -amount, received, booked, group, payment_id, "",
                        admin.pk, project_id, zone_id, building_id, item, period,
                    )
                )  # fmt: skip
        with transaction.atomic():
            _copy_rows(Payment._meta.db_table, payment_columns, pays)
            _copy_rows(LedgerEntry._meta.db_table, entry_columns, entries)
        made["payments"] += len(pays)
        made["entries"] += len(entries)
    ReceiptCounter.objects.bulk_create([ReceiptCounter(year=year, last=last) for year, last in counters.items()])
    return made


# ------------------------------------------------------------------------------------------ the report
def report_explain(admin: Any, first: dt.date, last: dt.date) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the report's grouped query, as collection_report builds it."""
    from django.db import connection

    from modules.fees import selectors

    statements: list[str] = []

    def keep(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if ("fees_collectionsum" in sql or "fees_ledgerentry" in sql) and "GROUP BY" in sql:
            statements.append(connection.ops.compose_sql(sql, params) if params else sql)  # type: ignore[attr-defined]
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        selectors.collection_report(viewer=admin, period_from=first, period_to=last, group="project")
    if not statements:
        return "(the grouped query was not seen)"
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statements[0])
        return "\n".join(row[0] for row in cursor.fetchall())


# ------------------------------------------------------------------------------------------ the benchmark
def fmt(seconds: float) -> str:
    return f"{seconds:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fees benchmark: a bill run, and the collection-rate report.")
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--spaces", type=int, default=2_000, help="sold parking spaces, billed too (default 2,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs the posting target is judged on (default 3)")
    parser.add_argument("--months", type=int, default=12, help="monthly runs posted from 2025-01 (default 12)")
    parser.add_argument("--reports", type=int, default=5, help="calls of the report per grouping (default 5)")
    parser.add_argument("--paid", type=float, default=0.85, help="share of the bills paid (default 0.85)")
    parser.add_argument("--explain", action="store_true", help="print the report query's EXPLAIN ANALYZE")
    options = parser.parse_args(argv)
    if not 1 <= options.runs <= options.months:
        parser.error("--runs must be between 1 and --months")
    source = os.environ.get("DATABASE_URL")
    if not source:
        print("DATABASE_URL is not set: run `make bench`.", file=sys.stderr)
        return 2
    params = server_params(source)
    name = f"{params.pop('dbname')}_bench_fees"
    if len(name) > 63:
        print(f"database name {name!r} is longer than PostgreSQL's 63 characters", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"==> creating database {name}", flush=True)
    database_create(params, name)
    ready = False
    try:
        os.environ["DATABASE_URL"] = bench_url(source, name)
        os.environ.setdefault("WUYE_ENV", "test")
        os.environ.setdefault("WUYE_LOG_LEVEL", "WARNING")
        os.environ["WUYE_EMAIL_URL"] = "locmem:"
        os.environ["WUYE_CELERY_EAGER"] = "true"  # the set-up's few tasks (the invitation) run inline
        os.environ["WUYE_SPARE_POOL_SIZE"] = "0"  # one company: no spare schemas to make
        os.environ["WUYE_CACHE_PREFIX"] = os.environ.get("WUYE_CACHE_PREFIX", "wuye") + "-bench-fees"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
        import django

        django.setup()
        ready = True
        from django.conf import settings
        from django.db import connection
        from django.utils import translation

        from modules.fees import selectors, services
        from wuye.testing.plugin import in_company

        settings.DEBUG = False  # no query log
        print("==> migrating and provisioning a company", flush=True)
        started = time.perf_counter()
        provisioned = company()
        print(f"    done in {time.perf_counter() - started:.1f} s", flush=True)
        admin, schema = provisioned.admin, provisioned.company.schema_name
        periods = months(options.months)
        with in_company(provisioned.company), translation.override("zh-hans"):
            print(f"==> estate: {options.units:,} units, {options.spaces:,} parking spaces (bulk)", flush=True)
            started = time.perf_counter()
            project = estate(admin, options.units, options.spaces)
            with connection.cursor() as cursor:  # what autovacuum does within a minute of an import
                for table in ("estate_building", "estate_unit", "estate_parkingspace", "households_ownership"):
                    cursor.execute(f"ANALYZE {table}")
            print(f"    done in {time.perf_counter() - started:.1f} s", flush=True)
            started = time.perf_counter()
            accounts = services.accounts_ensure(project_id=project.pk)
            print(f"    accounts_ensure: {accounts:,} accounts in {time.perf_counter() - started:.2f} s", flush=True)

            # ---------------------------------------------------------------- 1. posting
            print(f"==> posting {len(periods)} monthly runs; the first {options.runs} against a plain COPY", flush=True)
            timeline = Timeline()
            posted: list[dict[str, Any]] = []
            with timeline.installed():
                for number, period in enumerate(periods):
                    run, parts = post(admin, project, period, timeline)
                    sample: dict[str, Any] = {"period": period, "bills": run.bill_count, **parts}
                    line = (
                        f"    {period:%Y-%m}: {run.bill_count:,} bills in {parts['total']:.2f} s = accounts "
                        f"{parts['accounts']:.2f} + start {parts['start']:.2f} + plan and write {parts['write']:.2f} "
                        f"(in the plan {parts['plan']:.2f}; {parts['chunks']} chunks, summed over the writers: "
                        f"lock+check {parts['lock_check']:.2f}, build {parts['build']:.2f}, "
                        f"COPY bill {parts['copy_bill']:.2f} line {parts['copy_line']:.2f} "
                        f"entry {parts['copy_entry']:.2f}, commit {parts['commit']:.2f}) + finish {parts['finish']:.2f}"
                        f"\n             CPU: this process {parts['cpu_client']:.2f} s, database server "
                        f"{parts['cpu_server']:.2f} s"
                    )
                    if number < options.runs:
                        copied = plain_copy(schema, run.pk)
                        sample.update(
                            bare=copied["bare"], indexed=copied["indexed"], keyed=copied["keyed"], rows=copied["rows"],
                            bare_cpu=copied["bare_cpu_server"], indexed_cpu=copied["indexed_cpu_server"],
                            keyed_cpu=copied["keyed_cpu_server"],
                        )  # fmt: skip
                        line += (
                            f"\n             plain COPY of the same {sum(copied['rows'].values()):,} rows "
                            f"({copied['bytes'] / 1e6:.1f} MB): bare {copied['bare']:.2f} s (server CPU "
                            f"{copied['bare_cpu_server']:.2f} s), indexed {copied['indexed']:.2f} s (server CPU "
                            f"{copied['indexed_cpu_server']:.2f} s), keyed {copied['keyed']:.2f} s (server CPU "
                            f"{copied['keyed_cpu_server']:.2f} s)"
                        )
                    posted.append(sample)
                    print(line, flush=True)

            # ---------------------------------------------------------------- 2. the report
            print(f"==> paying ~{options.paid:.0%} of the bills (COPY, in payment_record's shape)", flush=True)
            started = time.perf_counter()
            made = payments(admin, periods, options.paid)
            took = time.perf_counter() - started
            print(f"    {made['payments']:,} payments, {made['entries']:,} entries in {took:.1f} s", flush=True)
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM fees_collectionsum")
                unfolded = cursor.fetchone()[0]
            folded = services.collection_sums_compact()  # what beat does every ten minutes
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM fees_collectionsum")
                sums_total = cursor.fetchone()[0]
            print(
                f"    report sums: {unfolded:,} rows folded into {sums_total:,} ({folded:,} groups) in "
                f"{time.perf_counter() - started:.1f} s (beat's collection_sums_compact)",
                flush=True,
            )
            started = time.perf_counter()
            with connection.cursor() as cursor:
                tables = ("fees_ledgerentry", "fees_bill", "fees_billline", "fees_payment", "fees_account")
                for table in (*tables, "fees_collectionsum"):
                    cursor.execute(f"VACUUM (ANALYZE) {table}")
                cursor.execute("SELECT count(*) FROM fees_ledgerentry")
                entries_total = cursor.fetchone()[0]
            print(f"    VACUUM (ANALYZE) in {time.perf_counter() - started:.1f} s; {entries_total:,} ledger entries")
            first, last = periods[0], periods[-1]
            calls = {
                "project": lambda: selectors.collection_report(
                    viewer=admin, period_from=first, period_to=last, group="project"
                ),
                "building": lambda: selectors.collection_report(
                    viewer=admin, period_from=first, period_to=last, group="building"
                ),
            }
            for group, call in calls.items():
                started = time.perf_counter()
                result = call()
                print(
                    f"    warm-up, group={group}: {time.perf_counter() - started:.2f} s, {len(result.rows):,} rows",
                    flush=True,
                )
            timings: dict[str, list[float]] = {group: [] for group in calls}
            for _ in range(options.reports):
                for group, call in calls.items():
                    started = time.perf_counter()
                    call()
                    timings[group].append(time.perf_counter() - started)
            print("    " + "; ".join(f"{g}: " + " ".join(fmt(t) for t in ts) for g, ts in timings.items()), flush=True)
            totals = result.totals
            rates = [str(row.rate_in_period) for row in totals]
            print(f"    collection rate in period, per month (all projects): {' '.join(rates)}", flush=True)
            started = time.perf_counter()
            aging_rows, _aging_totals = selectors.arrears_aging(viewer=admin)
            aging = time.perf_counter() - started
            print(f"    arrears_aging: {aging:.2f} s, {len(aging_rows):,} accounts in arrears", flush=True)
            explain = report_explain(admin, first, last) if options.explain else ""

        # ---------------------------------------------------------------- the verdict
        judged = posted[: options.runs]
        keys = (
            "total", "accounts", "start", "plan", "write", "finish", "cpu_client", "cpu_server", "bare", "bare_cpu",
            "indexed", "indexed_cpu", "keyed", "keyed_cpu",
        )  # fmt: skip
        med = {key: median([sample[key] for sample in judged]) for key in keys}
        rows_copied = judged[0]["rows"]
        print()
        print(
            f"bill run: {judged[0]['bills']:,} bills of {options.units:,} units + {options.spaces:,} spaces; "
            f"{sum(rows_copied.values()):,} rows (bills {rows_copied['fees_bill']:,}, lines "
            f"{rows_copied['fees_billline']:,}, entries {rows_copied['fees_ledgerentry']:,})"
        )
        print(f"{'posting (' + str(options.runs) + ' runs)':<52} {'median s':>9} {'min s':>7} {'max s':>7}")
        labels = {
            "total": "services.run_execute",
            "accounts": "  accounts_ensure (nothing to make)",
            "start": "  run row, fee settings",
            "write": "  plan and write (overlapped)",
            "plan": "    of which in the plan (runs.plan_bills)",
            "finish": "  finish (totals, run row, progress)",
            "cpu_client": "  CPU time of this process",
            "cpu_server": "  CPU time of the database sessions",
            "bare": "plain COPY, bare tables",
            "bare_cpu": "  CPU time of the database session",
            "indexed": "plain COPY, indexed tables (info)",
            "indexed_cpu": "  CPU time of the database session",
            "keyed": "plain COPY, indexed tables with the keys (info)",
            "keyed_cpu": "  CPU time of the database session",
        }
        for key, label in labels.items():
            values = [sample[key] for sample in judged]
            print(f"{label:<52} {med[key]:>9.2f} {min(values):>7.2f} {max(values):>7.2f}")
        ratio = med["total"] / med["bare"]
        print(f"run_execute / plain COPY (bare):    {ratio:.2f}x")
        print(f"run_execute / plain COPY (indexed): {med['total'] / med['indexed']:.2f}x (info)")
        print(f"run_execute / plain COPY (keyed):   {med['total'] / med['keyed']:.2f}x (info)")
        print(f"plain COPY keyed / bare:            {med['keyed'] / med['bare']:.2f}x (info: the database's own share)")
        later = [sample["total"] for sample in posted[options.runs :]]
        if later:
            print(
                f"later runs ({len(later)}, info): median {median(later):.2f} s, max {max(later):.2f} s "
                f"(month {periods[-1]:%Y-%m}: {posted[-1]['total']:.2f} s)"
            )
        print()
        print(f"{'collection_report, ' + str(len(periods)) + ' months':<52} {'n':>3} {'median s':>9} {'max s':>7}")
        for group, values in timings.items():
            print(f"{'group=' + group:<52} {len(values):>3} {median(values):>9.2f} {max(values):>7.2f}")
        print(f"{'arrears_aging (info)':<52} {1:>3} {aging:>9.2f}")
        if explain:
            print()
            print(explain)
        print()
        checks = [
            (
                med["total"] <= TARGET_POST_SECONDS,
                f"bill run: median {med['total']:.2f} s <= {TARGET_POST_SECONDS:.0f} s",
            ),
            (
                ratio <= TARGET_COPY_RATIO,
                f"bill run within {TARGET_COPY_RATIO:.0f}x of a plain COPY of the same rows: {ratio:.2f}x "
                f"({med['total']:.2f} s / {med['bare']:.2f} s, medians)",
            ),
        ]
        for group, values in timings.items():
            checks.append(
                (
                    median(values) <= TARGET_REPORT_SECONDS,
                    f"collection report, group={group}: median {median(values):.2f} s <= {TARGET_REPORT_SECONDS:.0f} s",
                )
            )
        for ok, text in checks:
            print(f"{'PASS' if ok else 'FAIL'}  {text}")
        return 0 if all(ok for ok, _text in checks) else 1
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        if ready:
            from django.db import connections

            connections.close_all()
        database_drop(params, name)
        print(f"==> dropped database {name}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
