"""A maintenance job: made once from its appointment, read and listed, its details and
planned times changed, and its status changes — start, hold, resume, complete, cancel —
with the requests to other services they cause, put into the outbox in the same
transaction. Each status change is also told to workshop-scheduling, and the
appointment's status it reports back is kept on the job (docs/visits.md).

Every change to a job, here or in the other parts, first locks its row
(``lock_job``, ``SELECT ... FOR UPDATE``): concurrent changes to one job run one after
the other, and the second one sees what the first did — two concurrent transitions give
one winner and one 409 naming the new status."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from maintenance_job_management import domain
from maintenance_job_management.clients import invoicing, notification_management, workshop_scheduling
from maintenance_job_management.models import Job, utcnow
from service_kit.etag import ensure_version
from service_kit.outbox import enqueue
from service_kit.pagination import Page, keyset_page
from service_kit.problems import Unprocessable

# A clock a few minutes fast on a technician's tablet is not a future completion.
CLOCK_SKEW = timedelta(minutes=5)
JOB_FIELDS = ("description", "assigned_technician", "odometer_in", "odometer_unit", "technician_notes")

# ------------------------------------------------------------------------------ helpers


def lock_job(session: Session, job_id: uuid.UUID) -> Job:
    """The job, its row locked until the transaction ends: every change starts here."""
    job = session.scalars(
        select(Job).where(Job.id == job_id).with_for_update(of=Job).execution_options(populate_existing=True)
    ).one_or_none()
    if job is None:
        raise domain.JobNotFound(job_id)
    return job


def touch(job: Job) -> None:
    """The job's representation changed (its lines, clock or status): new version."""
    job.updated_at = utcnow()


def _close_clocks(job: Job, at: datetime) -> None:
    """A clock runs only while the job is in progress."""
    for entry in job.time_entries:
        if entry.clocked_out_at is None:
            entry.clocked_out_at = max(at, entry.clocked_in_at)


def status_changed(session: Session, job: Job, *, at: datetime | None = None) -> None:
    """Tell workshop-scheduling the job's new status (through the outbox, in this
    transaction), with the version the change gave the job: its appointment applies
    each version once and never an older one after a newer."""
    session.flush()
    enqueue(
        session,
        workshop_scheduling.job_status(
            appointment_id=job.appointment_id,
            job_id=job.id,
            status=job.status,
            version=job.version,
            changed_at=at or utcnow(),
            reason=job.cancel_reason if job.status == domain.CANCELLED else None,
        ),
    )


def put_on_hold(session: Session, job: Job, *, kind: str, reason: str) -> None:
    """Hold the job and tell the customer why: by hand, or by the approval rule."""
    job.status = domain.ON_HOLD
    job.hold_kind = kind
    job.hold_reason = reason
    _close_clocks(job, utcnow())
    touch(job)
    session.flush()
    enqueue(
        session,
        notification_management.notify(
            customer_id=job.customer_id,
            type_="job_on_hold",
            data={
                "job_id": str(job.id),
                "vehicle_id": str(job.vehicle_id),
                "reason": reason,
                "awaiting_approval": kind == domain.HOLD_APPROVAL,
            },
            # The version the hold produced names this hold and no other.
            idempotency_key=f"job-on-hold-{job.id}-v{job.version}",
        ),
    )
    status_changed(session, job)


def vehicle_fields(job: Job) -> dict[str, str | None]:
    """The vehicle as a message names it (null where the booking did not say)."""
    return {"plate": job.vehicle_plate, "make": job.vehicle_make, "model": job.vehicle_model}


def _ensure_within_approval(job: Job, margin_percent: int) -> None:
    if domain.approval_exceeded(job.lines, margin_percent=margin_percent):
        raise domain.ApprovalExceeded(margin_percent)


# --------------------------------------------------------------------------------- jobs


