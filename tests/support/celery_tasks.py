"""Tasks only the test worker loads (`--include tests.support.celery_tasks`)."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection

from wuye.accounts.models import User
from wuye.celery import app


@app.task(name="tests.support.celery_tasks.report_schema")
def report_schema(key: str | None = None) -> dict[str, object]:
    """Which schema the task ran in, and which accounts that schema holds (read from its own tables)."""
    report = {"schema": connection.schema_name, "emails": sorted(User.objects.values_list("email", flat=True))}
    if key:
        redis.Redis.from_url(settings.REDIS_URL).rpush(key, str(report["schema"]))
    return report
