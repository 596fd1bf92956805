"""A bill run whose worker is killed in the middle, then resumed: in the end every account is billed exactly
once, with nothing lost and nothing twice.

Real processes throughout: a Celery worker started by this test (its own, so that it can be killed with
SIGKILL without touching the session's shared worker), the real Redis broker, the test database with
committed data. The run posts in chunks of 4 accounts (WUYE_FEES_RUN_CHUNK, read by modules.fees.runs in
the worker), each chunk its own transaction.

To stop the worker at a known point, the test holds a row lock on an account of the second chunk, in a
connection of its own: `SELECT ... FOR UPDATE`. The chunk's bills reference that account, and their foreign
keys are checked when the chunk commits (Django's keys are DEFERRABLE INITIALLY DEFERRED): the check takes
FOR KEY SHARE on the account's row, which waits for FOR UPDATE. So the worker commits chunk 1, then waits
inside chunk 2's COMMIT (with two writers, the other one commits chunk 3 meanwhile). The test sees it
waiting (pg_blocking_pids), kills the worker with SIGKILL, and waits for its database session to end
(the worker's sessions check their client every 100 ms: client_connection_check_interval, through
PGOPTIONS), which rolls chunk 2 back. Then the run is posted
again (services.run_post, as a person would, or as the task handed on to another worker would) and a fresh
worker finishes it."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

from modules.fees import runs, services
from modules.fees.models import Bill, BillLine, BillRun, EntryKind, LedgerEntry, RunStatus, Tariff
from tests.support import fees as fees_support
from wuye.core.errors import ServiceError
from wuye.testing.plugin import CompanyFixture, _test_database_url, in_company

pytestmark = [pytest.mark.committed, pytest.mark.slow]

CHUNK = 4
ACCOUNTS = 11  # chunks of 4, 4 and 3
PERIOD = dt.date(2026, 10, 1)
TIMEOUT = 60


@pytest.fixture
def alpha(committed_db: None, companies: dict[str, CompanyFixture]) -> CompanyFixture:
    return companies["alpha"]


@pytest.fixture
def site(alpha: CompanyFixture) -> Iterator[fees_support.CommittedSite]:
    """11 owned units of 80.00 m² at 2.50 a m²: 200.00 each a month."""
    made = fees_support.committed_site(alpha, units=ACCOUNTS, area="80.00", owners=True)
    try:
        with in_company(alpha):
            Tariff.objects.create(
                charge_item=fees_support.item("property"),
                project=made.project,
                unit_price=Decimal("2.50"),
                valid_from=dt.date(2026, 1, 1),
            )
        yield made
    finally:
        with in_company(alpha):
            runs_made = [str(pk) for pk in BillRun.objects.filter(project=made.project).values_list("pk", flat=True)]
            _audit_delete(runs_made)
        fees_support.committed_remove(alpha, made)


def _audit_delete(object_ids: list[str]) -> None:
    """The audit entries run_post wrote about the run (append-only: the trigger is disabled for the one
    statement, in its own transaction, as tests/imports/test_worker.py does)."""
    if not object_ids:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_append_only")
        cursor.execute("DELETE FROM core_auditentry WHERE object_id = ANY(%s)", [object_ids])
        cursor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER core_auditentry_append_only")


# ------------------------------------------------------------------------------------------ workers
class Workers:
    """Celery workers of this test, on a queue of their own; tasks queued by the test go there."""

    def __init__(self) -> None:
        self.queue = f"wuye-test-run-{uuid.uuid4().hex[:8]}"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, writers: int = 2) -> subprocess.Popen[bytes]:
        from wuye.celery import app

        node = f"{self.queue}-{len(self.processes)}@{os.uname().nodename}"
        env = {
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "WUYE_CELERY_QUEUE": self.queue,
            "WUYE_ENV": "test",
            "WUYE_FEES_RUN_CHUNK": str(CHUNK),
            "WUYE_FEES_RUN_WRITERS": str(writers),
            # A session whose client died is ended within 100 ms, even while it waits for a lock.
            "PGOPTIONS": "-c client_connection_check_interval=100",
        }
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "wuye.celery", "worker", "--pool=solo", "-Q", self.queue,
                "-l", "WARNING", "-n", node, "--without-heartbeat", "--without-gossip", "--without-mingle",
            ],
            env=env,
        )  # fmt: skip
        self.processes.append(process)
        deadline = time.monotonic() + TIMEOUT
        while not app.control.ping(destination=[node], timeout=0.5):
            assert process.poll() is None, "the Celery worker exited at start-up"
            assert time.monotonic() < deadline, "the Celery worker did not answer"
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(15)

    def forget_unacked(self) -> None:
        """The killed worker's task was never acknowledged (acks_late): Redis keeps it to hand it on once its
        visibility timeout passes. This test has handed the run on itself; drop the stale delivery so that no
        later worker picks it up, and the queue's own keys."""
        broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        for tag, raw in broker.hgetall("unacked").items():
            if self.queue.encode() in raw:
                broker.hdel("unacked", tag)
                broker.zrem("unacked_index", tag)
        broker.delete(self.queue, f"_kombu.binding.{self.queue}", f"_kombu.binding_permanent.{self.queue}")


@pytest.fixture
def workers() -> Iterator[Workers]:
    from wuye.celery import app

    made = Workers()
    previous = app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = made.queue
    try:
        yield made
    finally:
        app.conf.task_default_queue = previous
        app.conf.task_always_eager = True
        made.stop()
        made.forget_unacked()


# ------------------------------------------------------------------------------------------ the test
def _run_state(run: BillRun) -> tuple[str, int]:
    return BillRun.objects.get(pk=run.pk).status, Bill.objects.filter(run=run).count()


