"""`make bench`: how long provisioning a company takes, by the three ways of producing its schema.

Run through `make bench` (infra/bench.sh): `wuye services` provides DATABASE_URL and REDIS_URL. The
benchmark never touches the database DATABASE_URL names: it creates `<name>_bench` on the same server,
migrates it, works there, and drops it at the end (also after a failure or Ctrl-C).

What is measured
----------------
Every sample is one call of `tenants.services.company_create` (wall clock around the call): slug and
settings checks, the schema, the company and domain rows, the seeders, the first administrator (invited,
no password) and the commit. Only the way the schema is produced differs between the variants, because
the benchmark swaps `tenants.services._schema_provide` (the one function company_create calls for it)
for the duration of each call; the rows, the seeding and the administrator are therefore identical:

  pool        the application's own `_schema_provide` with spares in the pool: ALTER SCHEMA ... RENAME.
  dt-clone    django-tenants' `Company.create_schema()` with TENANT_CREATION_FAKES_MIGRATIONS=True:
              clone of TENANT_BASE_SCHEMA (its clone_schema() SQL function) + `migrate_schemas --fake`.
  dt-migrate  django-tenants' `Company.create_schema()` with TENANT_CREATION_FAKES_MIGRATIONS=False:
              CREATE SCHEMA + every tenant migration replayed.
  app-clone   (information) the application's own fallback when the pool is empty: clone of the
              template without `migrate --fake` (`_spare_take` answers "no spare" during the call).

Order: warm-up (one untimed provisioning per variant, and a check that the four schemas have the same
tables, rows, indexes and constraints), phase A (pool, with a handful of companies present), the fill
(companies added until --companies exist, through the application's fallback clone), phase B (all variants,
interleaved round by round in a rotating order so that drift hits them alike, with --companies and more
present), then a breakdown: a few more pool provisionings, instrumented (timers around the steps of
company_create, a statement counter), kept out of the table so that the timed calls run uninstrumented.

After-commit work (checked, not assumed)
----------------------------------------
company_create's `transaction.atomic()` is the outermost block here, so its on_commit callbacks run when
it commits, *inside* the timed call. They queue Celery tasks (the invitation e-mail; after a pool
provisioning, the pool refill), exactly as in production: sent to the real Redis broker, on a queue of
this run's own that no worker reads and that is deleted at the end. So a sample pays the broker round
trips a web request pays, and no e-mail is rendered and no refill runs inside it (the pool is filled by
the benchmark itself, untimed, before each phase). The "after-commit" column is their median cost,
measured by wrapping the connection's run_and_clear_commit_hooks; the report gives the number of tasks
the queue received, checked against the number expected.

One database session per provisioning
-------------------------------------
Before each provisioning (untimed) the benchmark closes Django's connection; the next query opens a new
session. Measured on this project: the first statement after a transaction that created a schema (clone or
migrations) makes PostgreSQL reset the session's catalog caches, which costs in proportion to everything
that session ever touched; in a session that had itself made 20-40 schemas that was already 120-180 ms per
provisioning, growing with each one. That is an artefact of a benchmark that builds hundreds of schemas in
one session (the web process that provisions in production does not), and it would inflate the clone and
migrate figures, so each sample gets a fresh session. The price, a cold cache for the public tables the
provisioning reads, falls on every variant alike. `--reuse-connection` measures the other way.

Targets (the issue): pool median <= 100 ms; pool at least 10x faster than replaying migrations (medians of
phase B); "not slower with 200 companies present" is taken as: pool median of phase B <= 1.5x the pool
median of phase A (1.5 absorbs run-to-run noise of a few milliseconds). Exit status 1 when a target fails
or the variants' schemas differ; everything is printed either way.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import signal
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

POOL_TARGET_MS = 100.0
MIGRATE_SPEEDUP_TARGET = 10.0
POOL_SLOWDOWN_LIMIT = 1.5

VARIANTS: dict[str, str] = {
    "pool": "pool: rename a spare",
    "dt-clone": "django-tenants clone + migrate --fake",
    "dt-migrate": "django-tenants CREATE SCHEMA + migrate",
    "app-clone": "app fallback clone (info)",
}
# The method company_create records for each variant (CompanyEvent.details, Provisioned.method).
METHODS = {"pool": "pool", "dt-clone": "clone", "dt-migrate": "migrate", "app-clone": "clone"}


# ------------------------------------------------------------------------------------------ database
def server_params(url: str) -> dict[str, Any]:
    """psycopg connection parameters for the server of `url` (the host may be a percent-encoded socket dir)."""
    import dj_database_url

    parsed = dj_database_url.parse(url)
    params: dict[str, Any] = {"dbname": parsed["NAME"]}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password")):
        if parsed.get(key):
            params[name] = parsed[key]
    params.update(parsed.get("OPTIONS") or {})
    return params


def bench_url(url: str, name: str) -> str:
    """`url` with its database name replaced; everything else (credentials, socket host, query) kept."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(name, safe="")))


