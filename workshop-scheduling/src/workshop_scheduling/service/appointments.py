"""Workshop use cases. Each takes its dependencies as keyword arguments, flushes but never
commits (the HTTP layer makes one request one transaction), and knows no HTTP.

Booking, rescheduling and cancelling change the appointment here *and* its job in
maintenance-job-management, inline, inside the request's transaction:

1. every rule is checked (domain), overlaps first in Python for a clear answer, then
   by the database's exclusion constraints when the row is flushed — the backstop that
   holds under concurrency;
2. a ``JobCheck`` row is committed on its own (a second connection) before the job is
   touched, and locked by the request's transaction;
3. the job call; if it fails the request rolls back and answers 503;
4. the change, its customer message (outbox) and the deletion of the ``JobCheck`` row
   commit together.

A ``JobCheck`` row that survives (the job was made but the booking never committed:
a timeout after the job service acted, a crash, a failed commit) is put right by
``check_jobs`` once it is due: the job is made to match the appointment, and the job
of a booking that never happened is cancelled. A retry of a failed booking with the
same ``Idempotency-Key`` reuses its appointment id, so it adopts the job already made
instead of making a second. docs/orphan-jobs.md tells the whole story.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import String, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from service_kit.etag import ensure_version
from service_kit.http_client import DependencyFailed
from service_kit.ids import uuid7
from service_kit.outbox import enqueue
from service_kit.pagination import Page, keyset_page
from service_kit.problems import Unprocessable
from service_kit.retry import RetryPolicy
from workshop_scheduling import domain
from workshop_scheduling.clients import notification_management
from workshop_scheduling.clients.maintenance_jobs import JobDirectory, JobNotChangeable
from workshop_scheduling.clients.vehicle_management import VehicleDirectory
from workshop_scheduling.models import (
    BAY_OVERLAP,
    TECHNICIAN_OVERLAP,
    VEHICLE_OVERLAP,
    Appointment,
    Bay,
    JobCheck,
    Reminder,
    Technician,
    WorkshopSettings,
    utcnow,
)

log = logging.getLogger("workshop_scheduling")

# Appointments lie inside one day's opening hours: one that overlaps a window starts
# at most a day before it. Keeps every window query an index range scan on start_at.
LONGEST_APPOINTMENT = timedelta(days=1)
MAX_AVAILABILITY_DAYS = 31
EXCLUSION_VIOLATION, DEADLOCK = "23P01", "40P01"
JOB_OPEN = ("scheduled", "on_hold")


# ----------------------------------------------------------------------------- settings


def get_settings(*, session: Session, for_update: bool = False) -> WorkshopSettings:
    """The workshop's settings; the defaults until someone changes them."""
    row = session.get(WorkshopSettings, 1, with_for_update=for_update)
    if row is None:
        defaults = domain.validate_settings(domain.DEFAULT_SETTINGS)
        session.execute(
            insert(WorkshopSettings.__table__)
            .values(id=1, version=1, updated_at=utcnow(), **defaults)
            .on_conflict_do_nothing()
        )
        row = session.get(WorkshopSettings, 1, with_for_update=for_update, populate_existing=True)
    if row is None:  # inserted just now, or by a concurrent request: it is there
        raise RuntimeError("the workshop settings row is missing")
    return row


def workshop(session: Session) -> domain.Workshop:
    return get_settings(session=session).as_domain()


def update_settings(
    *, session: Session, data: dict[str, Any], expected_versions: set[int] | None
) -> WorkshopSettings:
    """Replace the settings. Appointments already booked stay as they are; the new
    rules apply to every booking and reschedule from now on."""
    row = get_settings(session=session, for_update=True)
    ensure_version(row.version, expected_versions)
    for name, value in domain.validate_settings(data).items():
        if getattr(row, name) != value:
            setattr(row, name, value)
    session.flush()
    return row


# -------------------------------------------------------------------- bays, technicians

Resource = type[Bay] | type[Technician]


