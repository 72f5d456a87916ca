"""Appointments: book, show, list, reschedule, cancel, no-show, check-in, complete.

Booking, rescheduling and cancelling change the appointment here *and* its job in
maintenance-job-management, inline, inside the request's transaction:

1. every rule is checked (domain), overlaps first in Python for a clear answer, then
   by the database's exclusion constraints when the row is flushed — the backstop that
   holds under concurrency;
2. a ``JobCheck`` row is committed on its own (a second connection) before the job is
   touched, and locked by the request's transaction (``job_checks``);
3. the job call; if it fails the request rolls back and answers 503;
4. the change, its customer message (outbox) and the deletion of the ``JobCheck`` row
   commit together.

Every change of an appointment's status is also told to its job through the outbox
(``tell_job``), and the job's status answered inline is kept on the appointment
(docs/visits.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from service_kit.clock import utcnow
from service_kit.etag import ensure_version
from service_kit.ids import uuid7
from service_kit.outbox import enqueue
from service_kit.pagination import Page, keyset_page
from workshop_scheduling.clients import maintenance_jobs, notification_management
from workshop_scheduling.clients.maintenance_jobs import Job, JobDirectory, JobNotChangeable
from workshop_scheduling.clients.vehicle_management import VehicleDirectory
from workshop_scheduling.domain.appointments import (
    ACTIVE,
    BOOKED,
    CANCELLED,
    AbandonedBookingAttempt,
    AppointmentNotFound,
    InvalidResource,
    InWorkshopTime,
    JobAlreadyStarted,
    NoBayFree,
    check_appointment_time,
    describe_work,
    ensure_no_show_allowed,
    ensure_reschedulable,
    find_conflicts,
    is_newer,
    normalise_plate,
    transition,
)
from workshop_scheduling.models import (
    Appointment,
    Bay,
)
from workshop_scheduling.service import placement
from workshop_scheduling.service.job_checks import arm_job_check, disarm_job_check, reusable_appointment_id
from workshop_scheduling.service.workshop import active_bays, workshop


def message_data(appointment: Appointment, tz: Any) -> dict[str, Any]:
    """What each customer message about an appointment says (reminders too), in the
    workshop's time zone."""
    return {
        "appointment_id": str(appointment.id),
        "start": appointment.start_at.astimezone(tz).isoformat(),
        "end": appointment.end_at.astimezone(tz).isoformat(),
        "vehicle": f"{appointment.vehicle_make} {appointment.vehicle_model}",
        "plate": appointment.vehicle_plate,
        "work": appointment.work_description,
    }


def _job_refused(action: str, exc: JobNotChangeable) -> JobAlreadyStarted:
    return JobAlreadyStarted(action, exc.current_status)


def tell_job(session: Session, appointment: Appointment, *, at: datetime) -> None:
    """Send the appointment's new status to its job (outbox, this transaction), with the
    version the change gave the appointment."""
    session.flush()
    enqueue(
        session,
        maintenance_jobs.appointment_status(
            job_id=_job_of(appointment),
            appointment_id=appointment.id,
            status=appointment.status,
            version=appointment.version,
            changed_at=at,
            checked_in_at=appointment.checked_in_at,
        ),
    )


def _record_job(appointment: Appointment, job: Job) -> None:
    """The job as maintenance-job-management just answered: newer than any report of it
    the outbox may still bring."""
    if is_newer(job.version, appointment.job_version):
        appointment.job_status, appointment.job_version = job.status, job.version


def _job_of(appointment: Appointment) -> uuid.UUID:
    """The appointment's maintenance job: a committed appointment always has one
    (``job_id`` is null only inside the booking's own transaction)."""
    if appointment.job_id is None:
        raise RuntimeError(f"appointment {appointment.id} has no maintenance job")
    return appointment.job_id


@dataclass(frozen=True)
class BookingDependencies:
    """What booking needs besides the session: the two services called inline and a
    second database engine for the ``JobCheck`` rows committed on their own."""

    vehicles: VehicleDirectory
    jobs: JobDirectory
    side_engine: Engine
    grace: timedelta


