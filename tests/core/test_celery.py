"""A real Celery worker (its own process, the real Redis broker) runs each task in the schema of the
company that queued it; the periodic fan-out reaches every active company and only those."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.conf import settings
from django_tenants.utils import schema_context

from tenants import services
from tests.support.celery_tasks import report_schema

pytestmark = [pytest.mark.committed]


def test_a_task_queued_in_a_company_runs_in_its_schema(committed_db, companies, celery_worker) -> None:
    alpha, beta = companies["alpha"], companies["beta"]
    with schema_context(alpha.schema_name):
        from_alpha = report_schema.apply_async(queue=celery_worker.queue)
    with schema_context(beta.schema_name):
        from_beta = report_schema.apply_async(queue=celery_worker.queue)
    alpha_report = from_alpha.get(timeout=30)
    beta_report = from_beta.get(timeout=30)
    assert alpha_report["schema"] == alpha.schema_name
    assert alpha.admin_email in alpha_report["emails"] and beta.admin_email not in alpha_report["emails"]
    assert beta_report["schema"] == beta.schema_name
    assert beta.admin_email in beta_report["emails"] and alpha.admin_email not in beta_report["emails"]


def test_the_periodic_fan_out_reaches_every_active_company(committed_db, companies, celery_worker) -> None:
    from tenants.tasks import fan_out

    alpha, beta = companies["alpha"], companies["beta"]
    key = f"test-fan-out-{uuid.uuid4().hex}"
    store = redis.Redis.from_url(settings.REDIS_URL)
    services.company_suspend(by=None, company=beta.company, reason="fan-out test")
    try:
        queued = fan_out.apply_async(
            kwargs={"task_name": "tests.support.celery_tasks.report_schema", "kwargs": {"key": key}},
            queue=celery_worker.queue,
        ).get(timeout=30)
        assert queued >= 1
        seen: list[bytes] = []
        for _ in range(queued):
            item = store.blpop([key], timeout=30)
            assert item is not None, "a fanned-out task did not run"
            seen.append(item[1])
        schemas = {s.decode() for s in seen}
        assert alpha.schema_name in schemas
        assert beta.schema_name not in schemas  # suspended: not fanned out to
        assert "public" not in schemas
    finally:
        services.company_resume(by=None, company=beta.company, reason="fan-out test done")
        store.delete(key)
