"""Reminders: which day they are for ("tomorrow" in the workshop's zone) and its
real bounds."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from workshop_scheduling.domain.workshop import Workshop, day_bounds, local_date


def reminder_window(
    workshop: Workshop, now: datetime, day: date | None = None
) -> tuple[date, datetime, datetime]:
    """The day reminders are for (tomorrow in the workshop's zone unless given) and its
    real bounds."""
    tz = workshop.tz
    day = day or local_date(now, tz) + timedelta(days=1)
    start, end = day_bounds(day, tz)
    return day, start, end
