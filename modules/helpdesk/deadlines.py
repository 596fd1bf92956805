"""Deadline arithmetic of owner requests, as pure functions (no database, no clock of their own).

A request's clock runs from the moment it was raised (or reopened) and stops while the request waits for
the owner (业户原因暂停: the owner is away, must choose a time, must buy a part). A deadline of N minutes is
therefore reached when N minutes of *running* time have passed, not N minutes of wall time. Pauses are
half-open intervals [start, end); a pause still going has end None, and then no deadline can be named yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Pause = tuple[dt.datetime, dt.datetime | None]


def _ordered(pauses: Iterable[Pause]) -> list[Pause]:
    return sorted(pauses, key=lambda pause: pause[0])


def due_at(start: dt.datetime, minutes: int | None, pauses: Sequence[Pause] = ()) -> dt.datetime | None:
    """When `minutes` of running time since `start` are used up, given the pauses; None when there is no
    such deadline (`minutes` None) or the clock is stopped before it is reached (a pause still going)."""
    if minutes is None:
        return None
    if minutes < 0:
        raise ValueError("a deadline is a non-negative number of minutes")
    remaining = dt.timedelta(minutes=minutes)
    cursor = start
    for pause_start, pause_end in _ordered(pauses):
        if pause_end is not None and pause_end <= cursor:
            continue  # over before the clock reached it (or before the clock started)
        pause_start = max(pause_start, cursor)
        if cursor + remaining <= pause_start:
            break  # the deadline falls before this pause begins
        remaining -= pause_start - cursor
        if pause_end is None:
            return None
        cursor = pause_end
    return cursor + remaining


def running_time(start: dt.datetime, now: dt.datetime, pauses: Sequence[Pause] = ()) -> dt.timedelta:
    """How much running time has passed between `start` and `now` (pauses taken out)."""
    if now <= start:
        return dt.timedelta(0)
    paused = dt.timedelta(0)
    for pause_start, pause_end in _ordered(pauses):
        lower = max(pause_start, start)
        upper = min(pause_end or now, now)
        if upper > lower:
            paused += upper - lower
    return (now - start) - paused


@dataclass(frozen=True)
class Targets:
    """Minutes of running time allowed for each step of a request (a deadline policy's numbers)."""

    respond: int  # accepted by the person responsible (受理)
    attend: int | None  # on site (repairs, special services)
    close: int  # done


@dataclass(frozen=True)
class Deadlines:
    respond_by: dt.datetime | None
    attend_by: dt.datetime | None
    close_by: dt.datetime | None


def deadlines(start: dt.datetime, targets: Targets, pauses: Sequence[Pause] = ()) -> Deadlines:
    return Deadlines(
        respond_by=due_at(start, targets.respond, pauses),
        attend_by=due_at(start, targets.attend, pauses),
        close_by=due_at(start, targets.close, pauses),
    )


def next_due(
    found: Deadlines, *, responded: bool, attended: bool, completed: bool, needs_attendance: bool
) -> dt.datetime | None:
    """The earliest deadline still to meet: what the overdue queue and the escalation look at."""
    pending = []
    if not responded:
        pending.append(found.respond_by)
    if needs_attendance and not attended:
        pending.append(found.attend_by)
    if not completed:
        pending.append(found.close_by)
    known = [due for due in pending if due is not None]
    return min(known) if known else None


# The escalation chain (assignee → department head → CS manager → project manager), as levels.
LEVEL_ASSIGNEE = 1
LEVEL_DEPARTMENT_HEAD = 2
LEVEL_CS_MANAGER = 3
LEVEL_PROJECT_MANAGER = 4
TOP_LEVEL = LEVEL_PROJECT_MANAGER


def escalation_level(due: dt.datetime | None, now: dt.datetime, every_minutes: int) -> int:
    """How far up the chain an overdue request should have gone by `now`: the assignee when it falls
    overdue, then one level more each `every_minutes` it stays overdue, up to the project manager."""
    if due is None or now < due:
        return 0
    if every_minutes <= 0:
        raise ValueError("escalation steps are a positive number of minutes apart")
    steps = int((now - due) / dt.timedelta(minutes=every_minutes))
    return min(LEVEL_ASSIGNEE + steps, TOP_LEVEL)
