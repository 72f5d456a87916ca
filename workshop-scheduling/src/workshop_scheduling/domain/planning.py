"""Availability: the free start times of some days with the bays free for the whole
appointment at each, over the slot grid and the opening hours in real time."""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from workshop_scheduling.domain.workshop import (
    Workshop,
    interval_bounds,
    last_bookable_day,
    local_date,
    on_grid,
)


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    bay_ids: tuple[uuid.UUID, ...]


@dataclass
class Timeline:
    """One resource's busy times, sorted; appointments of one resource never overlap
    (the database sees to it), so their ends are sorted too and a look-up is a bisect."""

    starts: list[datetime] = field(default_factory=list)
    ends: list[datetime] = field(default_factory=list)

    @classmethod
    def of(cls, periods: Iterable[tuple[datetime, datetime]]) -> Timeline:
        ordered = sorted(periods)
        return cls([p[0] for p in ordered], [p[1] for p in ordered])

    def free(self, start: datetime, end: datetime) -> bool:
        index = bisect.bisect_right(self.ends, start)
        return index >= len(self.starts) or self.starts[index] >= end


def candidate_starts(
    workshop: Workshop, day: date, duration: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    """Every start (and end) on ``day`` on the slot grid with the whole appointment
    inside one opening interval, in real time."""
    tz = workshop.tz
    for interval in workshop.intervals(day):
        low, high = interval_bounds(day, interval, tz)
        start = low
        while start + duration <= high:
            end = start + duration
            if on_grid(start, tz, workshop.slot_minutes) and on_grid(end, tz, workshop.slot_minutes):
                yield start, end
            start += workshop.slot


def availability(
    workshop: Workshop,
    *,
    first_day: date,
    last_day: date,
    duration: timedelta,
    now: datetime,
    bays: Sequence[uuid.UUID],
    busy: Mapping[uuid.UUID, Iterable[tuple[datetime, datetime]]],
    technician_busy: Iterable[tuple[datetime, datetime]] | None = None,
) -> list[Slot]:
    """The free start times from ``first_day`` to ``last_day`` (local dates, inclusive)
    with the bays free for the whole ``duration`` at each, in ``bays`` order."""
    timelines = {bay: Timeline.of(busy.get(bay, ())) for bay in bays}
    technician = Timeline.of(technician_busy) if technician_busy is not None else None
    last_day = min(last_day, last_bookable_day(workshop, now))
    slots: list[Slot] = []
    day = max(first_day, local_date(now, workshop.tz))
    while day <= last_day:
        for start, end in candidate_starts(workshop, day, duration):
            if start < now or (technician is not None and not technician.free(start, end)):
                continue
            free = tuple(bay for bay in bays if timelines[bay].free(start, end))
            if free:
                slots.append(Slot(start, end, free))
        day += timedelta(days=1)
    return slots
