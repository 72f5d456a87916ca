"""Workshop time for the tests: Amsterdam's clock, its days and its daylight-saving
changes, and opening hours that leave every slot open."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
OPEN_DAILY = {
    day: [{"opens": "07:00", "closes": "19:00"}]
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}


def local(day: date, clock: str) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=AMSTERDAM)


def today() -> date:
    return datetime.now(AMSTERDAM).date()


def next_transition(month: int) -> date:
    """The next day (from tomorrow) in March (spring forward) or October (fall back) on
    which Amsterdam's clocks change."""
    day = today() + timedelta(days=1)
    while True:
        first, last = local(day, "00:00"), local(day, "23:59")
        if day.month == month and first.utcoffset() != last.utcoffset():
            return day
        day += timedelta(days=1)
