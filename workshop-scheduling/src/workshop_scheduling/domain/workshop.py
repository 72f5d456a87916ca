"""Workshop rules in plain Python: opening hours in the workshop's own time zone (right
across daylight-saving changes), the slot grid, the booking window, overlaps, free
bays, availability, the appointment lifecycle and "tomorrow" for reminders.

Times are aware datetimes. Opening hours are wall-clock times of the workshop's zone;
an appointment is two instants, so its length is real time: on the night the clocks
go forward 01:45-03:15 is half an hour. Every check here is a plain function that
tests call without a database.
"""

from __future__ import annotations

import bisect
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
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

BOOKED, CHECKED_IN, CANCELLED, NO_SHOW, COMPLETED = (
    "booked",
    "checked_in",
    "cancelled",
    "no_show",
    "completed",
)
STATUSES = (BOOKED, CHECKED_IN, CANCELLED, NO_SHOW, COMPLETED)
# The statuses that hold a bay, a vehicle and a technician (the exclusion constraints
# say the same in the database).
ACTIVE = (BOOKED, CHECKED_IN)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "check-in": (frozenset({BOOKED}), CHECKED_IN),
    "complete": (frozenset({CHECKED_IN}), COMPLETED),
    "no-show": (frozenset({BOOKED}), NO_SHOW),
    "cancel": (frozenset({BOOKED, CHECKED_IN}), CANCELLED),
}
RESCHEDULABLE = frozenset({BOOKED})


# ------------------------------------------------------------------------------ errors


class AppointmentNotFound(NotFound):
    def __init__(self, appointment_id: object) -> None:
        super().__init__(f"appointment {appointment_id} does not exist")


class BayNotFound(NotFound):
    def __init__(self, bay_id: object) -> None:
        super().__init__(f"bay {bay_id} does not exist")


class TechnicianNotFound(NotFound):
    def __init__(self, technician_id: object) -> None:
        super().__init__(f"technician {technician_id} does not exist")


class InvalidSettings(Unprocessable):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("the workshop settings break one or more rules", errors=errors)


class InvalidAppointmentTime(Unprocessable):
    """The times break a booking rule (grid, opening hours, closed date, past, horizon)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        first = next(iter(errors.values()))[0]
        field_name = next(iter(errors))
        super().__init__(f"{field_name} {first}", errors=errors)


class InvalidResource(Unprocessable):
    """A bay, technician or vehicle named in the request cannot be used."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}", errors={field_name: [message]})


class NameAlreadyInUse(Conflict):
    def __init__(self, what: str, name: str) -> None:
        super().__init__(f"a {what} named {name!r} already exists")


class BayAlreadyBooked(Conflict):
    def __init__(self, bay_name: str) -> None:
        super().__init__(f"bay {bay_name} is already booked for part of that time")


class NoBayFree(Conflict):
    def __init__(self, kind: str | None) -> None:
        what = f"no {kind} bay" if kind else "no bay"
        super().__init__(f"{what} is free for the whole of that time")


class VehicleAlreadyBooked(Conflict):
    def __init__(self, other: object | None = None) -> None:
        detail = "the vehicle already has an appointment that overlaps that time"
        super().__init__(detail + (f" ({other})" if other else ""))


class TechnicianAlreadyBooked(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"technician {name} already has an appointment that overlaps that time")


class TransitionNotAllowed(Conflict):
    def __init__(self, verb: str, status: str) -> None:
        allowed = sorted(TRANSITIONS[verb][0]) if verb in TRANSITIONS else sorted(RESCHEDULABLE)
        super().__init__(
            f"cannot {verb} an appointment that is {status}; {verb} is possible from {' or '.join(allowed)}",
            current_status=status,
        )


class NoShowTooEarly(Conflict):
    def __init__(self) -> None:
        super().__init__("the appointment has not started yet: it cannot be a no-show")


class JobAlreadyStarted(Conflict):
    """maintenance-job-management refused: the work has begun (or is done)."""

    def __init__(self, action: str, job_status: str | None) -> None:
        status = f" (it is {job_status})" if job_status else ""
        super().__init__(
            f"cannot {action}: the maintenance job has already started{status}", job_status=job_status
        )


