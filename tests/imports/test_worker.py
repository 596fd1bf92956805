"""Imports written by a real Celery worker (its own process, the real Redis broker, committed data), and
the progress of a batch read by another connection while the writing transaction is still open.

These tests commit what they make; each removes it at the end (the audit log refuses DELETE by a
trigger, which the clean-up disables for its own statement, in its own transaction)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction

from modules.estate.models import Building, Project, Unit, Zone
from tests.support.imports import UNIT_HEADERS_ZH, unit_rows, upload, xlsx
from wuye.accounts import services as account_services
from wuye.accounts.models import ApiToken
from wuye.core.models import AuditEntry
from wuye.imports import registry, services
from wuye.imports.models import ImportBatch
from wuye.testing.plugin import CompanyFixture, in_company

pytestmark = [pytest.mark.committed]


@dataclass
class Committed:
    company: CompanyFixture
    project: Project
    token: str


@pytest.fixture
def committed(committed_db: None, companies: dict[str, CompanyFixture]) -> Iterator[Committed]:
    company = companies["alpha"]
    code = f"w{uuid.uuid4().hex[:8]}"
    with in_company(company):
        # Made directly (no audit entry to clean up): the test is about the import, not the project.
        project = Project.objects.create(name=f"Worker {code}", code=code)
        token, raw = account_services.api_token_create(user=company.admin(), name="worker test")
    try:
        yield Committed(company=company, project=project, token=raw)
    finally:
        with in_company(company):
            batches = list(ImportBatch.objects.filter(created_by=company.admin(), file_name__startswith=code))
            Unit.objects.filter(project=project).delete()
            Building.objects.filter(project=project).delete()
            Zone.objects.filter(project=project).delete()
            _audit_delete([batch.pk for batch in batches])
            ImportBatch.objects.filter(pk__in=[batch.pk for batch in batches]).delete()
            project.delete()
            ApiToken.objects.filter(pk=token.pk).delete()


def _audit_delete(batch_ids: list[Any]) -> None:
    if not batch_ids:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_append_only")
        cursor.execute("DELETE FROM core_auditentry WHERE batch = ANY(%s)", [batch_ids])
        cursor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER core_auditentry_append_only")


@pytest.fixture
def worker_queue(celery_worker) -> Iterator[str]:
    """Tasks queued without a queue (as the import's on-commit hook queues its task) go to the worker's."""
    from wuye.celery import app

    previous = app.conf.task_default_queue
    app.conf.task_default_queue = celery_worker.queue
    try:
        yield celery_worker.queue
    finally:
        app.conf.task_default_queue = previous


def test_a_clean_import_is_written_by_the_worker_with_progress_and_undone(
    committed: Committed, worker_queue: str, api_client
) -> None:
    client = api_client(committed.company, committed.token)
    code = committed.project.code
    rows = [*unit_rows(code, 200, building="1栋", zone="一区"), *unit_rows(code, 150, building="2栋", zone="二区")]
    response = upload(client, "buildings_units", f"{code}.xlsx", xlsx([UNIT_HEADERS_ZH, *rows]))
    assert response.status_code == 201, response.content
    batch_id = response.json()["id"]

    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 60
    while True:
        state = client.get(f"/api/v1/imports/{batch_id}/").json()
        seen.append((state["status"], state["rows_done"]))
        if state["status"] not in ("queued", "checking", "running"):
            break
        assert time.monotonic() < deadline, f"the worker did not finish: {seen[-5:]}"
        time.sleep(0.02)
    assert state["status"] == "done", state
    assert (state["rows_total"], state["rows_done"], state["percent"], state["created_count"]) == (350, 350, 100, 354)
    done = [done for _status, done in seen]
    assert done == sorted(done), f"progress never goes back: {seen}"
    with in_company(committed.company):
        assert Unit.objects.filter(project=committed.project).count() == 350
        assert Unit.objects.filter(project=committed.project, zone__name="二区").count() == 150
        assert AuditEntry.objects.filter(batch=batch_id, action="imported").count() == 354
        assert ImportBatch.objects.get(pk=batch_id).rows is None

    response = client.post(f"/api/v1/imports/{batch_id}/undo/")
    assert response.status_code == 200, response.content
    with in_company(committed.company):
        assert not Unit.objects.filter(project=committed.project).exists()
        assert not Building.objects.filter(project=committed.project).exists()


GATE = "test_gate"


@dataclass
class Gate:
    reached: threading.Event
    release: threading.Event


@pytest.fixture
def gate_kind() -> Iterator[Gate]:
    """An import kind whose write reports progress, then waits to be released: the test looks at the batch
    from another connection in between."""
    gate = Gate(reached=threading.Event(), release=threading.Event())

    def check(rows: list[registry.Row], context: registry.Context) -> tuple[list[Any], list[registry.Problem]]:
        return list(rows), []

    def write(clean: list[Any], context: registry.Context) -> list[Any]:
        context.progress(3)
        gate.reached.set()
        assert gate.release.wait(30), "the test did not release the writer"
        context.progress(len(clean))
        return []

    registry.register(
        registry.ImportKind(
            code=GATE,
            label="Gate",
            columns=(registry.Column("n", "编号", "Number", required=True),),
            permission="estate.add_unit",
            check=check,
            write=write,
            export=lambda viewer: [],
        )
    )
    try:
        yield gate
    finally:
        gate.release.set()
        registry.unregister(GATE)


def test_progress_is_visible_while_the_writing_transaction_is_open(
    committed: Committed, gate_kind: Gate, api_client, monkeypatch
) -> None:
    # The task is run by a thread of this test (its own database connection) instead of a worker.
    monkeypatch.setattr(services, "enqueue_on_commit", lambda *args, **kwargs: None)
    code = committed.project.code
    with in_company(committed.company):
        batch = services.batch_create(
            by=committed.company.admin(),
            kind=GATE,
            file_name=f"{code}.csv",
            data="编号\n1\n2\n3\n4\n5\n".encode(),
        )
    assert batch.status == "queued"
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            with in_company(committed.company):
                services.batch_write(batch_id=batch.pk)
        except BaseException as error:  # reported by the test, not lost in the thread
            failures.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert gate_kind.reached.wait(30), "the writer did not start"
        client = api_client(committed.company, committed.token)
        state = client.get(f"/api/v1/imports/{batch.pk}/").json()
        assert (state["status"], state["rows_done"], state["rows_total"], state["percent"]) == ("running", 3, 5, 60)
        with in_company(committed.company):
            # The batch row itself knows only what was committed before the transaction began.
            row = ImportBatch.objects.get(pk=batch.pk)
            assert (row.status, row.rows_done, row.finished_at) == ("running", 0, None)
    finally:
        gate_kind.release.set()
        thread.join(30)
    assert not failures, failures
    state = api_client(committed.company, committed.token).get(f"/api/v1/imports/{batch.pk}/").json()
    assert (state["status"], state["rows_done"], state["percent"]) == ("done", 5, 100)
