"""Celery tasks of imports: thin, take ids, safe to run twice."""

from __future__ import annotations

from wuye.celery import app

from . import services


@app.task(name="wuye.imports.tasks.batch_write")
def batch_write(batch_id: str) -> str | None:
    """Write a checked batch in the schema of the company that uploaded it. A second run (a redelivery,
    a double click) finds the batch finished or locked and does nothing."""
    batch = services.batch_write(batch_id=batch_id)
    return None if batch is None else str(batch.status)