def _name_taken(session: Session, model: Resource, name: str, except_id: uuid.UUID | None = None) -> bool:
    stmt = select(model.id).where(func.lower(model.name) == name.lower())
    if except_id is not None:
        stmt = stmt.where(model.id != except_id)
    return session.scalar(stmt.limit(1)) is not None


def _upcoming_count(session: Session, column: Any, resource_id: uuid.UUID) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(column == resource_id, Appointment.status.in_(domain.ACTIVE), Appointment.end_at > utcnow())
    )


def _create_resource(session: Session, model: Resource, what: str, data: dict[str, Any]) -> Any:
    name = data["name"].strip()
    if _name_taken(session, model, name):
        raise domain.NameAlreadyInUse(what, name)
    resource = model(**{**data, "name": name})
    session.add(resource)
    session.flush()
    return resource


def _get_resource(
    session: Session, model: Resource, resource_id: uuid.UUID, *, for_update: bool = False
) -> Any:
    resource = session.get(model, resource_id, with_for_update=for_update)
    if resource is None:
        raise (domain.BayNotFound if model is Bay else domain.TechnicianNotFound)(resource_id)
    return resource


def _update_resource(
    session: Session,
    model: Resource,
    what: str,
    resource_id: uuid.UUID,
    changes: dict[str, Any],
    expected_versions: set[int] | None,
) -> Any:
    resource = _get_resource(session, model, resource_id, for_update=True)
    ensure_version(resource.version, expected_versions)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if changes["name"].lower() != resource.name.lower() and _name_taken(
            session, model, changes["name"], resource.id
        ):
            raise domain.NameAlreadyInUse(what, changes["name"])
    if changes.get("active") is False and resource.active:
        column = Appointment.bay_id if model is Bay else Appointment.technician_id
        upcoming = _upcoming_count(session, column, resource.id)
        if upcoming:
            raise domain.StillBooked(what, upcoming)
    for name, value in changes.items():
        if getattr(resource, name) != value:
            setattr(resource, name, value)
    session.flush()
    return resource


def _list_resources(
    session: Session, model: Resource, filters: dict[str, Any], *, limit: int, cursor: str | None
) -> Page:
    stmt = select(model)
    if filters.get("active") is not None:
        stmt = stmt.where(model.active == filters["active"])
    if filters.get("kind") and model is Bay:
        stmt = stmt.where(Bay.kind == filters["kind"])
    if filters.get("skill") and model is Technician:
        stmt = stmt.where(Technician.skills.any(filters["skill"]))
    return keyset_page(session, stmt, key_columns=[model.id], limit=limit, cursor=cursor)


def create_bay(*, session: Session, data: dict[str, Any]) -> Bay:
    return _create_resource(session, Bay, "bay", data)


def get_bay(*, session: Session, bay_id: uuid.UUID) -> Bay:
    return _get_resource(session, Bay, bay_id)


def list_bays(*, session: Session, filters: dict[str, Any], limit: int, cursor: str | None) -> Page:
    return _list_resources(session, Bay, filters, limit=limit, cursor=cursor)


def update_bay(
    *, session: Session, bay_id: uuid.UUID, changes: dict[str, Any], expected_versions: set[int] | None
) -> Bay:
    """A bay with upcoming appointments cannot be deactivated: move them first."""
    return _update_resource(session, Bay, "bay", bay_id, changes, expected_versions)


def create_technician(*, session: Session, data: dict[str, Any]) -> Technician:
    return _create_resource(session, Technician, "technician", data)


def get_technician(*, session: Session, technician_id: uuid.UUID) -> Technician:
    return _get_resource(session, Technician, technician_id)


def list_technicians(*, session: Session, filters: dict[str, Any], limit: int, cursor: str | None) -> Page:
    return _list_resources(session, Technician, filters, limit=limit, cursor=cursor)


def update_technician(
    *, session: Session, technician_id: uuid.UUID, changes: dict[str, Any], expected_versions: set[int] | None
) -> Technician:
    return _update_resource(session, Technician, "technician", technician_id, changes, expected_versions)


# ------------------------------------------------------------------------- appointments


