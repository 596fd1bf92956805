"""Progress of long work (an import being written, a bill run being posted), kept in the cache (Redis).

Such work runs in a transaction (or a series of them) that other connections cannot see into until it
commits. The cache is outside it, so pages and the API read the progress from there while the task runs;
the work's own row has the final state.

Company isolation: the cache's key function (django_tenants.cache.make_key, settings CACHES) puts the
schema of the current connection in front of every key, so a key a task running in company A writes is
`<A's schema>:<prefix>:<version>:<topic>:progress:<id>`, and the same call made at company B reads
`<B's schema>:...`, a key A never writes. The value also carries the schema, checked on every read, so a
key function changed one day cannot silently open a door between companies.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.cache import cache

from .tenancy import current_schema

TIMEOUT = 24 * 60 * 60


def key(topic: str, work_id: uuid.UUID | str) -> str:
    return f"{topic}:progress:{work_id}"


def progress_set(topic: str, work_id: uuid.UUID | str, *, status: str, done: int, total: int) -> None:
    cache.set(
        key(topic, work_id), {"schema": current_schema(), "status": status, "done": done, "total": total}, TIMEOUT
    )


def progress_get(topic: str, work_id: uuid.UUID | str) -> dict[str, Any] | None:
    value = cache.get(key(topic, work_id))
    if not isinstance(value, dict) or value.get("schema") != current_schema():
        return None
    return value


class Reporter:
    """Reports `done` of `total` about a hundred times over the whole work, not once per row."""

    def __init__(self, topic: str, work_id: uuid.UUID, total: int, status: str) -> None:
        self.topic = topic
        self.work_id = work_id
        self.total = total
        self.status = status
        self.step = max(1, total // 100)
        self.reported = -1

    def __call__(self, done: int) -> None:
        done = max(0, min(done, self.total))
        if done == self.total or done - self.reported >= self.step or done < self.reported:
            progress_set(self.topic, self.work_id, status=self.status, done=done, total=self.total)
            self.reported = done