def create_job(*, session: Session, data: dict[str, Any], currency: str) -> tuple[Job, bool]:
    """The job of an appointment, made once: a second create (or a concurrent one)
    with the same appointment id returns the first job. True when it was made now."""
    domain.ensure_planned_order(data["planned_start"], data["planned_end"])
    # Declarative types ``__table__`` as any FROM clause; a mapped class's is its Table.
    table = cast(Table, Job.__table__)
    now = utcnow()
    made = session.execute(
        insert(table)
        .values(
            appointment_id=data["appointment_id"],
            vehicle_id=data["vehicle_id"],
            customer_id=data["customer_id"],
            vehicle_plate=data.get("vehicle_plate"),
            vehicle_make=data.get("vehicle_make"),
            vehicle_model=data.get("vehicle_model"),
            planned_start=data["planned_start"],
            planned_end=data["planned_end"],
            description=domain.required_text("description", data["description"]),
            currency=currency,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["appointment_id"])
        .returning(table.c.id)
    ).scalar_one_or_none()
    job = session.scalars(
        select(Job)
        .where(Job.appointment_id == data["appointment_id"])
        .execution_options(populate_existing=True)
    ).one()
    if made is None and (job.vehicle_id, job.customer_id) != (data["vehicle_id"], data["customer_id"]):
        raise domain.AppointmentHasAnotherJob(data["appointment_id"], job.id)
    return job, made is not None


def get_job(*, session: Session, job_id: uuid.UUID) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise domain.JobNotFound(job_id)
    return job


@dataclass(frozen=True)
class JobFilters:
    vehicle_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    status: str | None = None


def list_jobs(*, session: Session, filters: JobFilters, limit: int, cursor: str | None) -> Page:
    """Newest planned first: a vehicle's or a customer's history."""
    stmt = select(Job)
    if filters.vehicle_id:
        stmt = stmt.where(Job.vehicle_id == filters.vehicle_id)
    if filters.customer_id:
        stmt = stmt.where(Job.customer_id == filters.customer_id)
    if filters.appointment_id:
        stmt = stmt.where(Job.appointment_id == filters.appointment_id)
    if filters.status:
        stmt = stmt.where(Job.status == filters.status)
    return keyset_page(
        session, stmt, key_columns=[Job.planned_start, Job.id], limit=limit, cursor=cursor, descending=True
    )


def update_job(
    *, session: Session, job_id: uuid.UUID, changes: dict[str, Any], expected_versions: set[int] | None
) -> Job:
    job = lock_job(session, job_id)
    ensure_version(job.version, expected_versions)
    domain.ensure_not_final(job.status)
    if "description" in changes:
        changes = {**changes, "description": domain.required_text("description", changes["description"])}
    for field in JOB_FIELDS:
        if field in changes and getattr(job, field) != changes[field]:
            setattr(job, field, changes[field])
    session.flush()
    return job


def reschedule_job(
    *, session: Session, job_id: uuid.UUID, planned_start: datetime, planned_end: datetime
) -> Job:
    job = lock_job(session, job_id)
    domain.ensure_reschedulable(job.status)
    domain.ensure_planned_order(planned_start, planned_end)
    if (job.planned_start, job.planned_end) != (planned_start, planned_end):
        job.planned_start, job.planned_end = planned_start, planned_end
        session.flush()
    return job


# --------------------------------------------------------------------------- lifecycle


def start_job(
    *, session: Session, job_id: uuid.UUID, data: dict[str, Any], actor: str, margin_percent: int
) -> Job:
    job = lock_job(session, job_id)
    status = domain.transition("start", job.status)
    _ensure_within_approval(job, margin_percent)
    job.status = status
    job.actual_start = job.actual_start or utcnow()
    job.assigned_technician = data.get("assigned_technician") or job.assigned_technician or actor
    for field in ("odometer_in", "odometer_unit"):
        if data.get(field) is not None:
            setattr(job, field, data[field])
    status_changed(session, job)
    return job


