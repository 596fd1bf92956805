"""A new company's default deadlines (时限) for each kind and grade of request; a company edits them, and a
project may have its own. Minutes of running time (the clock stops while waiting for the owner)."""

from __future__ import annotations

from typing import Any

from .models import DeadlinePolicy, Grade, Kind

HOUR = 60
DAY = 24 * HOUR

# (kind, grade, accept within, on site within, done within, escalate every)
DEFAULTS: list[tuple[str, str, int, int | None, int, int]] = [
    (Kind.CONSULTATION, Grade.NORMAL, 2 * HOUR, None, 1 * DAY, 4 * HOUR),
    (Kind.CONSULTATION, Grade.URGENT, 30, None, 4 * HOUR, 1 * HOUR),
    # An urgent repair (a burst pipe, a stuck lift) is attended within two hours.
    (Kind.REPAIR, Grade.NORMAL, 1 * HOUR, 1 * DAY, 3 * DAY, 4 * HOUR),
    (Kind.REPAIR, Grade.URGENT, 15, 2 * HOUR, 1 * DAY, 1 * HOUR),
    # A complaint is answered within 24 hours and closed within 7 days; graver ones faster.
    (Kind.COMPLAINT, Grade.GENERAL, 1 * DAY, None, 7 * DAY, 1 * DAY),
    (Kind.COMPLAINT, Grade.SERIOUS, 4 * HOUR, None, 3 * DAY, 4 * HOUR),
    (Kind.COMPLAINT, Grade.MAJOR, 1 * HOUR, None, 1 * DAY, 1 * HOUR),
    (Kind.SPECIAL_SERVICE, Grade.NORMAL, 2 * HOUR, 2 * DAY, 7 * DAY, 4 * HOUR),
    (Kind.SPECIAL_SERVICE, Grade.URGENT, 30, 4 * HOUR, 2 * DAY, 1 * HOUR),
    (Kind.SUGGESTION, Grade.NORMAL, 1 * DAY, None, 7 * DAY, 1 * DAY),
    (Kind.SUGGESTION, Grade.URGENT, 4 * HOUR, None, 3 * DAY, 4 * HOUR),
]


def helpdesk_seed(context: Any) -> None:
    DeadlinePolicy.objects.bulk_create(
        [
            DeadlinePolicy(
                project=None,
                kind=kind,
                grade=grade,
                respond_minutes=respond,
                attend_minutes=attend,
                close_minutes=close,
                escalate_every_minutes=every,
            )
            for kind, grade, respond, attend, close, every in DEFAULTS
        ],
        ignore_conflicts=True,
    )