def _server(params: dict[str, Any]) -> Any:
    import psycopg

    last: Exception | None = None
    for maintenance in ("postgres", "template1"):
        try:
            return psycopg.connect(**{**params, "dbname": maintenance}, autocommit=True)
        except psycopg.OperationalError as exc:
            last = exc
    assert last is not None
    raise last


def database_create(params: dict[str, Any], name: str) -> None:
    from psycopg import sql

    with _server(params) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            print(f"note: dropping {name}, left behind by an interrupted run", flush=True)
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_drop(params: dict[str, Any], name: str) -> None:
    from psycopg import sql

    with _server(params) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# ------------------------------------------------------------------------------------------ figures
@dataclass
class Sample:
    wall: float  # seconds, around company_create
    after_commit: float  # seconds spent in on_commit callbacks inside the call
    companies_before: int


@dataclass
class Series:
    variant: str
    phase: str
    samples: list[Sample] = field(default_factory=list)

    def ms(self, attribute: str = "wall") -> list[float]:
        return [getattr(sample, attribute) * 1000 for sample in self.samples]

    @property
    def median(self) -> float:
        return statistics.median(self.ms())

    @property
    def p90(self) -> float:
        values = self.ms()
        return statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]

    @property
    def companies(self) -> str:
        counts = [sample.companies_before for sample in self.samples]
        return f"{min(counts)}-{max(counts)}"


class BenchQueue:
    """The Celery queue of this run: on the real broker, read by no worker, deleted at the end."""

    def __init__(self, broker_url: str) -> None:
        import redis

        self.name = f"wuye-bench-{os.getpid()}"
        self.client = redis.Redis.from_url(broker_url)

    def length(self) -> int:
        return int(self.client.llen(self.name))

    def delete(self) -> None:
        # kombu keeps the messages in a list named after the queue (one per priority step) and the
        # queue's bindings in sets named `_kombu.binding.<exchange>`.
        for key in self.client.scan_iter(match=f"{self.name}*"):
            self.client.delete(key)
        for key in self.client.scan_iter(match="_kombu.binding.*"):
            for member in self.client.smembers(key):
                if self.name.encode() in member:
                    self.client.srem(key, member)


