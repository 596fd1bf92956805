"""Progress of a batch being written, kept in the cache (Redis).

The rows are written in one transaction; until it commits, nothing it did — the batch row's counters
included — is visible to any other connection. The cache is outside the transaction, so the page and the
API read the progress from there while the task runs; the batch row has the final state.

Company isolation: the cache's key function (django_tenants.cache.make_key, settings CACHES) puts the
schema of the current connection in front of every key, so the key a task running in company A writes is
`<A's schema>:<prefix>:<version>:imports:progress:<batch id>`, and the same call made at company B reads
`<B's schema>:...`, a key A never writes. The value also carries the schema, checked on every read, so a
key function changed one day cannot silently open a door between companies.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.cache import cache

from wuye.core.tenancy import current_schema

TIMEOUT = 24 * 60 * 60


def key(batch_id: uuid.UUID | str) -> str:
    return f"imports:progress:{batch_id}"


def progress_set(batch_id: uuid.UUID | str, *, status: str, done: int, total: int) -> None:
    cache.set(key(batch_id), {"schema": current_schema(), "status": status, "done": done, "total": total}, TIMEOUT)


def progress_get(batch_id: uuid.UUID | str) -> dict[str, Any] | None:
    value = cache.get(key(batch_id))
    if not isinstance(value, dict) or value.get("schema") != current_schema():
        return None
    return value


class Reporter:
    """`context.progress` of a batch being written: writes to the cache about a hundred times per batch,
    not once per row."""

    def __init__(self, batch_id: uuid.UUID, total: int, status: str) -> None:
        self.batch_id = batch_id
        self.total = total
        self.status = status
        self.step = max(1, total // 100)
        self.reported = -1

    def __call__(self, done: int) -> None:
        done = max(0, min(done, self.total))
        if done == self.total or done - self.reported >= self.step or done < self.reported:
            progress_set(self.batch_id, status=self.status, done=done, total=self.total)
            self.reported = done
