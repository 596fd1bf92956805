"""Deadline arithmetic with pauses (pure functions: expected times are worked out by hand here)."""

from __future__ import annotations

import datetime as dt

import pytest

from modules.helpdesk import deadlines

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday, 09:00


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def test_without_pauses_a_deadline_is_start_plus_the_minutes() -> None:
    assert deadlines.due_at(T0, 120) == at(2)
    assert deadlines.due_at(T0, 0) == T0
    assert deadlines.due_at(T0, None) is None


def test_a_pause_before_the_deadline_pushes_it_by_its_length() -> None:
    # 2 h allowed; paused from 10:00 to 11:30 (1.5 h): due at 12:30.
    assert deadlines.due_at(T0, 120, [(at(1), at(2.5))]) == at(3.5)


def test_a_pause_after_the_deadline_changes_nothing() -> None:
    assert deadlines.due_at(T0, 120, [(at(3), at(5))]) == at(2)
    # A pause that starts exactly when the time runs out comes too late too.
    assert deadlines.due_at(T0, 120, [(at(2), at(5))]) == at(2)


def test_a_pause_reached_only_because_of_an_earlier_pause_counts() -> None:
    # 2 h allowed. Running 09:00–09:30 (0.5 h), pause 1 09:30–10:30 (due moves to 12:00), running
    # 10:30–11:30 (1.5 h used), pause 2 11:30–13:00 (before 12:00, so it counts), running 13:00–13:30.
    pauses = [(at(0.5), at(1.5)), (at(2.5), at(4))]
    assert deadlines.due_at(T0, 120, pauses) == at(4.5)
    # Order of the list does not matter.
    assert deadlines.due_at(T0, 120, list(reversed(pauses))) == at(4.5)


def test_a_pause_still_going_before_the_deadline_leaves_no_deadline() -> None:
    assert deadlines.due_at(T0, 120, [(at(1), None)]) is None
    # ...but one that began after the deadline does not hide it.
    assert deadlines.due_at(T0, 120, [(at(3), None)]) == at(2)


def test_pauses_before_the_clock_started_are_ignored_or_clipped() -> None:
    # A reopened request: its clock restarted at T0; an old pause 07:00–08:00 is over; one 08:00–10:00
    # overlaps the start by an hour.
    assert deadlines.due_at(T0, 60, [(at(-2), at(-1))]) == at(1)
    assert deadlines.due_at(T0, 60, [(at(-1), at(1))]) == at(2)


def test_running_time_takes_the_pauses_out() -> None:
    pauses = [(at(1), at(2)), (at(3), None)]
    assert deadlines.running_time(T0, at(4), pauses) == dt.timedelta(hours=2)
    assert deadlines.running_time(T0, at(0.5), pauses) == dt.timedelta(minutes=30)
    assert deadlines.running_time(T0, at(-1), pauses) == dt.timedelta(0)


def test_a_week_long_complaint_paused_for_two_days() -> None:
    # General complaint: answered within 24 h, closed within 7 days. Waiting for the owner from day 2
    # 09:00 to day 4 09:00 (48 h).
    targets = deadlines.Targets(respond=24 * 60, attend=None, close=7 * 24 * 60)
    found = deadlines.deadlines(T0, targets, [(at(24), at(72))])
    assert found.respond_by == at(24)  # the pause starts exactly when it ran out: unchanged
    assert found.close_by == at(7 * 24 + 48)
    assert found.attend_by is None


def test_next_due_is_the_earliest_deadline_still_to_meet() -> None:
    found = deadlines.Deadlines(respond_by=at(0.25), attend_by=at(2), close_by=at(24))
    assert deadlines.next_due(found, responded=False, attended=False, completed=False, needs_attendance=True) == at(
        0.25
    )
    assert deadlines.next_due(found, responded=True, attended=False, completed=False, needs_attendance=True) == at(2)
    assert deadlines.next_due(found, responded=True, attended=False, completed=False, needs_attendance=False) == at(24)
    assert deadlines.next_due(found, responded=True, attended=True, completed=True, needs_attendance=True) is None


@pytest.mark.parametrize(
    ("hours_late", "level"),
    [(-1, 0), (0, 1), (3.9, 1), (4, 2), (8, 3), (12, 4), (100, 4)],
)
def test_escalation_climbs_one_level_per_interval(hours_late: float, level: int) -> None:
    assert deadlines.escalation_level(T0, at(hours_late), 240) == level


def test_negative_minutes_are_refused() -> None:
    with pytest.raises(ValueError):
        deadlines.due_at(T0, -1)