class AbandonedBookingAttempt(Conflict):
    """A retry reused the appointment id of an earlier failed attempt with the same
    Idempotency-Key, but that attempt's job cannot be this booking's."""

    def __init__(self) -> None:
        super().__init__(
            "an earlier, failed attempt with this Idempotency-Key left a job that does not fit this "
            "booking (cancelled, or for another vehicle); book again with a new Idempotency-Key"
        )


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


def check_appointment_time(workshop: Workshop, start: datetime, end: datetime, *, now: datetime) -> None:
    """Every rule about when an appointment may be; ``InvalidAppointmentTime`` (422)
    names each one broken. Overlaps are another matter (409, see below)."""
    if end <= start:
        raise InvalidAppointmentTime({"end": ["must be after start"]})
    tz = workshop.tz
    errors: dict[str, list[str]] = {}

    def add(field_name: str, message: str) -> None:
        errors.setdefault(field_name, []).append(message)

    for field_name, instant in (("start", start), ("end", end)):
        if not on_grid(instant, tz, workshop.slot_minutes):
            add(field_name, f"must be on the {workshop.slot_minutes}-minute slot grid ({workshop.time_zone})")
    day = local_date(start, tz)
    if start < now:
        add("start", "is in the past")
    elif day > last_bookable_day(workshop, now):
        add("start", f"is beyond the booking horizon of {workshop.horizon_days} days")
    if day in workshop.closed_dates:
        add("start", f"the workshop is closed on {day.isoformat()}")
    elif opening_interval(workshop, start, end) is None:
        add(
            "start",
            f"the appointment must lie inside the opening hours of {day.isoformat()} ({workshop.time_zone})",
        )
    if errors:
        raise InvalidAppointmentTime(errors)


# ------------------------------------------------------------------------- overlaps


def overlaps(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    """Back-to-back is not an overlap."""
    return start < other_end and end > other_start


@dataclass(frozen=True)
class Booking:
    """What an active appointment holds."""

    appointment_id: uuid.UUID
    start: datetime
    end: datetime
    bay_id: uuid.UUID
    vehicle_id: uuid.UUID
    technician_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Conflicts:
    busy_bays: frozenset[uuid.UUID]
    vehicle: Booking | None
    technician: Booking | None


def find_conflicts(
    bookings: Iterable[Booking],
    start: datetime,
    end: datetime,
    *,
    vehicle_id: uuid.UUID,
    technician_id: uuid.UUID | None,
    ignore: uuid.UUID | None = None,
) -> Conflicts:
    busy: set[uuid.UUID] = set()
    vehicle = technician = None
    for booking in bookings:
        if booking.appointment_id == ignore or not overlaps(start, end, booking.start, booking.end):
            continue
        busy.add(booking.bay_id)
        if booking.vehicle_id == vehicle_id:
            vehicle = vehicle or booking
        if technician_id is not None and booking.technician_id == technician_id:
            technician = technician or booking
    return Conflicts(frozenset(busy), vehicle, technician)


# ---------------------------------------------------------------------- availability


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


# ---------------------------------------------------------------------------- lifecycle


def transition(verb: str, status: str) -> str:
    allowed_from, target = TRANSITIONS[verb]
    if status not in allowed_from:
        raise TransitionNotAllowed(verb, status)
    return target


def ensure_reschedulable(status: str) -> None:
    if status not in RESCHEDULABLE:
        raise TransitionNotAllowed("reschedule", status)


def ensure_no_show_allowed(start: datetime, now: datetime) -> None:
    if now < start:
        raise NoShowTooEarly()


def reminder_window(
    workshop: Workshop, now: datetime, day: date | None = None
) -> tuple[date, datetime, datetime]:
    """The day reminders are for (tomorrow in the workshop's zone unless given) and its
    real bounds."""
    tz = workshop.tz
    day = day or local_date(now, tz) + timedelta(days=1)
    start, end = day_bounds(day, tz)
    return day, start, end


def describe_work(description: str, service_codes: Sequence[str]) -> str:
    """The job's description: the booked request, with its service codes."""
    text = description.strip()
    if service_codes:
        text += f" [{', '.join(service_codes)}]"
    return text