def _bookings_between(session: Session, start: datetime, end: datetime) -> list[domain.Booking]:
    rows = session.execute(
        select(
            Appointment.id,
            Appointment.start_at,
            Appointment.end_at,
            Appointment.bay_id,
            Appointment.vehicle_id,
            Appointment.technician_id,
        ).where(
            Appointment.status.in_(domain.ACTIVE),
            Appointment.start_at > start - LONGEST_APPOINTMENT,
            Appointment.start_at < end,
            Appointment.end_at > start,
        )
    )
    return [domain.Booking(*row) for row in rows]


def _requested_bay(session: Session, bay_id: uuid.UUID | None, kind: str | None) -> Bay | None:
    if bay_id is None:
        return None
    bay = session.get(Bay, bay_id)
    if bay is None:
        raise domain.InvalidResource("bay_id", "no such bay")
    if not bay.active:
        raise domain.InvalidResource("bay_id", f"bay {bay.name} is not in use")
    if kind and bay.kind != kind:
        raise domain.InvalidResource("bay_id", f"bay {bay.name} is a {bay.kind} bay, not {kind}")
    return bay


def _requested_technician(session: Session, technician_id: uuid.UUID | None) -> Technician | None:
    if technician_id is None:
        return None
    technician = session.get(Technician, technician_id)
    if technician is None:
        raise domain.InvalidResource("technician_id", "no such technician")
    if not technician.active:
        raise domain.InvalidResource("technician_id", f"{technician.name} is not active")
    return technician


def _active_bays(session: Session, kind: str | None) -> list[Bay]:
    stmt = select(Bay).where(Bay.active.is_(True))
    if kind:
        stmt = stmt.where(Bay.kind == kind)
    return list(session.scalars(stmt.order_by(Bay.name, Bay.id)))


def _check_conflicts(conflicts: domain.Conflicts, *, bay: Bay | None, technician: Technician | None) -> None:
    if conflicts.vehicle is not None:
        raise domain.VehicleAlreadyBooked(conflicts.vehicle.appointment_id)
    if technician is not None and conflicts.technician is not None:
        raise domain.TechnicianAlreadyBooked(technician.name)
    if bay is not None and bay.id in conflicts.busy_bays:
        raise domain.BayAlreadyBooked(bay.name)


def _constraint_of(exc: DBAPIError) -> tuple[str | None, str | None]:
    orig = getattr(exc, "orig", None)
    diag = getattr(orig, "diag", None)
    return getattr(orig, "pgcode", None), getattr(diag, "constraint_name", None)


