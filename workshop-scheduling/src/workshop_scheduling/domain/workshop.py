"""The workshop's settings and opening hours: the settings validated and normalised,
the ``Workshop`` rules they make, and opening hours as real time in the workshop's
own time zone (right across daylight-saving changes).

Times are aware datetimes. Opening hours are wall-clock times of the workshop's zone;
an appointment is two instants, so its length is real time: on the night the clocks
go forward 01:45-03:15 is half an hour. Every check here is a plain function that
tests call without a database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service_kit.problems import Conflict, NotFound, Unprocessable

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Divisors of an hour: the grid stays the grid when the clocks move by an hour.
SLOT_CHOICES = (5, 10, 15, 20, 30, 60)
DEFAULT_SLOT_MINUTES = 15
DEFAULT_HORIZON_DAYS = 90
MAX_HORIZON_DAYS = 730
MINUTES_PER_DAY = 24 * 60
CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
SLUG = r"^[a-z][a-z0-9_-]{0,39}$"
DEFAULT_SETTINGS: dict[str, Any] = {
    "time_zone": "Europe/Amsterdam",
    "slot_minutes": DEFAULT_SLOT_MINUTES,
    "booking_horizon_days": DEFAULT_HORIZON_DAYS,
    "opening_hours": {
        day: [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "17:30"}]
        for day in WEEKDAYS[:5]
    }
    | {"saturday": [{"opens": "09:00", "closes": "13:00"}], "sunday": []},
    "closed_dates": [],
}


# ------------------------------------------------------------------------------- errors


class BayNotFound(NotFound):
    def __init__(self, bay_id: object) -> None:
        super().__init__(f"bay {bay_id} does not exist")


class TechnicianNotFound(NotFound):
    def __init__(self, technician_id: object) -> None:
        super().__init__(f"technician {technician_id} does not exist")


class AccountAlreadyLinked(Conflict):
    def __init__(self, account_subject: str) -> None:
        super().__init__(f"another technician is already linked to account {account_subject!r}")


class InvalidSettings(Unprocessable):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("the workshop settings break one or more rules", errors=errors)


class NameAlreadyInUse(Conflict):
    def __init__(self, what: str, name: str) -> None:
        super().__init__(f"a {what} named {name!r} already exists")


class StillBooked(Conflict):
    def __init__(self, what: str, count: int) -> None:
        super().__init__(
            f"the {what} has {count} upcoming appointment(s); move or cancel them before deactivating it",
            appointments=count,
        )


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Interval:
    """Opening hours on one day: wall-clock minutes since local midnight, ``closes`` up to 24:00."""

    opens: int
    closes: int


@dataclass(frozen=True)
class Workshop:
    time_zone: str
    slot_minutes: int
    horizon_days: int
    opening_hours: Mapping[int, tuple[Interval, ...]]  # weekday (Monday 0) -> merged intervals
    closed_dates: frozenset[date] = frozenset()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def slot(self) -> timedelta:
        return timedelta(minutes=self.slot_minutes)

    def intervals(self, day: date) -> tuple[Interval, ...]:
        if day in self.closed_dates:
            return ()
        return self.opening_hours.get(day.weekday(), ())


def parse_clock(text: str) -> int:
    if not CLOCK.match(text):
        raise ValueError(f"{text!r} is not a time HH:MM from 00:00 to 24:00")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted, with touching intervals joined (08:00-12:00 + 12:00-17:00 is one)."""
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.opens):
        if merged and interval.opens <= merged[-1].closes:
            last = merged.pop()
            interval = Interval(last.opens, max(last.closes, interval.closes))
        merged.append(interval)
    return tuple(merged)