def hold_job(*, session: Session, job_id: uuid.UUID, reason: str) -> Job:
    job = lock_job(session, job_id)
    domain.transition("hold", job.status)
    put_on_hold(session, job, kind=domain.HOLD_MANUAL, reason=domain.required_text("reason", reason))
    return job


def resume_job(*, session: Session, job_id: uuid.UUID, margin_percent: int) -> Job:
    job = lock_job(session, job_id)
    status = domain.transition("resume", job.status)
    _ensure_within_approval(job, margin_percent)
    job.status = status
    job.hold_kind = job.hold_reason = None
    status_changed(session, job)
    return job


def complete_job(*, session: Session, job_id: uuid.UUID, data: dict[str, Any], margin_percent: int) -> Job:
    """Record the actual end and notes, and — in this same transaction — ask invoicing
    to invoice the job and notification-management to tell the customer."""
    job = lock_job(session, job_id)
    status = domain.transition("complete", job.status)
    pending = sum(1 for line in job.lines if line.approval == domain.PENDING)
    if pending:
        raise domain.LinesAwaitDecision(pending)
    _ensure_within_approval(job, margin_percent)
    now = utcnow()
    actual_end = data.get("actual_end") or now
    if actual_end > now + CLOCK_SKEW:
        raise domain.InvalidTimes("actual_end", "must not be in the future")
    if job.actual_start and actual_end < job.actual_start:
        raise domain.InvalidTimes("actual_end", "must not be before the job started")
    job.status = status
    job.actual_end = actual_end
    job.completed_at = now
    if data.get("technician_notes") is not None:
        job.technician_notes = data["technician_notes"]
    if data.get("odometer_in") is not None:
        job.odometer_in = data["odometer_in"]
    _close_clocks(job, now)
    status_changed(session, job, at=now)
    enqueue(session, invoicing.invoice_job(job.id))
    enqueue(
        session,
        notification_management.notify(
            customer_id=job.customer_id,
            type_="vehicle_ready",
            data={
                "job_id": str(job.id),
                "vehicle_id": str(job.vehicle_id),
                "description": job.description,
                "completed_at": job.completed_at.isoformat(),
            },
            idempotency_key=f"vehicle-ready-{job.id}",
        ),
    )
    return job


def cancel_job(*, session: Session, job_id: uuid.UUID, reason: str) -> Job:
    """Cancelling a cancelled job changes nothing and is no error: a caller retrying
    after a lost answer gets the outcome it asked for."""
    job = lock_job(session, job_id)
    if job.status == domain.CANCELLED:
        return job
    job.status = domain.transition("cancel", job.status)
    job.cancel_reason = domain.required_text("reason", reason)
    job.cancelled_at = utcnow()
    job.hold_kind = job.hold_reason = None
    _close_clocks(job, job.cancelled_at)
    status_changed(session, job, at=job.cancelled_at)
    return job


# ---------------------------------------------------------------------- the appointment


def record_appointment_status(*, session: Session, job_id: uuid.UUID, data: dict[str, Any]) -> Job:
    """workshop-scheduling reports the status of the job's appointment (through its
    outbox, so maybe twice, maybe late): a version at or below the one kept changes
    nothing. ``arrived_at`` is when the vehicle was checked in; it stays once known.
    Nothing here changes the job's own status: a cancelled or missed appointment has
    already cancelled its job inline (docs/visits.md)."""
    job = lock_job(session, job_id)
    if data["appointment_id"] != job.appointment_id:
        raise Unprocessable(
            f"job {job.id} belongs to appointment {job.appointment_id}",
            errors={"appointment_id": ["is not this job's appointment"]},
        )
    if job.appointment_version is not None and data["appointment_version"] <= job.appointment_version:
        return job
    job.appointment_status = data["appointment_status"]
    job.appointment_version = data["appointment_version"]
    checked_in = data["appointment_status"] == workshop_scheduling.CHECKED_IN
    arrived = data.get("checked_in_at") or (data["changed_at"] if checked_in else None)
    if arrived is not None and job.arrived_at is None:
        job.arrived_at = arrived
    session.flush()
    return job
