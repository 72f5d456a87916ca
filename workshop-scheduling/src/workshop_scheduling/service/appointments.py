"""Appointments: book, show, list, reschedule, cancel, no-show, check-in, complete.

Booking holds no lock across a call (docs/orphan-jobs.md):

1. reserve, in a short transaction of its own (a second connection), committed: every
   rule is checked (domain), overlaps first in Python for a clear answer, then the
   appointment is written as ``reserved`` with its ``JobCheck`` row. The database's
   exclusion constraints count a reservation as holding its bay, so the loser of a race
   gets its 409 here, before any other service is called;
2. the vehicle and its owner from vehicle-management;
3. the job call (idempotent on the appointment id);
4. reserved -> booked, its customer message (outbox) and the deletion of the
   ``JobCheck`` row commit with the request's transaction (and its Idempotency-Key).

If 2-4 fail, the reservation is released and a job made is cancelled at once.

Rescheduling and cancelling change the appointment here *and* its job, inline, inside
the request's transaction: a ``JobCheck`` row committed on its own first, the job call,
then the change with the row's deletion.

Every change of an appointment's status is also told to its job through the outbox
(``tell_job``), and the job's status answered inline is kept on the appointment
(docs/visits.md).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service_kit.auth import Actor
from service_kit.clock import utcnow
from service_kit.etag import ensure_version
from service_kit.http_client import DependencyFailed
from service_kit.ids import uuid7
from service_kit.outbox import enqueue
from service_kit.pagination import Page, keyset_page
from workshop_scheduling.clients import maintenance_jobs, notification_management
from workshop_scheduling.clients.maintenance_jobs import Job, JobDirectory, JobNotChangeable
from workshop_scheduling.clients.vehicle_management import Vehicle, VehicleDirectory
from workshop_scheduling.domain.appointments import (
    ACTIVE,
    BOOKED,
    CANCELLED,
    RESERVED,
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
from workshop_scheduling.service.job_checks import (
    arm_job_check,
    disarm_job_check,
    hold_job_check,
    job_check_row,
    release_reservation,
    take_over_attempt,
)
from workshop_scheduling.service.workshop import active_bays, workshop

log = logging.getLogger("workshop_scheduling")
# A confirmation that meets a concurrent reservation in a deadlock is tried again.
CONFIRM_ATTEMPTS = 3


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
    """The appointment's maintenance job: every appointment has one (``job_id`` is null
    only while a booking is reserved, and reservations are never answered or changed)."""
    if appointment.job_id is None:
        raise RuntimeError(f"appointment {appointment.id} has no maintenance job")
    return appointment.job_id


@dataclass(frozen=True)
class BookingDependencies:
    """What booking needs besides the session: the two services called inline and a
    second database engine for the work committed apart from the request's transaction
    (a booking's reservation, the ``JobCheck`` rows)."""

    vehicles: VehicleDirectory
    jobs: JobDirectory
    side_engine: Engine
    grace: timedelta


def book_appointment(
    *,
    session: Session,
    dependencies: BookingDependencies,
    data: dict[str, Any],
    booked_by: Actor,
    request_key: str | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book a vehicle in: every rule, the slot reserved and committed, the vehicle and
    its owner from vehicle-management, its job in maintenance-job-management, then the
    appointment confirmed with the confirmation to the customer. A booking that fails
    after its reservation releases it, and cancels a job it made: all or nothing."""
    now = now or utcnow()
    with Session(dependencies.side_engine) as side:
        reservation = _reserve(
            side,
            data=data,
            booked_by=booked_by,
            request_key=request_key,
            now=now,
            due=now + dependencies.grace,
        )
    job: Job | None = None
    job_asked = False
    try:
        hold_job_check(session, reservation.id)
        vehicle = dependencies.vehicles.get_vehicle(reservation.vehicle_id)
        if vehicle is None:
            raise InvalidResource("vehicle_id", "vehicle-management does not know this vehicle")
        if vehicle.status != "active":
            raise InvalidResource("vehicle_id", f"the vehicle is {vehicle.status}")
        job_asked = True
        try:
            job = dependencies.jobs.create_job(
                appointment_id=reservation.id,
                vehicle_id=vehicle.id,
                customer_id=vehicle.owner_id,
                planned_start=reservation.start_at,
                planned_end=reservation.end_at,
                description=describe_work(reservation.work_description, reservation.service_codes),
            )
        except JobNotChangeable as exc:
            # The appointment id came from an earlier attempt with this Idempotency-Key,
            # whose job is for another vehicle or customer.
            raise AbandonedBookingAttempt() from exc
        if job.status == "cancelled":
            job = None  # the earlier attempt's, cancelled by check-jobs: nothing to undo
            raise AbandonedBookingAttempt()
        return _confirm(session, reservation.id, vehicle, job, now=now)
    except BaseException:
        _undo_booking(session, dependencies, reservation.id, job, job_asked=job_asked)
        raise


@dataclass(frozen=True)
class Reservation:
    """What the job is made of: the reservation as committed."""

    id: uuid.UUID
    vehicle_id: uuid.UUID
    start_at: datetime
    end_at: datetime
    work_description: str
    service_codes: list[str]


def _reserve(
    side: Session,
    *,
    data: dict[str, Any],
    booked_by: Actor,
    request_key: str | None,
    now: datetime,
    due: datetime,
) -> Reservation:
    """Every rule that needs no other service, then the appointment written as
    ``reserved`` into the first free bay the exclusion constraints accept, with its job
    check, in a short transaction of its own that is committed before any other service
    is called: a concurrent booking of the same bay, vehicle or technician loses here
    (422/409 with no call made, and no job), and no booking waits on this one while
    its vehicle is looked up and its job made. Who owns the vehicle is not known yet:
    ``customer_id`` and the vehicle's copy stay null until the confirmation."""
    appointment_id = take_over_attempt(side, request_key) or uuid7()
    spot = placement.where_to_book(side, data, now=now)
    codes = list(dict.fromkeys(data.get("service_codes") or []))

    def new_appointment(candidate: Bay) -> Appointment:
        placement.hold_bay(side, candidate.id)  # released with the savepoint if the bay is taken
        appointment = Appointment(
            id=appointment_id,
            vehicle_id=data["vehicle_id"],
            start_at=data["start"],
            end_at=data["end"],
            bay=candidate,
            technician=spot.technician,
            work_description=data["work_description"].strip(),
            service_codes=codes,
            status=RESERVED,
            **booked_by.fields("booked_by"),
        )
        side.add(appointment)
        return appointment

    appointment = placement.place(
        side,
        spot.candidates,
        new_appointment,
        chosen_by_caller=spot.bay is not None,
        technician=spot.technician,
        kind=spot.kind,
    )
    side.execute(job_check_row(appointment_id, request_key=request_key, due=due))
    reservation = Reservation(
        appointment.id,
        appointment.vehicle_id,
        appointment.start_at,
        appointment.end_at,
        appointment.work_description,
        codes,
    )
    side.commit()
    return reservation


def _confirm(
    session: Session, appointment_id: uuid.UUID, vehicle: Vehicle, job: Job, *, now: datetime
) -> Appointment:
    """reserved -> booked with the vehicle's owner and copy and its job, the customer's
    confirmation and the status for the job in the outbox, in the request's transaction
    (with its Idempotency-Key). The update re-checks the exclusion constraints: it holds
    the bay first, like a reservation, so it never waits on a concurrent reservation of
    the bay that waits on it. A deadlock all the same (the vehicle's or technician's
    constraint) rolls back the savepoint and is tried again: the other side gets its 409."""
    # Not a change of the appointment anyone has seen: it stays at version 1.
    confirmed = update(Appointment).where(Appointment.id == appointment_id, Appointment.status == RESERVED)
    confirmed = confirmed.values(
        status=BOOKED,
        customer_id=vehicle.owner_id,
        vehicle_plate=vehicle.plate[:20],
        vehicle_make=vehicle.make[:60],
        vehicle_model=vehicle.model[:60],
        job_id=job.id,
        job_status=job.status,
        job_version=job.version,
        updated_at=now,
    )
    bay_of_appointment = select(Appointment.bay_id).where(Appointment.id == appointment_id).scalar_subquery()
    for attempt in range(1, CONFIRM_ATTEMPTS + 1):
        try:
            with session.begin_nested():
                placement.hold_bay(session, bay_of_appointment)
                result = cast("CursorResult[Any]", session.execute(confirmed))
            break
        except DBAPIError as exc:
            if not placement.is_deadlock(exc) or attempt == CONFIRM_ATTEMPTS:
                raise
            log.info("deadlock confirming appointment %s (a concurrent reservation); again", appointment_id)
    if result.rowcount != 1:
        # check-jobs never takes a check the request holds: this is a bug, not a race.
        raise RuntimeError(f"the reservation of appointment {appointment_id} is gone")
    appointment = session.get(Appointment, appointment_id, populate_existing=True)
    if appointment is None:
        raise RuntimeError(f"appointment {appointment_id} is gone")
    tell_job(session, appointment, at=now)
    enqueue(
        session,
        notification_management.notify(
            customer_id=appointment.customer_id,
            type_="appointment_confirmed",
            data=message_data(appointment, workshop(session).tz),
            idempotency_key=f"appointment-confirmed-{appointment.id}",
        ),
    )
    disarm_job_check(session, appointment.id)
    session.flush()
    return appointment


def _undo_booking(
    session: Session,
    dependencies: BookingDependencies,
    appointment_id: uuid.UUID,
    job: Job | None,
    *,
    job_asked: bool,
) -> None:
    """A booking that will not answer 201: no active job and no reservation may stay.
    A job it made is cancelled now; if that cannot be done, or the job call failed
    (a job may still appear: the job service may have acted after our timeout), the
    job check stays and ``check-jobs`` cancels it once due. The reservation is released
    at once. Best effort: what fails here is left to ``check-jobs``."""
    # First end the request's transaction: its lock on the appointment (a confirmation
    # begun) would keep the release waiting on this very thread.
    session.rollback()
    settled = not job_asked
    if job is not None:
        try:
            dependencies.jobs.cancel_job(job.id, reason="the booking was not completed")
            settled = True
        except (DependencyFailed, JobNotChangeable) as exc:
            log.warning("job %s of a failed booking not cancelled (check-jobs will): %s", job.id, exc)
    try:
        with Session(dependencies.side_engine) as side:
            release_reservation(side, appointment_id)
            if settled:
                disarm_job_check(side, appointment_id)
            side.commit()
    except Exception:
        log.warning(
            "reservation of appointment %s not released (check-jobs will)", appointment_id, exc_info=True
        )


def get_appointment(*, session: Session, appointment_id: uuid.UUID) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.status == RESERVED:
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
        .where(Appointment.id == appointment_id, Appointment.status != RESERVED)
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
    still holding its bay: "where is my car?" in one call. Reservations (bookings not
    yet confirmed) are not appointments yet: never listed."""
    stmt = select(Appointment).where(Appointment.status != RESERVED)
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
