"""Where an appointment goes: the bookings around a time, the bay and technician asked
for, the conflicts found in Python for a clear answer, and writing the appointment
into the first free bay the database's exclusion constraints accept (the backstop
that holds under concurrency)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workshop_scheduling.domain.appointments import (
    ACTIVE,
    BayAlreadyBooked,
    Booking,
    Conflicts,
    InvalidResource,
    NoBayFree,
    TechnicianAlreadyBooked,
    VehicleAlreadyBooked,
)
from workshop_scheduling.models import (
    BAY_OVERLAP,
    TECHNICIAN_OVERLAP,
    VEHICLE_OVERLAP,
    Appointment,
    Bay,
    Technician,
)

log = logging.getLogger("workshop_scheduling")

# Appointments lie inside one day's opening hours: one that overlaps a window starts
# at most a day before it. Keeps every window query an index range scan on start_at.
LONGEST_APPOINTMENT = timedelta(days=1)
EXCLUSION_VIOLATION, DEADLOCK = "23P01", "40P01"


def bookings_between(session: Session, start: datetime, end: datetime) -> list[Booking]:
    rows = session.execute(
        select(
            Appointment.id,
            Appointment.start_at,
            Appointment.end_at,
            Appointment.bay_id,
            Appointment.vehicle_id,
            Appointment.technician_id,
        ).where(
            Appointment.status.in_(ACTIVE),
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