def _blocked_by(cursor: Any, holder: int) -> int | None:
    cursor.execute("SELECT pid, query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [holder])
    row = cursor.fetchone()
    return row[0] if row else None


@pytest.mark.parametrize("writers", [1, 2])
def test_a_run_killed_in_the_middle_resumes_without_duplicates(
    alpha: CompanyFixture, site: fees_support.CommittedSite, workers: Workers, writers: int
) -> None:
    """With one writer, chunk 1 is committed when the worker dies in chunk 2; with two (threads, each its
    own session), the other writer goes on to chunk 3 meanwhile, so chunks 1 and 3 are there, 2 is not."""
    with in_company(alpha):
        admin = alpha.admin()
        plan = runs.plan_make(project_id=site.project.pk, period=PERIOD)
        # The plan the worker will post, in its order (by account): 11 bills of 80.00 × 2.50 = 200.00.
        assert len(plan.bills) == ACCOUNTS
        assert {bill.amount for bill in plan.bills} == {Decimal("200.00")}
        order = [bill.account_id for bill in plan.bills]
        held = order[CHUNK]  # the first account of the second chunk
        committed = order[:CHUNK] if writers == 1 else order[:CHUNK] + order[2 * CHUNK :]
        run = BillRun.objects.create(project=site.project, period=PERIOD, created_by=admin)

    lock = psycopg.connect(_test_database_url())
    try:
        with lock.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            holder = cursor.fetchone()[0]
            cursor.execute(f'SELECT id FROM "{site.schema}".fees_account WHERE id = %s FOR UPDATE', [held])
        first = workers.start(writers)
        with in_company(alpha):
            services.run_post(by=admin, run=run)  # commits, then queues the task for the worker

        # The worker posts chunk 1 and waits inside chunk 2 for the lock.
        deadline = time.monotonic() + TIMEOUT
        with connection.cursor() as cursor:
            while (waiting := _blocked_by(cursor, holder)) is None:
                assert first.poll() is None, "the worker died"
                assert time.monotonic() < deadline, f"the worker never reached chunk 2: {_run_state(run)}"
                time.sleep(0.05)
        with in_company(alpha):
            while _run_state(run) != (RunStatus.POSTING, len(committed)):  # the other writer may still be busy
                assert time.monotonic() < deadline, f"expected {len(committed)} bills: {_run_state(run)}"
                time.sleep(0.05)

        first.send_signal(signal.SIGKILL)
        assert first.wait(TIMEOUT) == -signal.SIGKILL
        # Its database session ends with it (and rolls chunk 2 back), though it was waiting for a lock.
        deadline = time.monotonic() + TIMEOUT
        with connection.cursor() as cursor:
            while True:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [waiting])
                if cursor.fetchone()[0] == 0:
                    break
                assert time.monotonic() < deadline, "the killed worker's session is still there"
                time.sleep(0.05)
    finally:
        lock.rollback()
        lock.close()

    with in_company(alpha):
        # Half-way: the committed chunks' bills, lines and charges are there, complete; nothing of chunk 2;
        # still posting.
        assert _run_state(run) == (RunStatus.POSTING, len(committed))
        assert set(Bill.objects.filter(run=run).values_list("account_id", flat=True)) == set(committed)
        assert BillLine.objects.filter(bill__run=run).count() == len(committed)
        assert LedgerEntry.objects.filter(line__bill__run=run, kind=EntryKind.CHARGE).count() == len(committed)
        partial = set(Bill.objects.filter(run=run).values_list("pk", flat=True))

        # Resumed: posted again, to a fresh worker.
        workers.start()
        services.run_post(by=admin, run=run)
        deadline = time.monotonic() + TIMEOUT
        while _run_state(run)[0] != RunStatus.POSTED:
            assert _run_state(run)[0] == RunStatus.POSTING, _run_state(run)
            assert time.monotonic() < deadline, f"the resumed run did not finish: {_run_state(run)}"
            time.sleep(0.1)

        run.refresh_from_db()
        bills = Bill.objects.filter(period=PERIOD, account__project=site.project)
        # Every account billed exactly once: as many bills as the plan, one per account, all of this run.
        assert bills.count() == len(plan.bills) == ACCOUNTS
        assert set(bills.values_list("account_id", flat=True)) == set(order)
        assert not bills.values("account_id").annotate(n=Count("id")).filter(n__gt=1).exists()
        assert set(bills.values_list("run_id", flat=True)) == {run.pk}
        # The committed chunks' bills were kept, not made again.
        assert partial <= set(bills.values_list("pk", flat=True))
        # One line and one charge entry per bill, each of 200.00.
        lines = BillLine.objects.filter(bill__run=run)
        charges = LedgerEntry.objects.filter(line__bill__run=run, kind=EntryKind.CHARGE)
        assert lines.count() == charges.count() == ACCOUNTS
        assert set(charges.values_list("line_id", flat=True)) == set(lines.values_list("pk", flat=True))
        assert {entry.amount for entry in charges} == {Decimal("200.00")}
        assert LedgerEntry.objects.filter(account__project=site.project).count() == ACCOUNTS
        # The run's totals: 11 bills, 11 × 200.00 = 2,200.00.
        assert (run.status, run.bill_count, run.total) == (RunStatus.POSTED, ACCOUNTS, Decimal("2200.00"))
        assert run.posted_at is not None and run.error == ""
        # And posting it once more is refused; the worker's task delivered again adds nothing.
        with pytest.raises(ServiceError):
            services.run_post(by=admin, run=run)
        assert services.run_execute(run_id=run.pk).bill_count == ACCOUNTS
        assert bills.count() == ACCOUNTS
