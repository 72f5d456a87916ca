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

Rescheduling, cancelling and no-show need the job's answer first (it refuses once the
work has started) and hold no lock across the call either: the change claimed (its
``JobCheck`` row with the intent) and, for a new time, that time reserved beside the
old one, committed in a short transaction; the job call; then the change with the
row's deletion in the request's transaction.

Every change of an appointment's status is also told to its job through the outbox
(``tell_job``), and the job's status answered inline is kept on the appointment
(docs/visits.md).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
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
from service_kit.links import LinkRevoked, issue_link, link_url
from service_kit.outbox import enqueue
from service_kit.pagination import Page, keyset_page
from workshop_scheduling.clients import maintenance_jobs, notification_management
from workshop_scheduling.clients.maintenance_jobs import Job, JobDirectory, JobNotChangeable
from workshop_scheduling.clients.vehicle_management import Vehicle, VehicleDirectory
from workshop_scheduling.domain.appointments import (
    ACTIVE,
    BOOKED,
    CANCELLED,
    NO_SHOW,
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
from workshop_scheduling.models import Appointment, Bay, JobCheck, Technician
from workshop_scheduling.service import placement
from workshop_scheduling.service.job_checks import (
    CANCEL,
    NO_SHOW_INTENT,
    RESCHEDULE,
    claim_change,
    disarm_job_check,
    ensure_no_change_under_way,
    hold_claimed_change,
    hold_job_check,
    job_check_row,
    release_move,
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


def appointment_link_url(session: Session, appointment: Appointment) -> str:
    """A customer-portal link to the appointment (confirm, move, cancel), recorded in
    this transaction and valid until the appointment's end: one per message. A move does
    not revoke the earlier ones: a link names the appointment, not its time, so the page
    a customer moved it from keeps working; each lapses at the end of the time its
    message announced, and every message about a new time carries a new link."""
    token = issue_link(
        session,
        purpose="appointment",
        resource_id=appointment.id,
        customer_id=appointment.customer_id,
        expires_at=appointment.end_at,
    )
    return link_url("appointment", token)


@dataclass(frozen=True)
class ChangedBy:
    """Who moves or cancels an appointment, and what they may do: staff (no ``guard``)
    or the customer through the portal (``guard`` refuses a change past the cut-off; it
    runs on the locked row before any other rule). ``client_address``: the customer's
    address as the portal saw it."""

    actor: Actor
    guard: Callable[[Appointment], None] | None = None
    client_address: str | None = None

    def check(self, appointment: Appointment) -> None:
        if self.guard is not None:
            self.guard(appointment)

    def record(self, appointment: Appointment) -> None:
        appointment.changed_by, appointment.changed_by_name = self.actor.subject, self.actor.name
        if self.client_address:
            appointment.customer_client_address = self.client_address


def _check(by: ChangedBy | None, appointment: Appointment) -> None:
    if by is not None:
        by.check(appointment)


def _record(by: ChangedBy | None, appointment: Appointment) -> None:
    if by is not None:
        by.record(appointment)


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
    owner_id: uuid.UUID | None = None,
    client_address: str | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book a vehicle in: every rule, the slot reserved and committed, the vehicle and
    its owner from vehicle-management, its job in maintenance-job-management, then the
    appointment confirmed with the confirmation to the customer. A booking that fails
    after its reservation releases it, and cancels a job it made: all or nothing.

    ``owner_id``: the customer a portal booking link was sent to; the vehicle must
    still be theirs (410 ``link-revoked`` when it changed hands)."""
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
        if owner_id is not None and vehicle.owner_id != owner_id:
            raise LinkRevoked("the vehicle is no longer registered to the customer this link was sent to")
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
                vehicle_names={
                    "vehicle_plate": vehicle.plate,
                    "vehicle_make": vehicle.make,
                    "vehicle_model": vehicle.model,
                },
            )
        except JobNotChangeable as exc:
            # The appointment id came from an earlier attempt with this Idempotency-Key,
            # whose job is for another vehicle or customer.
            raise AbandonedBookingAttempt() from exc
        if job.status == "cancelled":
            job = None  # the earlier attempt's, cancelled by check-jobs: nothing to undo
            raise AbandonedBookingAttempt()
        appointment = _confirm(session, reservation.id, vehicle, job, now=now)
        if client_address:
            appointment.customer_client_address = client_address
        return appointment
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
    data = message_data(appointment, workshop(session).tz)
    data["link_url"] = appointment_link_url(session, appointment)
    enqueue(
        session,
        notification_management.notify(
            customer_id=appointment.customer_id,
            type_="appointment_confirmed",
            data=data,
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


@dataclass(frozen=True)
class _Move:
    """Where a reschedule puts the appointment, every rule checked."""

    start: datetime
    end: datetime
    technician: Technician | None
    candidates: list[Bay]
    chosen_by_caller: bool
    kind: str


def _plan_move(
    session: Session, appointment: Appointment, data: dict[str, Any], *, now: datetime
) -> _Move | None:
    """Every rule of the move (time 422, bay and technician 422, overlaps with what holds
    a bay, vehicle or technician now 409) and the bays to try; None when nothing moves."""
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
        return None
    return _Move(start, end, technician, candidates, bay is not None, current.kind)


@dataclass(frozen=True)
class _PendingMove:
    """What step 1 of a reschedule committed: the reservation of the new time."""

    hold_id: uuid.UUID
    job_id: uuid.UUID
    start: datetime
    end: datetime
    previous_start: datetime


def reschedule_appointment(
    *,
    session: Session,
    dependencies: BookingDependencies,
    appointment_id: uuid.UUID,
    data: dict[str, Any],
    expected_versions: set[int] | None,
    by: ChangedBy | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move a booked appointment (and optionally its bay or technician): every rule
    again, the job's planned times moved, the customer told. ``end`` defaults to the
    same length; the bay stays unless given or no longer free (then another free bay
    of its kind); ``technician_id`` absent keeps, null removes.

    A new time holds no lock across the job call, like a booking (docs/orphan-jobs.md):
    1. in a short transaction of its own, committed: the appointment's row locked, every
       rule, the change claimed (``claim_change``) and the new time reserved beside the
       old one (a ``reserved`` row with ``move_of``): the loser of a race for the new
       time gets its 409 here, before the job is asked;
    2. the job's planned times moved (maintenance-job-management);
    3. in the request's transaction: the appointment moved onto its reservation, the
       customer told, the check deleted.
    Refused by the job service (409): the reservation released, nothing changed. Not
    answered (503), or 3 failing: the reservation released, the appointment as it was,
    and check-jobs sends the job its times again once due. Another bay or technician at
    the same times asks no other service: it is made in the request's transaction."""
    now = now or utcnow()
    with Session(dependencies.side_engine) as side:
        appointment = lock_appointment(side, appointment_id)
        _check(by, appointment)
        ensure_version(appointment.version, expected_versions)
        ensure_reschedulable(appointment.status)
        claim_change(side, appointment.id, intent=RESCHEDULE, reason=None, due=now + dependencies.grace)
        move = _plan_move(side, appointment, data, now=now)
        if move is None or (move.start, move.end) == (appointment.start_at, appointment.end_at):
            side.rollback()  # nothing for the job service: no claim either
            return _move_here(session, appointment_id, data, expected_versions, by=by, now=now)
        pending = _reserve_move(side, appointment, move)
        side.commit()
    hold_claimed_change(session, appointment_id)
    try:
        dependencies.jobs.reschedule_job(pending.job_id, planned_start=pending.start, planned_end=pending.end)
    except JobNotChangeable as exc:
        _abandon_change(session, dependencies, appointment_id, job_unchanged=True)
        raise _job_refused("reschedule", exc) from exc
    except BaseException:
        _abandon_change(session, dependencies, appointment_id, job_unchanged=False)
        raise
    try:
        return _confirm_move(session, appointment_id, pending, by=by, now=now)
    except BaseException:
        _abandon_change(session, dependencies, appointment_id, job_unchanged=False)
        raise


def _move_here(
    session: Session,
    appointment_id: uuid.UUID,
    data: dict[str, Any],
    expected_versions: set[int] | None,
    *,
    by: ChangedBy | None,
    now: datetime,
) -> Appointment:
    """A reschedule that leaves the times as they are (another bay or technician, or no
    change at all): no other service is asked, so it is made in the request's
    transaction."""
    appointment = lock_appointment(session, appointment_id)
    _check(by, appointment)
    ensure_version(appointment.version, expected_versions)
    ensure_reschedulable(appointment.status)
    ensure_no_change_under_way(session, appointment_id)
    move = _plan_move(session, appointment, data, now=now)
    if move is None:
        return appointment

    def apply(candidate: Bay) -> Appointment:
        appointment.start_at, appointment.end_at = move.start, move.end
        appointment.bay = candidate
        appointment.technician = move.technician
        _record(by, appointment)
        return appointment

    placement.place(
        session,
        move.candidates,
        apply,
        chosen_by_caller=move.chosen_by_caller,
        technician=move.technician,
        kind=move.kind,
    )
    session.flush()
    return appointment


def _reserve_move(side: Session, appointment: Appointment, move: _Move) -> _PendingMove:
    """The new time reserved beside the old one, in the first candidate bay the
    exclusion constraints accept (the appointment and its own reservation never exclude
    each other)."""

    def hold(candidate: Bay) -> Appointment:
        placement.hold_bay(side, candidate.id)  # released with the savepoint if the bay is taken
        reservation = Appointment(
            id=uuid7(),
            move_of=appointment.id,
            vehicle_id=appointment.vehicle_id,
            customer_id=appointment.customer_id,
            vehicle_plate=appointment.vehicle_plate,
            vehicle_make=appointment.vehicle_make,
            vehicle_model=appointment.vehicle_model,
            start_at=move.start,
            end_at=move.end,
            bay=candidate,
            technician=move.technician,
            work_description=appointment.work_description,
            service_codes=list(appointment.service_codes or []),
            status=RESERVED,
            booked_by=appointment.booked_by,
            booked_by_name=appointment.booked_by_name,
        )
        side.add(reservation)
        return reservation

    reservation = placement.place(
        side,
        move.candidates,
        hold,
        chosen_by_caller=move.chosen_by_caller,
        technician=move.technician,
        kind=move.kind,
    )
    return _PendingMove(reservation.id, _job_of(appointment), move.start, move.end, appointment.start_at)


def _confirm_move(
    session: Session,
    appointment_id: uuid.UUID,
    pending: _PendingMove,
    *,
    by: ChangedBy | None,
    now: datetime,
) -> Appointment:
    """The appointment moved onto the reservation of its new time, the customer told,
    the check deleted: the request's transaction. The bay's lock first, as a booking's
    confirmation takes it."""
    appointment = lock_appointment(session, appointment_id)
    ensure_reschedulable(appointment.status)  # checked in meanwhile: 409, check-jobs puts the job back
    reservation = session.get(Appointment, pending.hold_id)
    if reservation is None or reservation.move_of != appointment.id:
        raise RuntimeError(f"the reservation of the move of appointment {appointment_id} is gone")
    bay, technician = reservation.bay, reservation.technician
    placement.hold_bay(session, bay.id)
    session.delete(reservation)
    session.flush()
    appointment.start_at, appointment.end_at = pending.start, pending.end
    appointment.bay = bay
    appointment.technician = technician
    _record(by, appointment)
    session.flush()
    tz = workshop(session).tz
    previous_start = pending.previous_start.astimezone(tz).isoformat()
    data_ = message_data(appointment, tz) | {
        "previous_start": previous_start,
        "link_url": appointment_link_url(session, appointment),
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


def _abandon_change(
    session: Session, dependencies: BookingDependencies, appointment_id: uuid.UUID, *, job_unchanged: bool
) -> None:
    """A change that will not answer 200: the request's transaction ended, the
    reservation of a move released at once; the check deleted only when the job is
    known unchanged (refused), else left to ``check-jobs`` (a call that timed out may
    have reached the job; a cancelled job makes the appointment follow it). Best
    effort: what fails here is left to ``check-jobs``."""
    session.rollback()
    try:
        with Session(dependencies.side_engine) as side:
            release_move(side, appointment_id)
            if job_unchanged:
                disarm_job_check(side, appointment_id)
            side.commit()
    except Exception:
        log.warning("change of appointment %s not undone (check-jobs will)", appointment_id, exc_info=True)


def _claim_cancelling(
    dependencies: BookingDependencies,
    appointment_id: uuid.UUID,
    *,
    verb: str,
    intent: str,
    reason: str | None,
    by: ChangedBy | None,
    now: datetime,
) -> tuple[uuid.UUID, str] | None:
    """Step 1 of a cancel or no-show, committed on its own: the rules, and the change
    claimed. The job's id and the appointment's status then; None when it is already
    done (cancelling again changes nothing)."""
    done = CANCELLED if intent == CANCEL else NO_SHOW
    with Session(dependencies.side_engine) as side:
        appointment = lock_appointment(side, appointment_id)
        if appointment.status == done and intent == CANCEL:
            return None
        _check(by, appointment)
        transition(verb, appointment.status)
        if intent == NO_SHOW_INTENT:
            ensure_no_show_allowed(appointment.start_at, now)
        job_id = _job_of(appointment)
        claim_change(side, appointment.id, intent=intent, reason=reason, due=now + dependencies.grace)
        side.commit()
    return job_id, done


def _cancel_with_job(
    *,
    session: Session,
    dependencies: BookingDependencies,
    appointment_id: uuid.UUID,
    verb: str,
    action: str,
    intent: str,
    reason: str | None,
    job_reason: str,
    by: ChangedBy | None,
    now: datetime,
) -> Appointment:
    """A cancel or no-show: its job must be cancelled first (refused once the work has
    started), and nothing is locked while it is asked: the change claimed and committed,
    the job cancelled, then the appointment changed in the request's transaction."""
    claimed = _claim_cancelling(
        dependencies, appointment_id, verb=verb, intent=intent, reason=reason, by=by, now=now
    )
    if claimed is None:
        return lock_appointment(session, appointment_id)
    job_id, done = claimed
    hold_claimed_change(session, appointment_id)
    try:
        job = dependencies.jobs.cancel_job(job_id, reason=job_reason)
    except JobNotChangeable as exc:
        _abandon_change(session, dependencies, appointment_id, job_unchanged=True)
        raise _job_refused(action, exc) from exc
    except BaseException:
        _abandon_change(session, dependencies, appointment_id, job_unchanged=False)
        raise
    try:
        appointment = lock_appointment(session, appointment_id)
        _record_job(appointment, job)
        if appointment.status != done:  # the job's own report may have done it already
            transition(verb, appointment.status)
            check = session.get(JobCheck, appointment_id)
            if check is None:
                raise RuntimeError(f"the job check of appointment {appointment_id} is gone")
            _record(by, appointment)
            apply_intent(session, appointment, check, at=now)
        disarm_job_check(session, appointment.id)
        session.flush()
        return appointment
    except BaseException:
        _abandon_change(session, dependencies, appointment_id, job_unchanged=False)
        raise


def apply_intent(session: Session, appointment: Appointment, check: JobCheck, *, at: datetime) -> None:
    """The cancel or no-show under way (``check.intent``), its job known cancelled: made
    here - by the request that asked for it, by the job's report of its cancellation
    when that comes first, or by check-jobs when the request died."""
    if check.intent == CANCEL:
        close_as_cancelled(session, appointment, reason=check.reason, now=at)
    elif check.intent == NO_SHOW_INTENT:
        appointment.status = NO_SHOW
        appointment.no_show_at = at
        tell_job(session, appointment, at=at)


def cancel_appointment(
    *,
    session: Session,
    dependencies: BookingDependencies,
    appointment_id: uuid.UUID,
    reason: str | None,
    by: ChangedBy | None = None,
    job_reason: str | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Cancel the appointment and its job (refused with 409 once the work has
    started); the customer is told. Cancelling again changes nothing."""
    reason = (reason or "").strip() or None
    return _cancel_with_job(
        session=session,
        dependencies=dependencies,
        appointment_id=appointment_id,
        verb="cancel",
        action="cancel the appointment",
        intent=CANCEL,
        reason=reason,
        job_reason=job_reason or reason or "appointment cancelled",
        by=by,
        now=now or utcnow(),
    )


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
    by: ChangedBy | None = None,
    now: datetime | None = None,
) -> Appointment:
    """The customer did not come: the bay is free again and the job is cancelled."""
    return _cancel_with_job(
        session=session,
        dependencies=dependencies,
        appointment_id=appointment_id,
        verb="no-show",
        action="mark a no-show",
        intent=NO_SHOW_INTENT,
        reason=None,
        job_reason="the customer did not come (no-show)",
        by=by,
        now=now or utcnow(),
    )


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