def valid_time_zone(name: str) -> bool:
    if not name or name != name.strip() or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def validate_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as stored (normalised), or ``InvalidSettings`` naming every problem."""
    errors: dict[str, list[str]] = {}
    slot = data.get("slot_minutes", DEFAULT_SLOT_MINUTES)
    if slot not in SLOT_CHOICES:
        errors["slot_minutes"] = [f"must be one of {', '.join(map(str, SLOT_CHOICES))}"]
    horizon = data.get("booking_horizon_days", DEFAULT_HORIZON_DAYS)
    if not 1 <= horizon <= MAX_HORIZON_DAYS:
        errors["booking_horizon_days"] = [f"must be 1 to {MAX_HORIZON_DAYS}"]
    if not valid_time_zone(data.get("time_zone", "")):
        errors["time_zone"] = ["must be an IANA time zone name such as Europe/Amsterdam"]
    hours: dict[str, list[dict[str, str]]] = {}
    raw_hours = data.get("opening_hours") or {}
    for day in raw_hours:
        if day not in WEEKDAYS:
            errors[f"opening_hours.{day}"] = ["is not a day of the week (monday ... sunday)"]
    for day in WEEKDAYS:
        parsed: list[Interval] = []
        for n, raw in enumerate(raw_hours.get(day) or []):
            where = f"opening_hours.{day}[{n}]"
            try:
                interval = Interval(parse_clock(raw["opens"]), parse_clock(raw["closes"]))
            except (KeyError, TypeError, ValueError) as exc:
                errors[where] = [str(exc) if isinstance(exc, ValueError) else "needs opens and closes"]
                continue
            if interval.opens >= interval.closes:
                errors[where] = ["opens must be before closes"]
            elif slot in SLOT_CHOICES and (interval.opens % slot or interval.closes % slot):
                errors[where] = [f"opens and closes must be on the {slot}-minute slot grid"]
            elif any(i.opens < interval.closes and interval.opens < i.closes for i in parsed):
                errors[where] = ["overlaps another interval of the same day"]
            else:
                parsed.append(interval)
        hours[day] = [
            {"opens": format_clock(i.opens), "closes": format_clock(i.closes)}
            for i in sorted(parsed, key=lambda i: i.opens)
        ]
    closed: dict[date, str | None] = {}
    for entry in data.get("closed_dates") or []:
        closed[entry["date"]] = entry.get("reason") or closed.get(entry["date"])
    if errors:
        raise InvalidSettings(errors)
    return {
        "time_zone": data["time_zone"],
        "slot_minutes": slot,
        "booking_horizon_days": horizon,
        "opening_hours": hours,
        "closed_dates": [{"date": day.isoformat(), "reason": closed[day]} for day in sorted(closed)],
    }


def workshop_from_settings(stored: Mapping[str, Any]) -> Workshop:
    """The rules of settings as ``validate_settings`` stores them."""
    opening = {
        WEEKDAYS.index(day): merge(
            Interval(parse_clock(i["opens"]), parse_clock(i["closes"])) for i in intervals
        )
        for day, intervals in stored["opening_hours"].items()
    }
    return Workshop(
        time_zone=stored["time_zone"],
        slot_minutes=stored["slot_minutes"],
        horizon_days=stored["booking_horizon_days"],
        opening_hours=opening,
        closed_dates=frozenset(date.fromisoformat(entry["date"]) for entry in stored["closed_dates"]),
    )


# --------------------------------------------------------------------------- wall clock


def local_instants(day: date, minutes: int, tz: ZoneInfo) -> list[datetime]:
    """The instants (UTC) at which the wall clock of ``tz`` shows ``minutes`` past
    midnight of ``day``: none in the hour skipped when the clocks go forward, two in the
    hour repeated when they go back, else one. 24:00 is the next day's midnight."""
    if minutes >= MINUTES_PER_DAY:
        day, minutes = day + timedelta(days=1), minutes - MINUTES_PER_DAY
    wall = datetime.combine(day, time(minutes // 60, minutes % 60))
    found = []
    for fold in (0, 1):
        instant = wall.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == wall and instant not in found:
            found.append(instant)
    return sorted(found)


def _gap_end(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The instant the clocks jumped over a wall time that does not exist that day:
    an interval opening or closing inside the skipped hour starts or ends there."""
    if minutes >= MINUTES_PER_DAY:
        day, minutes = day + timedelta(days=1), minutes - MINUTES_PER_DAY
    wall = datetime.combine(day, time(minutes // 60, minutes % 60))
    low, high = sorted(wall.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1))
    after = high.astimezone(tz).utcoffset()
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle <= low:
            break
        if middle.astimezone(tz).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high


def interval_bounds(day: date, interval: Interval, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Real start and end (UTC) of one day's opening interval: from the first moment
    the wall clock shows ``opens`` to the last moment it shows ``closes``."""
    opens = local_instants(day, interval.opens, tz) or [_gap_end(day, interval.opens, tz)]
    closes = local_instants(day, interval.closes, tz) or [_gap_end(day, interval.closes, tz)]
    return opens[0], closes[-1]


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A local calendar day as real time (23 or 25 hours on the days the clocks move)."""
    return interval_bounds(day, Interval(0, MINUTES_PER_DAY), tz)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def on_grid(instant: datetime, tz: ZoneInfo, slot_minutes: int) -> bool:
    local = instant.astimezone(tz)
    return (
        local.second == 0 and local.microsecond == 0 and (local.hour * 60 + local.minute) % slot_minutes == 0
    )


def opening_interval(workshop: Workshop, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The opening interval (real bounds) that holds all of ``start``-``end``, if any."""
    tz = workshop.tz
    day = local_date(start, tz)
    for interval in workshop.intervals(day):
        low, high = interval_bounds(day, interval, tz)
        if low <= start and end <= high:
            return low, high
    return None


def last_bookable_day(workshop: Workshop, now: datetime) -> date:
    return local_date(now, workshop.tz) + timedelta(days=workshop.horizon_days)
