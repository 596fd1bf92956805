"""Progress of a batch being written (wuye.core.progress, under the topic "imports"). The rows are written
in one transaction; the page and the API read the progress from the cache while it is open."""

from __future__ import annotations

import uuid
from typing import Any

from wuye.core import progress

TOPIC = "imports"


def key(batch_id: uuid.UUID | str) -> str:
    return progress.key(TOPIC, batch_id)


def progress_set(batch_id: uuid.UUID | str, *, status: str, done: int, total: int) -> None:
    progress.progress_set(TOPIC, batch_id, status=status, done=done, total=total)


def progress_get(batch_id: uuid.UUID | str) -> dict[str, Any] | None:
    return progress.progress_get(TOPIC, batch_id)


def reporter_for(batch_id: uuid.UUID, total: int, status: str) -> progress.Reporter:
    return progress.Reporter(TOPIC, batch_id, total, status)
