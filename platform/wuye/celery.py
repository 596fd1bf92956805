"""The Celery app. Tasks run in the schema of the company that queued them (tenant-schemas-celery puts
the schema in the message headers and switches to it before the task runs)."""

import os
from typing import Any

from celery import signals
from django.db import close_old_connections
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")

app = CeleryApp("wuye")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A worker keeps its database session from task to task, as a web process keeps it from request to request
# (CONN_MAX_AGE): Celery's Django fix-up would otherwise open a new PostgreSQL session for every task,
# which costs more than most tasks. Before each task, what is broken or older than CONN_MAX_AGE is closed,
# as Django does before each request. (The fix-up still starts afresh after this many tasks.)
app.conf["CELERY_DB_REUSE_MAX"] = 10_000


@signals.task_prerun.connect
def _stale_connections_closed(task: Any = None, **kwargs: Any) -> None:
    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()
