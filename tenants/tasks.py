"""Celery tasks of the vendor layer. They run in the public schema."""

from __future__ import annotations

from typing import Any

from django_tenants.utils import schema_context

from wuye.celery import app

from . import services
from .models import Company, CompanyStatus


@app.task(name="tenants.tasks.spare_pool_refill")
def spare_pool_refill() -> int:
    """Top the pool of spare schemas up (after each provisioning, and every ten minutes)."""
    return services.spare_pool_refill()


@app.task(name="tenants.tasks.fan_out")
def fan_out(task_name: str, kwargs: dict[str, Any] | None = None) -> int:
    """Queue `task_name` once for every active company, each to run in that company's schema. Periodic
    jobs that concern companies are scheduled as this fan-out (settings.CELERY_BEAT_SCHEDULE)."""
    schemas = list(Company.objects.filter(status=CompanyStatus.ACTIVE).values_list("schema_name", flat=True))
    for schema_name in schemas:
        with schema_context(schema_name):
            app.send_task(task_name, kwargs=kwargs or {}, headers={"_schema_name": schema_name})
    return len(schemas)
