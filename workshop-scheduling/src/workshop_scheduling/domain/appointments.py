"""Booking rules: when an appointment may be (the slot grid, opening hours, closed
dates, the booking window), overlaps with the other bookings, the appointment's
lifecycle, what its job's status makes of it, and the description of its maintenance
job. Plain functions that tests call without a database.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from service_kit.problems import Conflict, NotFound, Unprocessable
from workshop_scheduling.domain.workshop import (
    Workshop,
    last_bookable_day,
    local_date,
    on_grid,
    opening_interval,
)

BOOKED, CHECKED_IN, CANCELLED, NO_SHOW, COMPLETED = (
    "booked",
    "checked_in",
    "cancelled",
    "no_show",
    "completed",
)
STATUSES = (BOOKED, CHECKED_IN, CANCELLED, NO_SHOW, COMPLETED)
# A booking between its reservation and its job's answer (docs/orphan-jobs.md): it holds
# its bay but is no appointment yet, so it is never answered, listed or planned.
RESERVED = "reserved"
# The appointments staff see as open: booked, or the vehicle is here.
ACTIVE = (BOOKED, CHECKED_IN)
# The statuses that hold a bay, a vehicle and a technician (the exclusion constraints
# say the same in the database).
HOLDING = (RESERVED, *ACTIVE)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "check-in": (frozenset({BOOKED}), CHECKED_IN),
    "complete": (frozenset({CHECKED_IN}), COMPLETED),
    "no-show": (frozenset({BOOKED}), NO_SHOW),
    "cancel": (frozenset({BOOKED, CHECKED_IN}), CANCELLED),
}
RESCHEDULABLE = frozenset({BOOKED})
# A maintenance job's statuses, as maintenance-job-management reports them.
JOB_LIFECYCLE = ("scheduled", "in_progress", "on_hold", "completed", "cancelled")
JOB_COMPLETED, JOB_CANCELLED = "completed", "cancelled"
# How vehicle-management compares plates: "AB-12-CD", "ab 12 cd" and "AB12CD" are one.
PLATE_SEPARATORS = re.compile(r"[\s\-.·]+")
PLATE_MAX_LENGTH = 12


# ------------------------------------------------------------------------------- errors


class AppointmentNotFound(NotFound):
    def __init__(self, appointment_id: object) -> None:
        super().__init__(f"appointment {appointment_id} does not exist")


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


class AppointmentBeingChanged(Conflict):
    """Another reschedule, cancel or no-show of the appointment waits for
    maintenance-job-management's answer (docs/orphan-jobs.md)."""

    def __init__(self, appointment_id: object) -> None:
        super().__init__(
            f"appointment {appointment_id} is being changed by another request; read it again and retry"
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


class TooLateToChange(Conflict):
    """The customer cannot move or cancel this appointment through the portal (any
    more): it starts within the garage's cut-off, or it is no longer booked."""

    def __init__(self, detail: str, *, changeable_until: datetime, status: str) -> None:
        super().__init__(detail, changeable_until=changeable_until.isoformat(), current_status=status)


class InvalidPlate(Unprocessable):
    def __init__(self) -> None:
        message = f"letters and digits (at most {PLATE_MAX_LENGTH}), with spaces, dashes or dots between"
        super().__init__(f"plate: {message}", errors={"plate": [message]})


class AbandonedBookingAttempt(Conflict):
    """A retry reused the appointment id of an earlier failed attempt with the same
    Idempotency-Key, but that attempt's job cannot be this booking's."""

    def __init__(self) -> None:
        super().__init__(
            "an earlier, failed attempt with this Idempotency-Key left a job that does not fit this "
            "booking (cancelled, or for another vehicle); book again with a new Idempotency-Key"
        )


# --------------------------------------------------------------------- appointment time


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


def changeable_until(start: datetime, cutoff: timedelta) -> datetime:
    """Until when the customer may move or cancel an appointment themselves."""
    return start - cutoff


def ensure_changeable_by_customer(
    status: str, start: datetime, *, now: datetime, cutoff: timedelta, tz: ZoneInfo
) -> None:
    """A booked appointment, before its cut-off (``cutoff`` before the start); later,
    or checked in, done, missed or cancelled, the front desk decides."""
    until = changeable_until(start, cutoff).astimezone(tz)
    if status != BOOKED:
        raise TooLateToChange(
            f"the appointment is {status.replace('_', ' ')}: it can no longer be changed here",
            changeable_until=until,
            status=status,
        )
    if now >= until:
        raise TooLateToChange(
            f"the appointment can be changed here until {until.isoformat()}; please call the garage",
            changeable_until=until,
            status=status,
        )


def follows_job(status: str, job_status: str) -> str | None:
    """What the job's new status makes of an appointment that still holds its bay: a
    completed job completes it (the bay is free again), a cancelled one cancels it;
    None: nothing. An appointment already done, cancelled or missed stays as it is, so
    a job cancelled because its appointment was is no change here (no loop)."""
    if status not in ACTIVE:
        return None
    return {JOB_COMPLETED: COMPLETED, JOB_CANCELLED: CANCELLED}.get(job_status)


def is_newer(version: int, last_applied: int | None) -> bool:
    """A report of the other service's state is applied once, and never after a newer one."""
    return last_applied is None or version > last_applied


def normalise_plate(raw: str) -> str:
    """The plate as vehicle-management compares it: upper case, without spaces, dashes
    or dots. ``InvalidPlate`` (422 on ``plate``) when no vehicle can have it."""
    plate = PLATE_SEPARATORS.sub("", raw).upper()
    if not plate or not plate.isalnum() or len(plate) > PLATE_MAX_LENGTH:
        raise InvalidPlate()
    return plate


@dataclass(frozen=True)
class InWorkshopTime:
    """An appointment as it is answered: every instant of it on the workshop's clock,
    with the offset of that moment (+01:00 in an Amsterdam winter, +02:00 in summer), as
    the planning views and the customer's messages show it. Stored in UTC all the same."""

    appointment: Any
    tz: ZoneInfo

    def value(self, attribute: str) -> Any:
        value = getattr(self.appointment, attribute)
        return value.astimezone(self.tz) if isinstance(value, datetime) else value


def describe_work(description: str, service_codes: Sequence[str]) -> str:
    """The job's description: the booked request, with its service codes."""
    text = description.strip()
    if service_codes:
        text += f" [{', '.join(service_codes)}]"
    return text