def book_appointment(
    *,
    session: Session,
    dependencies: BookingDependencies,
    data: dict[str, Any],
    booked_by: str,
    request_key: str | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book a vehicle in: every rule, the vehicle and its owner from vehicle-management,
    the appointment, its job in maintenance-job-management and the confirmation to the
    customer, all or nothing."""
    now = now or utcnow()
    rules = workshop(session)
    start, end = data["start"], data["end"]
    check_appointment_time(rules, start, end, now=now)
    kind = data.get("bay_kind")
    bay = placement.requested_bay(session, data.get("bay_id"), kind)
    technician = placement.requested_technician(session, data.get("technician_id"))
    conflicts = find_conflicts(
        placement.bookings_between(session, start, end),
        start,
        end,
        vehicle_id=data["vehicle_id"],
        technician_id=technician.id if technician else None,
    )
    placement.check_conflicts(conflicts, bay=bay, technician=technician)
    candidates = [bay] if bay else [b for b in active_bays(session, kind) if b.id not in conflicts.busy_bays]
    if not candidates:
        raise NoBayFree(kind)

    vehicle = dependencies.vehicles.get_vehicle(data["vehicle_id"])
    if vehicle is None:
        raise InvalidResource("vehicle_id", "vehicle-management does not know this vehicle")
    if vehicle.status != "active":
        raise InvalidResource("vehicle_id", f"the vehicle is {vehicle.status}")

    appointment_id = reusable_appointment_id(session, request_key) or uuid7()
    codes = list(dict.fromkeys(data.get("service_codes") or []))

    def new_appointment(candidate: Bay) -> Appointment:
        appointment = Appointment(
            id=appointment_id,
            vehicle_id=vehicle.id,
            customer_id=vehicle.owner_id,
            vehicle_plate=vehicle.plate[:20],
            vehicle_make=vehicle.make[:60],
            vehicle_model=vehicle.model[:60],
            start_at=start,
            end_at=end,
            bay=candidate,
            technician=technician,
            work_description=data["work_description"].strip(),
            service_codes=codes,
            status=BOOKED,
            booked_by=booked_by,
        )
        session.add(appointment)
        return appointment

    appointment = placement.place(
        session,
        candidates,
        new_appointment,
        chosen_by_caller=bay is not None,
        technician=technician,
        kind=kind,
    )
    arm_job_check(
        session,
        dependencies.side_engine,
        appointment.id,
        request_key=request_key,
        due=now + dependencies.grace,
    )
    try:
        job = dependencies.jobs.create_job(
            appointment_id=appointment.id,
            vehicle_id=appointment.vehicle_id,
            customer_id=appointment.customer_id,
            planned_start=start,
            planned_end=end,
            description=describe_work(appointment.work_description, codes),
        )
    except JobNotChangeable as exc:
        # The appointment id came from an earlier attempt with this Idempotency-Key,
        # whose job is for another vehicle or customer.
        raise AbandonedBookingAttempt() from exc
    if job.status == "cancelled":
        raise AbandonedBookingAttempt()
    # Not a change of the appointment anyone has seen: it stays at version 1.
    job_fields = {"job_id": job.id, "job_status": job.status, "job_version": job.version}
    session.execute(update(Appointment).where(Appointment.id == appointment.id).values(**job_fields))
    for name, value in job_fields.items():
        set_committed_value(appointment, name, value)
    tell_job(session, appointment, at=now)
    enqueue(
        session,
        notification_management.notify(
            customer_id=appointment.customer_id,
            type_="appointment_confirmed",
            data=message_data(appointment, rules.tz),
            idempotency_key=f"appointment-confirmed-{appointment.id}",
        ),
    )
    disarm_job_check(session, appointment.id)
    session.flush()
    return appointment


def get_appointment(*, session: Session, appointment_id: uuid.UUID) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise AppointmentNotFound(appointment_id)
    return appointment


def in_workshop_time(session: Session, appointment: Appointment) -> InWorkshopTime:
    """The appointment as answered: its times on the workshop's clock."""
    return InWorkshopTime(appointment, workshop(session).tz)


def page_in_workshop_time(session: Session, page: Page) -> Page:
    tz = workshop(session).tz
    return Page([InWorkshopTime(appointment, tz) for appointment in page.items], page.next_cursor)


def lock_appointment(session: Session, appointment_id: uuid.UUID) -> Appointment:
    appointment = session.scalars(
        select(Appointment)
        .where(Appointment.id == appointment_id)
        .with_for_update(of=Appointment)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if appointment is None:
        raise AppointmentNotFound(appointment_id)
    return appointment


@dataclass(frozen=True)
class AppointmentFilters:
    vehicle_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    bay_id: uuid.UUID | None = None
    technician_id: uuid.UUID | None = None
    status: str | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    plate: str | None = None
    open: bool | None = None


def list_appointments(
    *,
    session: Session,
    filters: AppointmentFilters,
    limit: int,
    cursor: str | None,
    vehicles: VehicleDirectory | None = None,
) -> Page:
    """In start order (then id): a vehicle's or customer's visits, a bay's or technician's
    day. ``plate`` asks vehicle-management which vehicle has it; with ``open`` the visit
    still holding its bay: "where is my car?" in one call."""
    stmt = select(Appointment)
    if filters.plate is not None:
        if vehicles is None:
            raise RuntimeError("a plate is looked up in vehicle-management")
        found = vehicles.find_by_plate(normalise_plate(filters.plate))
        stmt = stmt.where(Appointment.vehicle_id.in_([vehicle.id for vehicle in found]))
    if filters.open is not None:
        held = Appointment.status.in_(ACTIVE)
        stmt = stmt.where(held if filters.open else ~held)
    for column, value in (
        (Appointment.vehicle_id, filters.vehicle_id),
        (Appointment.customer_id, filters.customer_id),
        (Appointment.bay_id, filters.bay_id),
        (Appointment.technician_id, filters.technician_id),
        (Appointment.status, filters.status),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.starts_from is not None:
        stmt = stmt.where(Appointment.start_at >= filters.starts_from)
    if filters.starts_before is not None:
        stmt = stmt.where(Appointment.start_at < filters.starts_before)
    return keyset_page(
        session, stmt, key_columns=[Appointment.start_at, Appointment.id], limit=limit, cursor=cursor
    )


def reschedule_appointment(
    *,
    session: Session,
    dependencies: BookingDependencies,
    appointment_id: uuid.UUID,
    data: dict[str, Any],
    expected_versions: set[int] | None,
    now: datetime | None = None,
) -> Appointment:
    """Move a booked appointment (and optionally its bay or technician): every rule
    again, the job's planned times moved, the customer told. ``end`` defaults to the
    same length; the bay stays unless given or no longer free (then another free bay
    of its kind); ``technician_id`` absent keeps, null removes."""
    now = now or utcnow()
    appointment = lock_appointment(session, appointment_id)
    ensure_version(appointment.version, expected_versions)
    ensure_reschedulable(appointment.status)
    rules = workshop(session)
    start = data["start"]
    end = data.get("end") or start + (appointment.end_at - appointment.start_at)
    check_appointment_time(rules, start, end, now=now)
    bay = placement.requested_bay(session, data.get("bay_id"), None)
    technician = (
        placement.requested_technician(session, data["technician_id"])
        if "technician_id" in data
        else appointment.technician
    )
    if technician is not None and not technician.active:
        raise InvalidResource("technician_id", f"{technician.name} is not active")
    conflicts = find_conflicts(
        placement.bookings_between(session, start, end),
        start,
        end,
        vehicle_id=appointment.vehicle_id,
        technician_id=technician.id if technician else None,
        ignore=appointment.id,
    )
    placement.check_conflicts(conflicts, bay=bay, technician=technician)
    current = appointment.bay
    if bay is not None:
        candidates = [bay]
    else:
        same_kind = [b for b in active_bays(session, current.kind) if b.id not in conflicts.busy_bays]
        # Keep the bay the appointment has when it is free; else the first free one of its kind.
        candidates = sorted(same_kind, key=lambda b: b.id != current.id)
    if not candidates:
        raise NoBayFree(current.kind)
    previous = (appointment.start_at, appointment.end_at, appointment.bay_id, appointment.technician_id)
    if previous == (start, end, candidates[0].id, technician.id if technician else None):
        return appointment
    previous_start, previous_end = appointment.start_at, appointment.end_at

    def move(candidate: Bay) -> Appointment:
        appointment.start_at, appointment.end_at = start, end
        appointment.bay = candidate
        appointment.technician = technician
        return appointment

    placement.place(
        session, candidates, move, chosen_by_caller=bay is not None, technician=technician, kind=current.kind
    )
    if (previous_start, previous_end) != (start, end):
        arm_job_check(
            session, dependencies.side_engine, appointment.id, request_key=None, due=now + dependencies.grace
        )
        try:
            dependencies.jobs.reschedule_job(_job_of(appointment), planned_start=start, planned_end=end)
        except JobNotChangeable as exc:
            raise _job_refused("reschedule", exc) from exc
        data_ = message_data(appointment, rules.tz) | {
            "previous_start": previous_start.astimezone(rules.tz).isoformat()
        }
        enqueue(
            session,
            notification_management.notify(
                customer_id=appointment.customer_id,
                type_="appointment_rescheduled",
                data=data_,
                idempotency_key=f"appointment-rescheduled-{appointment.id}-v{appointment.version}",
            ),
        )
        disarm_job_check(session, appointment.id)
    session.flush()
    return appointment


def cancel_appointment(
    *,
    session: Session,
    dependencies: BookingDependencies,
    appointment_id: uuid.UUID,
    reason: str | None,
    now: datetime | None = None,
) -> Appointment:
    """Cancel the appointment and its job (refused with 409 once the work has
    started); the customer is told. Cancelling again changes nothing."""
    now = now or utcnow()
    appointment = lock_appointment(session, appointment_id)
    if appointment.status == CANCELLED:
        return appointment
    transition("cancel", appointment.status)
    reason = (reason or "").strip() or None
    arm_job_check(
        session, dependencies.side_engine, appointment.id, request_key=None, due=now + dependencies.grace
    )
    try:
        job = dependencies.jobs.cancel_job(_job_of(appointment), reason=reason or "appointment cancelled")
    except JobNotChangeable as exc:
        raise _job_refused("cancel the appointment", exc) from exc
    _record_job(appointment, job)
    close_as_cancelled(session, appointment, reason=reason, now=now)
    disarm_job_check(session, appointment.id)
    session.flush()
    return appointment


def close_as_cancelled(
    session: Session, appointment: Appointment, *, reason: str | None, now: datetime
) -> None:
    """The appointment is cancelled (its bay free again), the customer told once (one
    key per appointment, however it came to be cancelled) and its job told."""
    appointment.status = CANCELLED
    appointment.cancelled_at = now
    appointment.cancel_reason = reason
    session.flush()
    data = message_data(appointment, workshop(session).tz)
    if reason:
        data["reason"] = reason
    enqueue(
        session,
        notification_management.notify(
            customer_id=appointment.customer_id,
            type_="appointment_cancelled",
            data=data,
            idempotency_key=f"appointment-cancelled-{appointment.id}",
        ),
    )
    tell_job(session, appointment, at=now)


def mark_no_show(
    *,
    session: Session,
    dependencies: BookingDependencies,
    appointment_id: uuid.UUID,
    now: datetime | None = None,
) -> Appointment:
    """The customer did not come: the bay is free again and the job is cancelled."""
    now = now or utcnow()
    appointment = lock_appointment(session, appointment_id)
    status = transition("no-show", appointment.status)
    ensure_no_show_allowed(appointment.start_at, now)
    arm_job_check(
        session, dependencies.side_engine, appointment.id, request_key=None, due=now + dependencies.grace
    )
    try:
        job = dependencies.jobs.cancel_job(_job_of(appointment), reason="the customer did not come (no-show)")
    except JobNotChangeable as exc:
        raise _job_refused("mark a no-show", exc) from exc
    _record_job(appointment, job)
    appointment.status = status
    appointment.no_show_at = now
    tell_job(session, appointment, at=now)
    disarm_job_check(session, appointment.id)
    session.flush()
    return appointment


def check_in(*, session: Session, appointment_id: uuid.UUID, now: datetime | None = None) -> Appointment:
    """The vehicle has arrived: its job learns it (``arrived_at``)."""
    now = now or utcnow()
    appointment = lock_appointment(session, appointment_id)
    appointment.status = transition("check-in", appointment.status)
    appointment.checked_in_at = now
    tell_job(session, appointment, at=now)
    return appointment


def complete(*, session: Session, appointment_id: uuid.UUID, now: datetime | None = None) -> Appointment:
    """The vehicle has left the bay: the rest of the booked time is free again."""
    now = now or utcnow()
    appointment = lock_appointment(session, appointment_id)
    appointment.status = transition("complete", appointment.status)
    appointment.completed_at = now
    tell_job(session, appointment, at=now)
    return appointment
