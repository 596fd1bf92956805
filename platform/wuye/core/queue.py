"""Queue a Celery task once the current transaction commits, in the schema that is active now.

The schema is captured when the work is decided, not when the callback runs: by then the connection may
have switched back to the public schema, and the task would run in the wrong place.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .tenancy import current_schema


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    schema_name = current_schema()

    def send() -> None:
        task.apply_async(args=args, kwargs=kwargs, headers={"_schema_name": schema_name})

    transaction.on_commit(send)
