"""Where an appointment goes: the bookings around a time, the bay and technician asked
for, the conflicts found in Python for a clear answer, and writing the appointment
into the first free bay the database's exclusion constraints accept (the backstop
that holds under concurrency). Reserved bookings hold their bay like booked ones."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workshop_scheduling.domain.appointments import (
    HOLDING,
    BayAlreadyBooked,
    Booking,
    Conflicts,
    InvalidResource,
    NoBayFree,
    TechnicianAlreadyBooked,
    VehicleAlreadyBooked,
    check_appointment_time,
    find_conflicts,
)
from workshop_scheduling.domain.workshop import Workshop
from workshop_scheduling.models import (
    BAY_OVERLAP,
    TECHNICIAN_OVERLAP,
    VEHICLE_OVERLAP,
    Appointment,
    Bay,
    Technician,
)
from workshop_scheduling.service.workshop import active_bays, workshop

log = logging.getLogger("workshop_scheduling")

# Appointments lie inside one day's opening hours: one that overlaps a window starts
# at most a day before it. Keeps every window query an index range scan on start_at.
LONGEST_APPOINTMENT = timedelta(days=1)
EXCLUSION_VIOLATION, DEADLOCK = "23P01", "40P01"


def bookings_between(session: Session, start: datetime, end: datetime) -> list[Booking]:
    rows = session.execute(
        select(
            # The reservation of a move stands for the appointment it moves.
            func.coalesce(Appointment.move_of, Appointment.id),
            Appointment.start_at,
            Appointment.end_at,
            Appointment.bay_id,
            Appointment.vehicle_id,
            Appointment.technician_id,
        ).where(
            Appointment.status.in_(HOLDING),
            Appointment.start_at > start - LONGEST_APPOINTMENT,
            Appointment.start_at < end,
            Appointment.end_at > start,
        )
    )
    return [Booking(*row) for row in rows]


def requested_bay(session: Session, bay_id: uuid.UUID | None, kind: str | None) -> Bay | None:
    if bay_id is None:
        return None
    bay = session.get(Bay, bay_id)
    if bay is None:
        raise InvalidResource("bay_id", "no such bay")
    if not bay.active:
        raise InvalidResource("bay_id", f"bay {bay.name} is not in use")
    if kind and bay.kind != kind:
        raise InvalidResource("bay_id", f"bay {bay.name} is a {bay.kind} bay, not {kind}")
    return bay


def requested_technician(session: Session, technician_id: uuid.UUID | None) -> Technician | None:
    if technician_id is None:
        return None
    technician = session.get(Technician, technician_id)
    if technician is None:
        raise InvalidResource("technician_id", "no such technician")
    if not technician.active:
        raise InvalidResource("technician_id", f"{technician.name} is not active")
    return technician


def check_conflicts(conflicts: Conflicts, *, bay: Bay | None, technician: Technician | None) -> None:
    if conflicts.vehicle is not None:
        raise VehicleAlreadyBooked(conflicts.vehicle.appointment_id)
    if technician is not None and conflicts.technician is not None:
        raise TechnicianAlreadyBooked(technician.name)
    if bay is not None and bay.id in conflicts.busy_bays:
        raise BayAlreadyBooked(bay.name)


@dataclass(frozen=True)
class Spot:
    """Where a new booking may go: the workshop's rules, the bay kind, bay and technician
    asked for, and the free bays to try in order."""

    rules: Workshop
    kind: str | None
    bay: Bay | None
    technician: Technician | None
    candidates: list[Bay]


def where_to_book(session: Session, data: dict[str, Any], *, now: datetime) -> Spot:
    """Every rule of a new booking that needs no other service: its time (422), the bay
    and technician asked for (422), overlaps with the bookings holding their bay,
    vehicle or technician now (409), and the bays still free."""
    rules = workshop(session)
    start, end = data["start"], data["end"]
    check_appointment_time(rules, start, end, now=now)
    kind = data.get("bay_kind")
    bay = requested_bay(session, data.get("bay_id"), kind)
    technician = requested_technician(session, data.get("technician_id"))
    conflicts = find_conflicts(
        bookings_between(session, start, end),
        start,
        end,
        vehicle_id=data["vehicle_id"],
        technician_id=technician.id if technician else None,
    )
    check_conflicts(conflicts, bay=bay, technician=technician)
    candidates = [bay] if bay else [b for b in active_bays(session, kind) if b.id not in conflicts.busy_bays]
    if not candidates:
        raise NoBayFree(kind)
    return Spot(rules, kind, bay, technician, candidates)


def hold_bay(session: Session, bay_id: Any) -> None:
    """Take the bay's row lock (``FOR NO KEY UPDATE``: foreign-key checks of new
    appointments do not wait for it) until the transaction or savepoint ends. Two
    writers of one bay's appointments that both hold it go one after the other: the
    second meets the first's row committed (a 409 at once) instead of both waiting on
    each other's uncommitted row until PostgreSQL breaks the deadlock a second later.
    ``bay_id`` may be a subquery."""
    session.execute(select(Bay.id).where(Bay.id == bay_id).with_for_update(key_share=True))


def is_deadlock(exc: DBAPIError) -> bool:
    return _constraint_of(exc)[0] == DEADLOCK


def _constraint_of(exc: DBAPIError) -> tuple[str | None, str | None]:
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    return getattr(orig, "pgcode", None), getattr(diag, "constraint_name", None)


def place(
    session: Session,
    candidates: Sequence[Bay],
    apply: Callable[[Bay], Appointment],
    *,
    chosen_by_caller: bool,
    technician: Technician | None,
    kind: str | None,
) -> Appointment:
    """Write the appointment into the first candidate bay the database accepts. Each
    try is a savepoint: when a concurrent booking took an auto-chosen bay in the
    meantime (exclusion violation, or a deadlock between two such bookings) the next
    free bay is tried; any other overlap is the answer."""
    for bay in candidates:
        try:
            with session.begin_nested():
                appointment = apply(bay)
                session.flush()
            return appointment
        except DBAPIError as exc:
            sqlstate, constraint = _constraint_of(exc)
            if sqlstate == EXCLUSION_VIOLATION:
                if constraint == VEHICLE_OVERLAP:
                    raise VehicleAlreadyBooked() from exc
                if constraint == TECHNICIAN_OVERLAP and technician is not None:
                    raise TechnicianAlreadyBooked(technician.name) from exc
                if constraint == BAY_OVERLAP and chosen_by_caller:
                    raise BayAlreadyBooked(bay.name) from exc
                if constraint == BAY_OVERLAP:
                    log.info("bay %s was taken concurrently; trying the next free one", bay.name)
                    continue
            if sqlstate == DEADLOCK and not chosen_by_caller:
                log.info("deadlock with a concurrent booking of bay %s; trying the next free one", bay.name)
                continue
            raise
    raise NoBayFree(kind)
