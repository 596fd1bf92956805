"""`make bench`, imports: 10,000 rows from an .xlsx file, end to end.

Target (issue #3): 10,000 units + 10,000 owners from .xlsx in at most 10 s. Owners arrive with the
households module's import kind; each kind is a `Case` below. The target holds for the sum of the two
medians: 10,000 units (creating their zones and buildings) and 10,000 owners (each with a resident ID
validated, encrypted and indexed, and the ownership of one of 10,000 units entered beforehand).

Like the other benchmarks, this works in a database of its own (`<name>_bench_imports` beside
DATABASE_URL's, dropped at the end, also after a failure or Ctrl-C) and prints everything before saying
PASS or FAIL (exit status 1 on a FAIL).

What is measured, per run, in this process, wall clock:
  upload   wuye.imports.services.batch_create: the .xlsx read (openpyxl, read-only), headers mapped,
           every row checked (the kind's check: lookups fetched once, each row through the model's own
           field validation), the batch stored as queued with its rows.
  write    wuye.imports.tasks.batch_write called directly (what the worker runs): the rows checked again
           against the estate as it is now, then written in one transaction with bulk inserts, an audit
           entry per record created, the batch finished. Its on-commit task queueing is switched off
           (no broker round trip), and nothing else runs meanwhile.
The file is made before the clock starts. Each run imports into a new project (no run finds the previous
one's units); the last batch is then undone, timed for information.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provisioning import bench_url, database_create, database_drop, server_params

TARGET_SECONDS = 10.0


# ------------------------------------------------------------------------------------------ cases
@dataclass(frozen=True)
class Case:
    kind: str
    label: str
    # prepare(admin, run) -> what the file refers to (here: a project code), made before the clock starts.
    prepare: Callable[[Any, int], str]
    # make_file(reference, rows) -> the .xlsx bytes.
    make_file: Callable[[str, int], bytes]


def _xlsx(rows: list[list[Any]]) -> bytes:
    import io

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _units_project(admin: Any, run: int) -> str:
    from modules.estate import services

    return services.project_create(by=admin, name=f"万户花园{run}", code=f"wanhu{run}").code


def _units_file(code: str, rows: int) -> bytes:
    """A real estate's shape: 5 zones of 10 buildings, 200 flats per building (50 floors of 4), so the
    import creates the zones and buildings too."""
    lines: list[list[Any]] = [["项目编码", "分区", "楼栋", "房号", "楼层", "类型", "建筑面积", "状态"]]
    for index in range(rows):
        building, within = divmod(index, 200)
        floor, door = divmod(within, 4)
        lines.append(
            [
                code,
                f"{building // 10 + 1}区",
                f"{building + 1}栋",
                f"{floor + 1}{door + 1:02d}",
                floor + 1,
                "住宅" if door else "商铺",
                f"{80 + door * 12.5:.2f}",
                "未售",
            ]
        )
    return _xlsx(lines)


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643 check digit


def _resident_id(serial: int) -> str:
    """A distinct valid resident ID per serial: a birth date counted in days from 1950, and a sequence."""
    import datetime as dt

    born = dt.date(1950, 1, 1) + dt.timedelta(days=serial // 900)
    body = f"310115{born:%Y%m%d}{serial % 900 + 100:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def _owners_project(admin: Any, run: int) -> str:
    """A project with 10,000 units already entered (in bulk: not what is measured) for the owners to own."""
    from decimal import Decimal

    from modules.estate.models import Building, Project, Unit

    project = Project.objects.create(name=f"业主花园{run}", code=f"yezhu{run}")
    buildings = Building.objects.bulk_create([Building(project=project, name=f"{n}栋") for n in range(1, 51)])
    Unit.objects.bulk_create(
        [
            Unit(
                project=project,
                building=building,
                number=f"{i // 4 + 1}{i % 4 + 1:02d}",
                floor=i // 4 + 1,
                floor_area=Decimal("89.50"),
            )
            for building in buildings
            for i in range(200)
        ],
        batch_size=5000,
    )
    return project.code


def _owners_file(code: str, rows: int) -> bytes:
    """One owner per unit, each with a resident ID (validated, encrypted, indexed) and a mobile number;
    one in four also lives in the unit."""
    lines: list[list[Any]] = [
        [
            "项目编码",
            "楼栋",
            "房号",
            "业主姓名",
            "手机",
            "邮箱",
            "证件类型",
            "证件号码",
            "产权份额",
            "产权起始日",
            "产权证号",
            "是否自住",
        ]
    ]
    first = int(code.removeprefix("yezhu")) * 1_000_000  # each run's owners are new people
    for index in range(rows):
        building, within = divmod(index, 200)
        lines.append(
            [
                code,
                f"{building + 1}栋",
                f"{within // 4 + 1}{within % 4 + 1:02d}",
                f"业主{index}",
                f"139{index:08d}",
                "",
                "身份证",
                _resident_id(first + index),
                "100",
                "2021-06-01",
                "",
                "是" if index % 4 == 0 else "否",
            ]
        )
    return _xlsx(lines)


CASES = [
    Case("buildings_units", "buildings + units", _units_project, _units_file),
    Case("owners", "owners + ownership", _owners_project, _owners_file),
]


# ------------------------------------------------------------------------------------------ the benchmark
def setup() -> Any:
    from django.core.management import call_command

    from tenants import services as tenant_services
    from wuye.core.tenancy import use_public_schema

    call_command("migrate", interactive=False, verbosity=0)
    use_public_schema()
    provisioned = tenant_services.company_create(
        name="导入基准",
        slug="importbench",
        admin_email="admin@importbench.example.com",
        admin_name="Admin",
        admin_password="import-bench-password-1",  # noqa: S106 - a throw-away database
    )
    return provisioned


def run_case(case: Case, provisioned: Any, rows: int, runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.utils import translation

    from wuye.imports import services, tasks
    from wuye.imports.models import ImportBatch
    from wuye.testing.plugin import in_company

    samples: list[dict[str, float]] = []
    last = None
    with in_company(provisioned.company), translation.override("zh-hans"):
        admin = provisioned.admin
        for run in range(1, runs + 1):
            reference = case.prepare(admin, run)
            content = case.make_file(reference, rows)
            connection.close()  # every run starts on a new database session, like a request or a task
            started = time.perf_counter()
            batch = services.batch_create(by=admin, kind=case.kind, file_name="bench.xlsx", data=content)
            uploaded = time.perf_counter()
            if batch.status != "queued":
                raise RuntimeError(f"{case.kind}: the file was rejected: {batch.errors[:5]}")
            tasks.batch_write(str(batch.pk))
            written = time.perf_counter()
            batch = ImportBatch.objects.get(pk=batch.pk)
            if batch.status != "done" or batch.rows_done != rows:
                raise RuntimeError(f"{case.kind}: the batch ended {batch.status}: {batch.failure}")
            sample = {"upload": uploaded - started, "write": written - uploaded, "total": written - started}
            samples.append(sample)
            last = batch
            print(
                f"    run {run}: upload {sample['upload']:.2f} s + write {sample['write']:.2f} s "
                f"= {sample['total']:.2f} s ({batch.created_count} records, file {len(content) / 1e6:.2f} MB)",
                flush=True,
            )
        undo = None
        if last is not None:
            started = time.perf_counter()
            try:
                services.batch_undo(by=admin, batch=last)
                undo = time.perf_counter() - started
            except Exception as error:  # information only (refused near midnight, say)
                print(f"    undo not timed: {error}", flush=True)
    return {
        "samples": samples,
        "median": {part: statistics.median(sample[part] for sample in samples) for part in samples[0]},
        "undo": undo,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Import benchmark (.xlsx, end to end).")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args(argv)
    source = os.environ.get("DATABASE_URL")
    if not source:
        print("DATABASE_URL is not set: run `make bench`.", file=sys.stderr)
        return 2
    params = server_params(source)
    name = f"{params.pop('dbname')}_bench_imports"
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
        os.environ["WUYE_CACHE_PREFIX"] = os.environ.get("WUYE_CACHE_PREFIX", "wuye") + "-bench-imports"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
        import django

        django.setup()
        ready = True
        from django.conf import settings

        from wuye.imports import services

        settings.DEBUG = False  # no query log
        print("==> migrating and provisioning a company", flush=True)
        started = time.perf_counter()
        provisioned = setup()
        print(f"    done in {time.perf_counter() - started:.1f} s", flush=True)
        # The write is called directly below; the upload's on-commit queueing would only reach the broker.
        services.enqueue_on_commit = lambda *args, **kwargs: None  # type: ignore[assignment]

        results = {}
        for case in CASES:
            print(f"==> {case.label}: {options.rows:,} rows from .xlsx, {options.runs} runs", flush=True)
            results[case.label] = run_case(case, provisioned, options.rows, options.runs)

        print()
        print(f"{'import':<22} {'rows':>7} {'upload s':>9} {'write s':>8} {'total s':>8} {'rows/s':>8} {'undo s':>7}")
        total = 0.0
        for label, result in results.items():
            median = result["median"]
            total += median["total"]
            undo = f"{result['undo']:.2f}" if result["undo"] is not None else "-"
            print(
                f"{label:<22} {options.rows:>7,} {median['upload']:>9.2f} {median['write']:>8.2f} "
                f"{median['total']:>8.2f} {options.rows / median['total']:>8,.0f} {undo:>7}"
            )
        print("(medians of the runs; rows/s from the median total)")
        print()
        kinds = " + ".join(results)
        ok = total <= TARGET_SECONDS
        print(f"{'PASS' if ok else 'FAIL'}  {kinds}: {total:.2f} s <= {TARGET_SECONDS:.0f} s (median, end to end)")
        return 0 if ok else 1
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