# ------------------------------------------------------------------------------------------ the benchmark
class Bench:
    def __init__(self, options: argparse.Namespace, database: str) -> None:
        from django.conf import settings
        from django.db import connection

        from tenants import services

        self.options = options
        self.database = database
        self.settings = settings
        self.services = services
        self.connection = connection
        self.original_provide = services._schema_provide
        self.original_take = services._spare_take
        self.in_timed_call = False
        self.queue = BenchQueue(settings.CELERY_BROKER_URL)
        self.tasks_expected = 0
        self.after_commit = 0.0
        self.timed = 0
        self.migrations = 0
        self.series: dict[tuple[str, str], Series] = {}
        self.providers: dict[str, Callable[[str], str]] = {
            "pool": self._provide_pool,
            "dt-clone": self._provide_dt_clone,
            "dt-migrate": self._provide_dt_migrate,
            "app-clone": self._provide_app_clone,
        }

    # ---------------------------------------------------------------- set-up
    def configure(self) -> None:
        from wuye.celery import app

        self.settings.DEBUG = False  # no query log
        app.conf.task_always_eager = False
        app.conf.task_default_queue = self.queue.name  # tasks are sent, never run (see the docstring)

        wrapper = self.connection
        original_hooks = wrapper.run_and_clear_commit_hooks

        def timed_hooks() -> None:
            started = time.perf_counter()
            try:
                original_hooks()
            finally:
                self.after_commit += time.perf_counter() - started

        wrapper.run_and_clear_commit_hooks = timed_hooks

    # ---------------------------------------------------------------- the four ways to a schema
    def _provide_pool(self, schema_name: str) -> str:
        method = self.original_provide(schema_name)
        if method != "pool":
            raise RuntimeError(f"the pool variant got no spare (company_create fell back to {method})")
        return method

    def _create_schema(self, schema_name: str) -> None:
        from tenants.models import Company

        Company(schema_name=schema_name).create_schema(check_if_exists=False, sync_schema=True, verbosity=0)

    def _provide_dt_clone(self, schema_name: str) -> str:
        self._create_schema(schema_name)
        return "clone"

    def _provide_dt_migrate(self, schema_name: str) -> str:
        self._create_schema(schema_name)
        return "migrate"

    def _provide_app_clone(self, schema_name: str) -> str:
        self.services._spare_take = lambda: None
        try:
            method = self.original_provide(schema_name)
        finally:
            self.services._spare_take = self.original_take
        if method != "clone":
            raise RuntimeError(f"the application's fallback did not clone the template ({method})")
        return method

    # ---------------------------------------------------------------- one provisioning
    def company_count(self) -> int:
        from tenants.models import Company

        self.services.use_public_schema()
        return Company.objects.count()

    def provision(self, variant: str, slug: str) -> Sample:
        self.settings.TENANT_CREATION_FAKES_MIGRATIONS = variant != "dt-migrate"
        self.services._schema_provide = self.providers[variant]
        if not self.options.reuse_connection:
            self.connection.close()  # untimed; the count below opens the next session (see the docstring)
        before = self.company_count()
        gc.collect()  # untimed: a collection should not land in one sample by chance
        self.after_commit = 0.0
        self.in_timed_call = True
        started = time.perf_counter()
        try:
            result = self.services.company_create(
                name=f"Bench {slug}",
                slug=slug,
                admin_email=f"admin@{slug}.example.com",
                admin_name="Bench Admin",
            )
            wall = time.perf_counter() - started
        finally:
            self.in_timed_call = False
            self.services._schema_provide = self.original_provide
            self.settings.TENANT_CREATION_FAKES_MIGRATIONS = True
        if result.method != METHODS[variant]:
            raise RuntimeError(f"{slug}: variant {variant} recorded method {result.method}")
        self.tasks_expected += 2 if variant == "pool" else 1  # the invitation; the refill after a pool one
        self.timed += 1
        return Sample(wall=wall, after_commit=self.after_commit, companies_before=before)

    def record(self, variant: str, phase: str, slug: str) -> None:
        series = self.series.setdefault((variant, phase), Series(variant=variant, phase=phase))
        series.samples.append(self.provision(variant, slug))

    def spares_fill(self, count: int) -> None:
        method = self.settings.SPARE_METHOD  # as the refill task makes them
        started = time.perf_counter()
        for _ in range(count):
            self.services.spare_create(method=method)
        seconds = time.perf_counter() - started
        print(
            f"    {count} spares made by {method} in {seconds:.1f} s ({seconds / max(count, 1):.2f} s each, untimed)",
            flush=True,
        )

    def spare_count(self) -> int:
        from tenants.models import PooledSchema, PooledSchemaKind

        self.services.use_public_schema()
        return PooledSchema.objects.filter(kind=PooledSchemaKind.SPARE).count()

    def breakdown(self, count: int) -> list[tuple[str, float]]:
        """`count` more pool provisionings with a timer around each step of company_create and a statement
        counter; returns (step, median ms) rows. Not part of the table: instrumented calls are not timed ones."""
        from wuye.accounts import services as account_services

        spent: dict[str, float] = {}
        statements = {"all": 0, "SET search_path": 0}

        def timer(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
            def timed(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

            return timed

        def counter(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            if self.in_timed_call:
                statements["all"] += 1
                statements["SET search_path"] += sql.startswith("SET search_path")
            return execute(sql, params, many, context)

        patched = [
            (self.services, "_check_settings", "settings check"),
            (self.services, "slug_check", "slug check"),
            (self.services, "run_seeders", "seeders (run_seeders)"),
            (account_services, "user_invite", "first administrator (user_invite)"),
        ]
        originals = [(owner, attribute, getattr(owner, attribute)) for owner, attribute, _ in patched]
        pool_provider = self.providers["pool"]
        rows: dict[str, list[float]] = {}
        self.spares_fill(count)
        try:
            for owner, attribute, label in patched:
                setattr(owner, attribute, timer(label, getattr(owner, attribute)))
            self.providers["pool"] = timer("schema (spare taken, renamed, its row deleted)", pool_provider)
            with self.connection.execute_wrapper(counter):
                for index in range(1, count + 1):
                    spent.clear()
                    statements.update({"all": 0, "SET search_path": 0})
                    sample = self.provision("pool", f"bench-parts-{index:03d}")
                    spent["after-commit callbacks (tasks sent to the broker)"] = sample.after_commit
                    spent["rest: plan, company, domain, event rows, commit"] = (
                        sample.wall - sum(spent.values()) if spent else sample.wall
                    )
                    spent["total"] = sample.wall
                    for label, seconds in spent.items():
                        rows.setdefault(label, []).append(seconds * 1000)
                    rows.setdefault("#statements", []).append(statements["all"])
                    rows.setdefault("#set", []).append(statements["SET search_path"])
        finally:
            for owner, attribute, original in originals:
                setattr(owner, attribute, original)
            self.providers["pool"] = pool_provider
        return [(label, statistics.median(values)) for label, values in rows.items()]

    # ---------------------------------------------------------------- facts about the schemas
    def schema_shape(self, schema: str) -> dict[str, Any]:
        """What the variants must agree on: tables and their row counts, index and constraint definitions
        (names left out, compared apart: django-tenants' clone renames some unique constraints)."""
        import re

        from tenants.schemas import quote as q

        def neutral(text: str) -> str:
            return text.replace(q(schema) + ".", "<schema>.").replace(schema + ".", "<schema>.")

        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY 1",
                [schema],
            )
            rows = {}
            for (table,) in cursor.fetchall():
                # Identifiers come from the catalog and are quoted.
                cursor.execute(f"SELECT count(*) FROM {q(schema)}.{q(table)}")  # noqa: S608
                rows[table] = cursor.fetchone()[0]
            cursor.execute(
                "SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind NOT IN ('r', 'p') ORDER BY 1, 2",
                [schema],
            )
            others = [(str(kind), name) for kind, name in cursor.fetchall()]
            cursor.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %s", [schema])
            indexes = [
                (table, name, neutral(re.sub(r"INDEX \S+ ON ", "INDEX ON ", definition)))
                for table, name, definition in cursor.fetchall()
            ]
            cursor.execute(
                "SELECT t.relname, k.conname, k.contype, pg_get_constraintdef(k.oid) FROM pg_constraint k "
                "JOIN pg_namespace n ON n.oid = k.connamespace JOIN pg_class t ON t.oid = k.conrelid "
                "WHERE n.nspname = %s",
                [schema],
            )
            constraints = [(table, name, str(kind), neutral(text)) for table, name, kind, text in cursor.fetchall()]
        return {
            "rows": rows,
            "sequences": sorted(name for kind, name in others if kind == "S"),
            "indexes": sorted((table, definition) for table, _, definition in indexes),
            "constraints": sorted((table, kind, text) for table, _, kind, text in constraints),
            # (what, name) -> (table, definition): to pair a renamed index or constraint with its original
            "named": {("index", name): (table, definition) for table, name, definition in indexes}
            | {("constraint", name): (table, kind + text) for table, name, kind, text in constraints},
        }

    def warm_up(self) -> tuple[bool, dict[str, list[str]]]:
        """One untimed provisioning per variant (first-call costs: imports, templates, the clone function),
        then a check that the four ways give the same schema. Returns (same, variant -> names that differ)."""
        self.spares_fill(1)
        shapes = {}
        for variant in VARIANTS:
            slug = f"bench-warm-{variant.replace('-', '')}"
            self.provision(variant, slug)
            shapes[variant] = self.schema_shape(self.services.schema_for(slug))
        reference = shapes["dt-migrate"]
        self.migrations = reference["rows"].get("django_migrations", 0)
        print(
            f"    tenant schema: {self.migrations} migrations, {len(reference['rows'])} tables, "
            f"{len(reference['indexes'])} indexes, {len(reference['sequences'])} sequences, "
            f"{len(reference['constraints'])} constraints, {sum(reference['rows'].values())} rows after seeding",
            flush=True,
        )
        same = True
        renames: dict[tuple[tuple[str, str], ...], list[str]] = {}
        for variant, shape in shapes.items():
            for key in ("rows", "sequences", "indexes", "constraints"):
                if shape[key] != reference[key]:
                    same = False
                    print(f"    {variant} differs from dt-migrate in {key}", flush=True)
            by_definition = {(what, facts): name for (what, name), facts in shape["named"].items()}
            pairs = {
                (name, by_definition.get((what, facts), "?"))
                for (what, name), facts in reference["named"].items()
                if (what, name) not in shape["named"]
            }
            if pairs:
                renames.setdefault(tuple(sorted(pairs)), []).append(variant)
        renamed: dict[str, list[str]] = {}
        for pairs, variants in renames.items():
            for variant in variants:
                renamed[variant] = sorted(old for old, _ in pairs)
            print(
                f"    {', '.join(variants)}: {len(pairs)} index/constraint names differ from a migrated schema's "
                f"(same definitions):",
                flush=True,
            )
            for old, new in pairs:
                print(f"      {old}  ->  {new}", flush=True)
        return same, renamed

    def environment(self) -> None:
        import django
        import django_tenants

        with self.connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server_version = cursor.fetchone()[0]
        try:
            from importlib.metadata import version

            tenants_version = version("django-tenants")
        except Exception:
            tenants_version = getattr(django_tenants, "__version__", "?")
        print(
            f"    Python {platform.python_version()}, Django {django.get_version()}, django-tenants "
            f"{tenants_version}, PostgreSQL {server_version}",
            flush=True,
        )
        print(f"    {platform.platform()}, {os.cpu_count()} CPUs, database {self.database}", flush=True)

    # ---------------------------------------------------------------- the run
    def run(self) -> int:
        from django.core.management import call_command

        runs, target_companies = self.options.runs, self.options.companies
        self.configure()
        total = time.perf_counter()

        print(f"==> migrating {self.database} (public schema and template)", flush=True)
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        self.services.use_public_schema()
        self.services.template_ensure()
        print(f"    done in {time.perf_counter() - started:.1f} s", flush=True)
        self.environment()

        print("==> warm-up: one untimed provisioning per variant, schemas compared", flush=True)
        same, renamed = self.warm_up()
        print(
            f"    the four variants give the same tables, rows, indexes and constraints: {'yes' if same else 'NO'}",
            flush=True,
        )

        print(f"==> phase A: {runs} provisionings from the pool, {self.company_count()} companies present", flush=True)
        self.spares_fill(runs)
        for index in range(1, runs + 1):
            self.record("pool", "A", f"bench-a-pool-{index:03d}")

        missing = max(0, target_companies - self.company_count())
        print(
            f"==> fill: {missing} companies added (application fallback clone) to reach {target_companies}",
            flush=True,
        )
        if self.spare_count():
            raise RuntimeError("the pool should be empty before the fill")
        started = time.perf_counter()
        for index in range(1, missing + 1):
            self.provision("app-clone", f"bench-fill-{index:04d}")
            if index % 50 == 0 or index == missing:
                print(
                    f"    {index}/{missing} ({self.company_count()} companies, {time.perf_counter() - started:.0f} s)",
                    flush=True,
                )

        print(
            f"==> phase B: {runs} rounds of {', '.join(VARIANTS)} in rotating order, "
            f"{self.company_count()} companies present",
            flush=True,
        )
        self.spares_fill(runs)
        order = list(VARIANTS)
        for index in range(1, runs + 1):
            shift = (index - 1) % len(order)
            for variant in order[shift:] + order[:shift]:
                self.record(variant, "B", f"bench-b-{variant.replace('-', '')}-{index:03d}")
        parts_count = min(runs, 10)
        print(f"==> breakdown: {parts_count} more pool provisionings, instrumented", flush=True)
        parts = self.breakdown(parts_count)
        print(
            f"    {self.company_count()} companies, {self.spare_count()} spares left; "
            f"total time {time.perf_counter() - total:.0f} s",
            flush=True,
        )
        return self.report(same, renamed, parts)

    # ---------------------------------------------------------------- the report
    def report(self, same: bool, renamed: dict[str, list[str]], parts: list[tuple[str, float]]) -> int:
        queued = self.queue.length()
        rows = [("pool", "A"), ("pool", "B"), ("dt-clone", "B"), ("dt-migrate", "B"), ("app-clone", "B")]
        print()
        print(
            f"{'variant':<40} {'phase':<5} {'companies':>9} {'n':>3} {'median ms':>10} {'p90 ms':>8} "
            f"{'min ms':>8} {'max ms':>8} {'after-commit ms':>16}"
        )
        for variant, phase in rows:
            series = self.series[(variant, phase)]
            values = series.ms()
            print(
                f"{VARIANTS[variant]:<40} {phase:<5} {series.companies:>9} {len(values):>3} {series.median:>10.1f} "
                f"{series.p90:>8.1f} {min(values):>8.1f} {max(values):>8.1f} "
                f"{statistics.median(series.ms('after_commit')):>16.1f}"
            )
        pool_a = self.series[("pool", "A")].median
        pool_b = self.series[("pool", "B")].median
        clone = self.series[("dt-clone", "B")].median
        migrate = self.series[("dt-migrate", "B")].median
        app_clone = self.series[("app-clone", "B")].median
        print()
        print(f"migrate / pool (phase B):   {migrate / pool_b:6.1f}x")
        print(f"clone / pool (phase B):     {clone / pool_b:6.1f}x")
        print(f"app clone / pool (phase B): {app_clone / pool_b:6.1f}x")
        print(f"pool B / pool A:            {pool_b / pool_a:6.2f}x")
        print()
        print(
            f"Wall clock around company_create, commit included. after-commit: on_commit callbacks that ran inside "
            f"the timed call: Celery tasks sent to the broker ({queued} on this run's queue for {self.timed} "
            f"provisionings, {self.tasks_expected} expected). Migrations in a tenant schema: {self.migrations}."
        )
        print()
        print(f"Where a pool provisioning's time goes (medians of {min(self.options.runs, 10)} instrumented calls):")
        counts = dict(parts)
        for label, value in parts:
            if not label.startswith("#"):
                print(f"  {label:<52} {value:7.1f} ms")
        print(
            f"  SQL statements per provisioning: {counts['#statements']:.0f}, "
            f"of which SET search_path: {counts['#set']:.0f}"
        )
        print()
        checks = [
            (
                f"pool median <= {POOL_TARGET_MS:.0f} ms (A {pool_a:.1f} ms, B {pool_b:.1f} ms)",
                max(pool_a, pool_b) <= POOL_TARGET_MS,
            ),
            (
                f"pool >= {MIGRATE_SPEEDUP_TARGET:.0f}x faster than replaying migrations "
                f"({migrate / pool_b:.1f}x, phase B)",
                migrate / pool_b >= MIGRATE_SPEEDUP_TARGET,
            ),
            (
                f"pool not slower with {self.options.companies} companies present: median B <= "
                f"{POOL_SLOWDOWN_LIMIT}x median A ({pool_b / pool_a:.2f}x)",
                pool_b <= POOL_SLOWDOWN_LIMIT * pool_a,
            ),
            ("the variants produce the same schema (tables, rows, index and constraint definitions)", same),
            (
                f"every provisioning queued its tasks on the broker ({queued} of {self.tasks_expected})",
                queued == self.tasks_expected,
            ),
            (
                "the application's schemas (pool, app fallback clone) have the constraint names migrations give",
                not renamed.get("pool") and not renamed.get("app-clone"),
            ),
        ]
        for text, passed in checks:
            print(f"{'PASS' if passed else 'FAIL'}  {text}")
        if renamed.get("dt-clone"):
            print(
                f"NOTE  django-tenants' own clone gives {len(renamed['dt-clone'])} constraints other names than "
                f"migrations do (e.g. {renamed['dt-clone'][0]}); the application renames them after its clones"
            )
        return 0 if all(passed for _, passed in checks) else 1


# ------------------------------------------------------------------------------------------ entry point
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Provisioning benchmark: warm pool vs clone vs migrations.")
    parser.add_argument("--companies", type=int, default=200, help="Companies present in phase B (default 200).")
    parser.add_argument("--runs", type=int, default=20, help="Provisionings per variant and phase (default 20).")
    parser.add_argument(
        "--reuse-connection",
        action="store_true",
        help="Keep one database session for the whole run instead of a new one before each provisioning.",
    )
    options = parser.parse_args(argv)
    if options.runs < 1 or options.companies < 0:
        parser.error("--runs must be at least 1 and --companies at least 0")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    source = os.environ.get("DATABASE_URL")
    if not source:
        print("DATABASE_URL is not set: run `make bench` (it starts the servers and sets it).", file=sys.stderr)
        return 2
    params = server_params(source)
    name = f"{params.pop('dbname')}_bench"
    if len(name) > 63:
        print(f"database name {name!r} is longer than PostgreSQL's 63 characters", file=sys.stderr)
        return 2
    # A terminated run still drops its database (SystemExit unwinds through the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    where = params.get("host", "localhost") + (f":{params['port']}" if params.get("port") else "")
    print(f"==> creating database {name} on {where}", flush=True)
    database_create(params, name)
    django_ready = False
    try:
        os.environ["DATABASE_URL"] = bench_url(source, name)
        os.environ["WUYE_EMAIL_URL"] = "locmem:"
        os.environ["WUYE_CELERY_EAGER"] = "false"
        os.environ["WUYE_CACHE_PREFIX"] = os.environ.get("WUYE_CACHE_PREFIX", "wuye") + "-bench"
        os.environ.setdefault("WUYE_ENV", "test")
        os.environ.setdefault("WUYE_LOG_LEVEL", "WARNING")  # one INFO line per company otherwise
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
        import django

        django.setup()
        django_ready = True
        from django.conf import settings

        configured = settings.DATABASES["default"]["NAME"]
        if configured != name:
            raise RuntimeError(f"Django points at {configured!r}, not at the benchmark's {name!r}")
        bench = Bench(options, name)
        try:
            return bench.run()
        finally:
            bench.queue.delete()
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        if django_ready:
            from django.db import connections

            connections.close_all()
        database_drop(params, name)
        print(f"==> dropped database {name}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