def _place(
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
                    raise domain.VehicleAlreadyBooked() from exc
                if constraint == TECHNICIAN_OVERLAP and technician is not None:
                    raise domain.TechnicianAlreadyBooked(technician.name) from exc
                if constraint == BAY_OVERLAP and chosen_by_caller:
                    raise domain.BayAlreadyBooked(bay.name) from exc
                if constraint == BAY_OVERLAP:
                    log.info("bay %s was taken concurrently; trying the next free one", bay.name)
                    continue
            if sqlstate == DEADLOCK and not chosen_by_caller:
                log.info("deadlock with a concurrent booking of bay %s; trying the next free one", bay.name)
                continue
            raise
    raise domain.NoBayFree(kind)


def _side_engine_write(engine: Engine, stmt: Any) -> None:
    with engine.begin() as connection:
        connection.execute(stmt)


def _arm_job_check(
    session: Session,
    side_engine: Engine,
    appointment_id: uuid.UUID,
    *,
    request_key: str | None,
    due: datetime,
) -> None:
    """Commit "check this appointment's job" on its own, then hold its row lock in the
    request's transaction, so ``check_jobs`` leaves it alone while the request runs."""
    table = JobCheck.__table__
    stmt = insert(table).values(
        appointment_id=appointment_id, request_key=request_key, due_at=due, attempts=0, created_at=utcnow()
    )
    _side_engine_write(
        side_engine,
        stmt.on_conflict_do_update(index_elements=["appointment_id"], set_={"due_at": stmt.excluded.due_at}),
    )
    session.execute(
        select(JobCheck.appointment_id).where(JobCheck.appointment_id == appointment_id).with_for_update()
    )


def _disarm_job_check(session: Session, appointment_id: uuid.UUID) -> None:
    session.execute(delete(JobCheck).where(JobCheck.appointment_id == appointment_id))


def _reusable_appointment_id(session: Session, request_key: str | None) -> uuid.UUID | None:
    if not request_key:
        return None
    return session.scalar(select(JobCheck.appointment_id).where(JobCheck.request_key == request_key))


def _message_data(appointment: Appointment, tz: Any) -> dict[str, Any]:
    return {
        "appointment_id": str(appointment.id),
        "start": appointment.start_at.astimezone(tz).isoformat(),
        "end": appointment.end_at.astimezone(tz).isoformat(),
        "vehicle": f"{appointment.vehicle_make} {appointment.vehicle_model}",
        "plate": appointment.vehicle_plate,
        "work": appointment.work_description,
    }


def _job_refused(action: str, exc: JobNotChangeable) -> domain.JobAlreadyStarted:
    return domain.JobAlreadyStarted(action, exc.current_status)


@dataclass(frozen=True)
class Clients:
    """What booking needs besides the session: the two services called inline and a
    second database engine for the ``JobCheck`` rows committed on their own."""

    vehicles: VehicleDirectory
    jobs: JobDirectory
    side_engine: Engine
    grace: timedelta


def book_appointment(
    *,
    session: Session,
    clients: Clients,
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
    domain.check_appointment_time(rules, start, end, now=now)
    kind = data.get("bay_kind")
    bay = _requested_bay(session, data.get("bay_id"), kind)
    technician = _requested_technician(session, data.get("technician_id"))
    conflicts = domain.find_conflicts(
        _bookings_between(session, start, end),
        start,
        end,
        vehicle_id=data["vehicle_id"],
        technician_id=technician.id if technician else None,
    )
    _check_conflicts(conflicts, bay=bay, technician=technician)
    candidates = [bay] if bay else [b for b in _active_bays(session, kind) if b.id not in conflicts.busy_bays]
    if not candidates:
        raise domain.NoBayFree(kind)

    vehicle = clients.vehicles.get_vehicle(data["vehicle_id"])
    if vehicle is None:
        raise domain.InvalidResource("vehicle_id", "vehicle-management does not know this vehicle")
    if vehicle.status != "active":
        raise domain.InvalidResource("vehicle_id", f"the vehicle is {vehicle.status}")

    appointment_id = _reusable_appointment_id(session, request_key) or uuid7()
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
            status=domain.BOOKED,
            booked_by=booked_by,
        )
        session.add(appointment)
        return appointment

    appointment = _place(
        session,
        candidates,
        new_appointment,
        chosen_by_caller=bay is not None,
        technician=technician,
        kind=kind,
    )
    _arm_job_check(
        session, clients.side_engine, appointment.id, request_key=request_key, due=now + clients.grace
    )
    try:
        job = clients.jobs.create_job(
            appointment_id=appointment.id,
            vehicle_id=appointment.vehicle_id,
            customer_id=appointment.customer_id,
            planned_start=start,
            planned_end=end,
            description=domain.describe_work(appointment.work_description, codes),
        )
    except JobNotChangeable as exc:
        # The appointment id came from an earlier attempt with this Idempotency-Key,
        # whose job is for another vehicle or customer.
        raise domain.AbandonedBookingAttempt() from exc
    if job.status == "cancelled":
        raise domain.AbandonedBookingAttempt()
    # Not a change of the appointment anyone has seen: it stays at version 1.
    session.execute(update(Appointment).where(Appointment.id == appointment.id).values(job_id=job.id))
    set_committed_value(appointment, "job_id", job.id)
    enqueue(
        session,
        notification_management.notify(
            customer_id=appointment.customer_id,
            type_="appointment_confirmed",
            data=_message_data(appointment, rules.tz),
            idempotency_key=f"appointment-confirmed-{appointment.id}",
        ),
    )
    _disarm_job_check(session, appointment.id)
    session.flush()
    return appointment


def get_appointment(*, session: Session, appointment_id: uuid.UUID) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise domain.AppointmentNotFound(appointment_id)
    return appointment


def _lock_appointment(session: Session, appointment_id: uuid.UUID) -> Appointment:
    appointment = session.scalars(
        select(Appointment)
        .where(Appointment.id == appointment_id)
        .with_for_update(of=Appointment)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if appointment is None:
        raise domain.AppointmentNotFound(appointment_id)
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


def list_appointments(
    *, session: Session, filters: AppointmentFilters, limit: int, cursor: str | None
) -> Page:
    """In start order (then id): a vehicle's or customer's visits, a bay's or technician's day."""
    stmt = select(Appointment)
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
    clients: Clients,
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
    appointment = _lock_appointment(session, appointment_id)
    ensure_version(appointment.version, expected_versions)
    domain.ensure_reschedulable(appointment.status)
    rules = workshop(session)
    start = data["start"]
    end = data.get("end") or start + (appointment.end_at - appointment.start_at)
    domain.check_appointment_time(rules, start, end, now=now)
    bay = _requested_bay(session, data.get("bay_id"), None)
    technician = (
        _requested_technician(session, data["technician_id"])
        if "technician_id" in data
        else appointment.technician
    )
    if technician is not None and not technician.active:
        raise domain.InvalidResource("technician_id", f"{technician.name} is not active")
    conflicts = domain.find_conflicts(
        _bookings_between(session, start, end),
        start,
        end,
        vehicle_id=appointment.vehicle_id,
        technician_id=technician.id if technician else None,
        ignore=appointment.id,
    )
    _check_conflicts(conflicts, bay=bay, technician=technician)
    current = appointment.bay
    if bay is not None:
        candidates = [bay]
    else:
        same_kind = [b for b in _active_bays(session, current.kind) if b.id not in conflicts.busy_bays]
        # Keep the bay the appointment has when it is free; else the first free one of its kind.
        candidates = sorted(same_kind, key=lambda b: b.id != current.id)
    if not candidates:
        raise domain.NoBayFree(current.kind)
    previous = (appointment.start_at, appointment.end_at, appointment.bay_id, appointment.technician_id)
    if previous == (start, end, candidates[0].id, technician.id if technician else None):
        return appointment
    previous_start, previous_end = appointment.start_at, appointment.end_at

    def move(candidate: Bay) -> Appointment:
        appointment.start_at, appointment.end_at = start, end
        appointment.bay = candidate
        appointment.technician = technician
        return appointment

    _place(
        session, candidates, move, chosen_by_caller=bay is not None, technician=technician, kind=current.kind
    )
    if (previous_start, previous_end) != (start, end):
        _arm_job_check(
            session, clients.side_engine, appointment.id, request_key=None, due=now + clients.grace
        )
        try:
            clients.jobs.reschedule_job(appointment.job_id, planned_start=start, planned_end=end)
        except JobNotChangeable as exc:
            raise _job_refused("reschedule", exc) from exc
        data_ = _message_data(appointment, rules.tz) | {
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
        _disarm_job_check(session, appointment.id)
    session.flush()
    return appointment


def cancel_appointment(
    *,
    session: Session,
    clients: Clients,
    appointment_id: uuid.UUID,
    reason: str | None,
    now: datetime | None = None,
) -> Appointment:
    """Cancel the appointment and its job (refused with 409 once the work has
    started); the customer is told. Cancelling again changes nothing."""
    now = now or utcnow()
    appointment = _lock_appointment(session, appointment_id)
    if appointment.status == domain.CANCELLED:
        return appointment
    status = domain.transition("cancel", appointment.status)
    reason = (reason or "").strip() or None
    _arm_job_check(session, clients.side_engine, appointment.id, request_key=None, due=now + clients.grace)
    try:
        clients.jobs.cancel_job(appointment.job_id, reason=reason or "appointment cancelled")
    except JobNotChangeable as exc:
        raise _job_refused("cancel the appointment", exc) from exc
    appointment.status = status
    appointment.cancelled_at = now
    appointment.cancel_reason = reason
    session.flush()
    data = _message_data(appointment, workshop(session).tz)
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
    _disarm_job_check(session, appointment.id)
    session.flush()
    return appointment


def mark_no_show(
    *, session: Session, clients: Clients, appointment_id: uuid.UUID, now: datetime | None = None
) -> Appointment:
    """The customer did not come: the bay is free again and the job is cancelled."""
    now = now or utcnow()
    appointment = _lock_appointment(session, appointment_id)
    status = domain.transition("no-show", appointment.status)
    domain.ensure_no_show_allowed(appointment.start_at, now)
    _arm_job_check(session, clients.side_engine, appointment.id, request_key=None, due=now + clients.grace)
    try:
        clients.jobs.cancel_job(appointment.job_id, reason="the customer did not come (no-show)")
    except JobNotChangeable as exc:
        raise _job_refused("mark a no-show", exc) from exc
    appointment.status = status
    appointment.no_show_at = now
    _disarm_job_check(session, appointment.id)
    session.flush()
    return appointment


def check_in(*, session: Session, appointment_id: uuid.UUID, now: datetime | None = None) -> Appointment:
    """The vehicle has arrived."""
    appointment = _lock_appointment(session, appointment_id)
    appointment.status = domain.transition("check-in", appointment.status)
    appointment.checked_in_at = now or utcnow()
    session.flush()
    return appointment


def complete(*, session: Session, appointment_id: uuid.UUID, now: datetime | None = None) -> Appointment:
    """The vehicle has left the bay: the rest of the booked time is free again."""
    appointment = _lock_appointment(session, appointment_id)
    appointment.status = domain.transition("complete", appointment.status)
    appointment.completed_at = now or utcnow()
    session.flush()
    return appointment


# ------------------------------------------------------------------------ availability


def find_availability(
    *,
    session: Session,
    first_day: date,
    last_day: date,
    duration_minutes: int,
    bay_kind: str | None = None,
    technician_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Free start times with the free bays at each: two queries for the whole range
    (bays, then the active appointments in it), the rest in Python over the grid."""
    now = now or utcnow()
    rules = workshop(session)
    errors: dict[str, list[str]] = {}
    if last_day < first_day:
        errors["to"] = ["must not be before from"]
    elif (last_day - first_day).days >= MAX_AVAILABILITY_DAYS:
        errors["to"] = [f"the range is at most {MAX_AVAILABILITY_DAYS} days"]
    if duration_minutes % rules.slot_minutes:
        errors["duration"] = [f"must be a multiple of the {rules.slot_minutes}-minute slot"]
    if errors:
        raise Unprocessable("the availability question cannot be answered", errors=errors)
    bays = _active_bays(session, bay_kind)
    tz = rules.tz
    low, high = domain.day_bounds(first_day, tz)[0], domain.day_bounds(last_day, tz)[1]
    busy: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {bay.id: [] for bay in bays}
    technician_busy: list[tuple[datetime, datetime]] | None = [] if technician_id else None
    # Ids as text: parsing thousands of UUIDs would cost more than the query.
    by_text = {str(bay.id): bay.id for bay in bays}
    wanted = str(technician_id) if technician_id else None
    rows = session.execute(
        select(
            Appointment.bay_id.cast(String),
            Appointment.technician_id.cast(String),
            Appointment.start_at,
            Appointment.end_at,
        ).where(
            Appointment.status.in_(domain.ACTIVE),
            Appointment.start_at > low - LONGEST_APPOINTMENT,
            Appointment.start_at < high,
            Appointment.end_at > low,
        )
    )
    for bay_text, technician_text, start, end in rows:
        bay_id = by_text.get(bay_text)
        if bay_id is not None:
            busy[bay_id].append((start, end))
        if technician_busy is not None and technician_text == wanted:
            technician_busy.append((start, end))
    slots = domain.availability(
        rules,
        first_day=first_day,
        last_day=last_day,
        duration=timedelta(minutes=duration_minutes),
        now=now,
        bays=[bay.id for bay in bays],
        busy=busy,
        technician_busy=technician_busy,
    )
    return {
        "time_zone": rules.time_zone,
        "from": first_day,
        "to": last_day,
        "duration_minutes": duration_minutes,
        "bays": bays,
        "slots": [
            {"start": s.start.astimezone(tz), "end": s.end.astimezone(tz), "bay_ids": list(s.bay_ids)}
            for s in slots
        ],
    }


# ----------------------------------------------------------------------------- planning


def _job_statuses(
    jobs: JobDirectory, job_ids: list[uuid.UUID], *, parallel: int, request_id: str | None
) -> tuple[dict[uuid.UUID, str], bool]:
    """Each job's status, or "unknown" when maintenance-job-management cannot say: a
    planning board that shows the appointments without job statuses beats none at all.
    After the first failure no further look-ups start."""
    statuses: dict[uuid.UUID, str] = {}
    failed = False

    def look_up(job_id: uuid.UUID) -> None:
        nonlocal failed
        if failed:
            statuses[job_id] = "unknown"
            return
        try:
            job = jobs.get_job(job_id, request_id=request_id)
            statuses[job_id] = job.status if job else "missing"
        except DependencyFailed:
            failed = True
            statuses[job_id] = "unknown"

    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(job_ids)))) as pool:
        list(pool.map(look_up, job_ids))
    return statuses, not failed


def planning(
    *,
    session: Session,
    jobs: JobDirectory,
    first_day: date,
    last_day: date,
    include_cancelled: bool = False,
    parallel: int = 8,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The appointments of some days, day by day in start order, with vehicle, bay,
    technician and the job's status."""
    rules = workshop(session)
    tz = rules.tz
    low, high = domain.day_bounds(first_day, tz)[0], domain.day_bounds(last_day, tz)[1]
    stmt = select(Appointment).where(Appointment.start_at >= low, Appointment.start_at < high)
    if not include_cancelled:
        stmt = stmt.where(Appointment.status != domain.CANCELLED)
    appointments = list(session.scalars(stmt.order_by(Appointment.start_at, Appointment.id)))
    job_ids = list(dict.fromkeys(a.job_id for a in appointments if a.job_id))
    statuses, complete_answer = _job_statuses(jobs, job_ids, parallel=parallel, request_id=request_id)
    closed = {
        date.fromisoformat(c["date"]): c.get("reason") for c in get_settings(session=session).closed_dates
    }
    days = []
    day = first_day
    while day <= last_day:
        days.append(
            {
                "date": day,
                "closed": day in closed or not rules.intervals(day),
                "closed_reason": closed.get(day),
                "opening_hours": [
                    {"opens": domain.format_clock(i.opens), "closes": domain.format_clock(i.closes)}
                    for i in rules.intervals(day)
                ],
                "appointments": [],
            }
        )
        day += timedelta(days=1)
    for appointment in appointments:
        index = (domain.local_date(appointment.start_at, tz) - first_day).days
        days[index]["appointments"].append(
            {
                "appointment": appointment,
                "start": appointment.start_at.astimezone(tz),
                "end": appointment.end_at.astimezone(tz),
                "job_status": statuses.get(appointment.job_id) if appointment.job_id else None,
            }
        )
    return {
        "time_zone": rules.time_zone,
        "from": first_day,
        "to": last_day,
        "job_statuses_complete": complete_answer,
        "days": days,
    }


# ---------------------------------------------------------------------------- reminders


def send_reminders(
    *, session: Session, now: datetime | None = None, day: date | None = None
) -> tuple[date, int]:
    """Put one reminder per booked appointment of ``day`` (tomorrow in the workshop's
    zone) in the outbox. The reminder rows are inserted ``ON CONFLICT DO NOTHING`` in
    the same transaction as the outbox rows: a second run, even a concurrent one (it
    waits on the first one's rows), inserts nothing and sends nothing."""
    now = now or utcnow()
    rules = workshop(session)
    day, low, high = domain.reminder_window(rules, now, day)
    due = (
        select(Appointment.id, Appointment.start_at, literal(now))
        .where(Appointment.status == domain.BOOKED, Appointment.start_at >= low, Appointment.start_at < high)
        .order_by(Appointment.start_at, Appointment.id)
    )
    table = Reminder.__table__
    reminded = session.scalars(
        insert(table)
        .from_select(["appointment_id", "start_at", "sent_at"], due)
        .on_conflict_do_nothing()
        .returning(table.c.appointment_id)
    ).all()
    ordered = (
        select(Appointment).where(Appointment.id.in_(reminded)).order_by(Appointment.start_at, Appointment.id)
    )
    appointments = session.scalars(ordered) if reminded else []
    for appointment in appointments:
        stamp = appointment.start_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        enqueue(
            session,
            notification_management.notify(
                customer_id=appointment.customer_id,
                type_="appointment_reminder",
                data=_message_data(appointment, rules.tz),
                idempotency_key=f"appointment-reminder-{appointment.id}-{stamp}",
            ),
        )
    session.flush()
    return day, len(reminded)


# --------------------------------------------------------------------------- job checks


@dataclass
class CheckStats:
    settled: int = 0
    retried: int = 0


def _reconcile(session: Session, jobs: JobDirectory, appointment_id: uuid.UUID) -> str:
    """Make the job match the appointment as committed here; what was done."""
    appointment = session.get(Appointment, appointment_id, populate_existing=True)
    try:
        if appointment is None:
            job = jobs.find_job(appointment_id)
            if job is None:
                return "no job was made"
            if job.status not in JOB_OPEN:
                return f"the job of the abandoned booking is {job.status}; left as it is"
            jobs.cancel_job(job.id, reason="the booking was not completed")
            return f"cancelled job {job.id} of a booking that was not completed"
        if appointment.job_id is None:
            return "the appointment has no job"
        if appointment.status in domain.ACTIVE:
            jobs.reschedule_job(
                appointment.job_id, planned_start=appointment.start_at, planned_end=appointment.end_at
            )
            return "the job's planned times match the appointment"
        if appointment.status in (domain.CANCELLED, domain.NO_SHOW):
            jobs.cancel_job(appointment.job_id, reason="appointment cancelled")
            return "the job is cancelled like its appointment"
        return "the appointment is completed"
    except JobNotChangeable as exc:
        log.warning(
            "job of appointment %s cannot be put right (%s): %s", appointment_id, exc.current_status, exc
        )
        return f"maintenance-job-management refused: {exc}"


def check_jobs(
    *,
    session: Session,
    jobs: JobDirectory,
    now: datetime | None = None,
    policy: RetryPolicy | None = None,
    limit: int = 100,
) -> CheckStats:
    """Work through the due ``JobCheck`` rows one at a time (``SKIP LOCKED``: rows of
    requests still running are locked by them, and two checkers never take one row).
    A row whose job service does not answer is tried again later, with backoff."""
    now = now or utcnow()
    policy = policy or RetryPolicy(max_attempts=1_000_000, base_seconds=30, max_seconds=3600)
    stats = CheckStats()
    while stats.settled + stats.retried < limit:
        row = session.scalars(
            select(JobCheck)
            .where(JobCheck.due_at <= now)
            .order_by(JobCheck.due_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            break
        try:
            outcome = _reconcile(session, jobs, row.appointment_id)
        except DependencyFailed as exc:
            row.attempts += 1
            row.last_error = str(exc.detail)
            row.due_at = now + timedelta(seconds=policy.delay(row.attempts))
            stats.retried += 1
            log.info("job check of appointment %s: %s; trying again later", row.appointment_id, exc.detail)
        else:
            log.info("job check of appointment %s: %s", row.appointment_id, outcome)
            session.delete(row)
            stats.settled += 1
        session.commit()
    return stats
