"""Maintenance job use cases. Each takes its dependencies as keyword arguments, flushes
but never commits (the HTTP layer makes one request one transaction), and knows no HTTP.

Every change to a job first locks its row (``SELECT ... FOR UPDATE``): concurrent
changes to one job run one after the other, and the second one sees what the first
did — two concurrent transitions give one winner and one 409 naming the new status.
Requests to other services go into the outbox in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, joinedload, lazyload

from maintenance_job_management import domain
from maintenance_job_management.clients import invoicing, notification_management
from maintenance_job_management.models import Approval, Estimate, Job, JobLine, TimeEntry, utcnow
from service_kit.etag import ensure_version
from service_kit.outbox import enqueue
from service_kit.pagination import Page, keyset_page

# A clock a few minutes fast on a technician's tablet is not a future completion.
CLOCK_SKEW = timedelta(minutes=5)
JOB_FIELDS = ("description", "assigned_technician", "odometer_in", "odometer_unit", "technician_notes")


# ------------------------------------------------------------------------------ helpers


def _lock_job(session: Session, job_id: uuid.UUID) -> Job:
    job = session.scalars(
        select(Job).where(Job.id == job_id).with_for_update(of=Job).execution_options(populate_existing=True)
    ).one_or_none()
    if job is None:
        raise domain.JobNotFound(job_id)
    return job


def _touch(job: Job) -> None:
    """The job's representation changed (its lines, clock or status): new version."""
    job.updated_at = utcnow()


def _line(job: Job, line_id: uuid.UUID) -> JobLine:
    for line in job.lines:
        if line.id == line_id:
            return line
    raise domain.LineNotFound(job.id, line_id)


def _close_clocks(job: Job, at: datetime) -> None:
    """A clock runs only while the job is in progress."""
    for entry in job.time_entries:
        if entry.clocked_out_at is None:
            entry.clocked_out_at = max(at, entry.clocked_in_at)


def _put_on_hold(session: Session, job: Job, *, kind: str, reason: str) -> None:
    job.status = domain.ON_HOLD
    job.hold_kind = kind
    job.hold_reason = reason
    _close_clocks(job, utcnow())
    _touch(job)
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


def _apply_approval_rule(session: Session, job: Job, *, margin_percent: int) -> None:
    """Work growing past the approved total plus the margin stops the job until the
    customer approves again; that approval lets it go on by itself."""
    exceeded = domain.approval_exceeded(job.lines, margin_percent=margin_percent)
    if exceeded and job.status == domain.IN_PROGRESS:
        _put_on_hold(
            session,
            job,
            kind=domain.HOLD_APPROVAL,
            reason=f"the work exceeds the approved total by more than {margin_percent}%; "
            "waiting for the customer's approval",
        )
    elif not exceeded and job.status == domain.ON_HOLD and job.hold_kind == domain.HOLD_APPROVAL:
        job.status = domain.IN_PROGRESS
        job.hold_kind = job.hold_reason = None


def _ensure_within_approval(job: Job, margin_percent: int) -> None:
    if domain.approval_exceeded(job.lines, margin_percent=margin_percent):
        raise domain.ApprovalExceeded(margin_percent)


# --------------------------------------------------------------------------------- jobs


def create_job(*, session: Session, data: dict[str, Any], currency: str) -> tuple[Job, bool]:
    """The job of an appointment, made once: a second create (or a concurrent one)
    with the same appointment id returns the first job. True when it was made now."""
    domain.ensure_planned_order(data["planned_start"], data["planned_end"])
    table = Job.__table__
    now = utcnow()
    made = session.execute(
        insert(table)
        .values(
            appointment_id=data["appointment_id"],
            vehicle_id=data["vehicle_id"],
            customer_id=data["customer_id"],
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
    job = _lock_job(session, job_id)
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
    job = _lock_job(session, job_id)
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
    job = _lock_job(session, job_id)
    status = domain.transition("start", job.status)
    _ensure_within_approval(job, margin_percent)
    job.status = status
    job.actual_start = job.actual_start or utcnow()
    job.assigned_technician = data.get("assigned_technician") or job.assigned_technician or actor
    for field in ("odometer_in", "odometer_unit"):
        if data.get(field) is not None:
            setattr(job, field, data[field])
    session.flush()
    return job


def hold_job(*, session: Session, job_id: uuid.UUID, reason: str) -> Job:
    job = _lock_job(session, job_id)
    domain.transition("hold", job.status)
    _put_on_hold(session, job, kind=domain.HOLD_MANUAL, reason=domain.required_text("reason", reason))
    return job


def resume_job(*, session: Session, job_id: uuid.UUID, margin_percent: int) -> Job:
    job = _lock_job(session, job_id)
    status = domain.transition("resume", job.status)
    _ensure_within_approval(job, margin_percent)
    job.status = status
    job.hold_kind = job.hold_reason = None
    session.flush()
    return job


def complete_job(*, session: Session, job_id: uuid.UUID, data: dict[str, Any], margin_percent: int) -> Job:
    """Record the actual end and notes, and — in this same transaction — ask invoicing
    to invoice the job and notification-management to tell the customer."""
    job = _lock_job(session, job_id)
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
    session.flush()
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
    job = _lock_job(session, job_id)
    if job.status == domain.CANCELLED:
        return job
    job.status = domain.transition("cancel", job.status)
    job.cancel_reason = domain.required_text("reason", reason)
    job.cancelled_at = utcnow()
    job.hold_kind = job.hold_reason = None
    _close_clocks(job, job.cancelled_at)
    session.flush()
    return job


# ------------------------------------------------------------------------------- lines


def add_line(
    *,
    session: Session,
    job_id: uuid.UUID,
    data: dict[str, Any],
    actor: str,
    default_vat_rate: Decimal,
) -> JobLine:
    """A line is pending until the customer decides on it, unless the booked request
    already covers it (``covered_by_booking``): then the booking is its approval."""
    job = _lock_job(session, job_id)
    domain.ensure_not_final(job.status)
    kind = data["kind"]
    domain.ensure_complete_line(kind, data)
    values = domain.line_values(kind, {**data, "vat_rate": data.get("vat_rate", default_vat_rate)})
    line = JobLine(
        job=job,
        kind=kind,
        created_by=actor,
        covered_by_booking=data.get("covered_by_booking", False),
        approval=domain.PENDING,
        done=False,
        **values,
    )
    session.add(line)
    if line.covered_by_booking:
        line.approval = domain.APPROVED
        line.approved_net = line.net_amount
        session.flush()
        session.add(
            Approval(
                job_id=job.id,
                line_id=line.id,
                decision=domain.APPROVED,
                decided_by=actor,
                channel=domain.BOOKING_CHANNEL,
                decided_at=utcnow(),
                shown=domain.shown_line(line),
                note="covered by the booked request",
                recorded_by=actor,
            )
        )
    _touch(job)
    session.flush()
    return line


def update_line(
    *,
    session: Session,
    job_id: uuid.UUID,
    line_id: uuid.UUID,
    changes: dict[str, Any],
    expected_versions: set[int] | None,
    margin_percent: int,
) -> JobLine:
    job = _lock_job(session, job_id)
    ensure_version(job.version, expected_versions)
    domain.ensure_not_final(job.status)
    line = _line(job, line_id)
    if line.approval == domain.DECLINED:
        raise domain.DeclinedLineKept(line.id)
    if "done" in changes:
        done = changes.pop("done")
        if done != line.done:
            domain.ensure_can_mark_done(line, job.status)
            line.done, line.done_at = done, (utcnow() if done else None)
    for field, value in domain.line_values(line.kind, changes).items():
        setattr(line, field, value)
    _touch(job)
    session.flush()
    _apply_approval_rule(session, job, margin_percent=margin_percent)
    session.flush()
    return line


def remove_line(
    *, session: Session, job_id: uuid.UUID, line_id: uuid.UUID, expected_versions: set[int] | None
) -> Job:
    """Only a line still awaiting the customer's decision can go; a decided one is part
    of the audit trail (an approved one can be corrected, a declined one is kept)."""
    job = _lock_job(session, job_id)
    ensure_version(job.version, expected_versions)
    domain.ensure_not_final(job.status)
    line = _line(job, line_id)
    if line.approval == domain.DECLINED:
        raise domain.DeclinedLineKept(line.id)
    if line.approval == domain.APPROVED:
        raise domain.LineHasApproval(line.id)
    job.lines.remove(line)
    _touch(job)
    session.flush()
    return job


def get_line(*, session: Session, job_id: uuid.UUID, line_id: uuid.UUID) -> JobLine:
    return _line(get_job(session=session, job_id=job_id), line_id)


def list_recommendations(
    *,
    session: Session,
    vehicle_id: uuid.UUID | None,
    customer_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Declined work, newest first: what to offer at the next visit."""
    stmt = (
        select(JobLine)
        .join(Job)
        .where(JobLine.approval == domain.DECLINED)
        .options(joinedload(JobLine.job).options(lazyload(Job.lines), lazyload(Job.time_entries)))
    )
    if vehicle_id:
        stmt = stmt.where(Job.vehicle_id == vehicle_id)
    if customer_id:
        stmt = stmt.where(Job.customer_id == customer_id)
    return keyset_page(session, stmt, key_columns=[JobLine.id], limit=limit, cursor=cursor, descending=True)


# --------------------------------------------------------------------------- estimates


def send_estimate(*, session: Session, job_id: uuid.UUID, data: dict[str, Any], actor: str) -> Estimate:
    """Put the lines awaiting approval before the customer, recording exactly what they
    see; by email or SMS that goes out as an ``estimate_ready`` notification."""
    job = _lock_job(session, job_id)
    domain.ensure_not_final(job.status)
    requested = data.get("line_ids")
    if requested:
        candidates = {line.id: line for line in domain.estimate_candidates(job.lines, include=requested)}
        unknown = [str(i) for i in requested if i not in {line.id for line in job.lines}]
        settled = [str(i) for i in requested if i not in candidates and str(i) not in unknown]
        if unknown or settled:
            errors = {}
            if unknown:
                errors["line_ids"] = [f"not lines of this job: {', '.join(unknown)}"]
            if settled:
                errors.setdefault("line_ids", []).append(
                    f"already approved as they are: {', '.join(settled)}"
                )
            raise domain.InvalidDecision(errors)
        lines = [candidates[i] for i in dict.fromkeys(requested)]
    else:
        lines = [line for line in domain.estimate_candidates(job.lines) if line.approval != domain.DECLINED]
    if not lines:
        raise domain.NothingToEstimate()
    for earlier in session.scalars(
        select(Estimate).where(Estimate.job_id == job.id, Estimate.status == domain.ESTIMATE_SENT)
    ):
        earlier.status = domain.ESTIMATE_SUPERSEDED
    estimate = Estimate(
        job_id=job.id,
        status=domain.ESTIMATE_SENT,
        channel=data["channel"],
        snapshot=domain.estimate_snapshot(lines, currency=job.currency, message=data.get("message")),
        sent_by=actor,
        sent_at=utcnow(),
    )
    session.add(estimate)
    session.flush()
    if estimate.channel in domain.NOTIFIED_ESTIMATE_CHANNELS:
        enqueue(
            session,
            notification_management.notify(
                customer_id=job.customer_id,
                type_="estimate_ready",
                data={"job_id": str(job.id), "estimate_id": str(estimate.id), **estimate.snapshot},
                idempotency_key=f"estimate-ready-{estimate.id}",
                channel=estimate.channel,
            ),
        )
    return estimate


def _estimate(session: Session, job_id: uuid.UUID, estimate_id: uuid.UUID) -> Estimate:
    estimate = session.get(Estimate, estimate_id)
    if estimate is None or estimate.job_id != job_id:
        raise domain.EstimateNotFound(job_id, estimate_id)
    return estimate


def get_estimate(*, session: Session, job_id: uuid.UUID, estimate_id: uuid.UUID) -> Estimate:
    get_job(session=session, job_id=job_id)
    return _estimate(session, job_id, estimate_id)


def list_estimates(*, session: Session, job_id: uuid.UUID, limit: int, cursor: str | None) -> Page:
    get_job(session=session, job_id=job_id)
    stmt = select(Estimate).where(Estimate.job_id == job_id)
    return keyset_page(session, stmt, key_columns=[Estimate.id], limit=limit, cursor=cursor, descending=True)


def decide_estimate(
    *,
    session: Session,
    job_id: uuid.UUID,
    estimate_id: uuid.UUID,
    data: dict[str, Any],
    actor: str,
    margin_percent: int,
) -> Estimate:
    """Record the customer's decision on every line of an estimate: who decided, when,
    through which channel, and the line as they were shown it."""
    job = _lock_job(session, job_id)
    domain.ensure_not_final(job.status)
    estimate = _estimate(session, job_id, estimate_id)
    if estimate.status != domain.ESTIMATE_SENT:
        raise domain.EstimateNotOpen(estimate.id, estimate.status)
    decisions: dict[str, bool] = {}
    for entry in data["lines"]:
        key = str(entry["line_id"])
        if key in decisions:
            raise domain.InvalidDecision({"lines": [f"line {key} is decided twice"]})
        decisions[key] = entry["approved"]
    domain.check_decisions(estimate.snapshot, decisions)
    now = utcnow()
    decided_at = data.get("decided_at") or now
    if decided_at > now + CLOCK_SKEW or decided_at < estimate.sent_at - CLOCK_SKEW:
        raise domain.InvalidTimes("decided_at", "must lie between sending the estimate and now")
    decided_by = domain.required_text("decided_by", data["decided_by"])
    lines = {str(line.id): line for line in job.lines}
    shown = {entry["line_id"]: entry for entry in estimate.snapshot["lines"]}
    gone = [line_id for line_id in shown if line_id not in lines]
    changed = domain.changed_since_shown([lines[i] for i in shown if i in lines], estimate.snapshot)
    if gone or changed:
        raise domain.EstimateStale([*gone, *changed])
    for line_id, approved in decisions.items():
        line = lines[line_id]
        line.approval = domain.APPROVED if approved else domain.DECLINED
        line.approved_net = line.net_amount if approved else None
        session.add(
            Approval(
                job_id=job.id,
                line_id=line.id,
                estimate_id=estimate.id,
                decision=line.approval,
                decided_by=decided_by,
                channel=data["channel"],
                decided_at=decided_at,
                shown=shown[line_id],
                note=data.get("note"),
                recorded_by=actor,
            )
        )
    estimate.status = domain.ESTIMATE_DECIDED
    estimate.decided_at = decided_at
    _touch(job)
    session.flush()
    _apply_approval_rule(session, job, margin_percent=margin_percent)
    session.flush()
    return estimate


def list_approvals(*, session: Session, job_id: uuid.UUID, limit: int, cursor: str | None) -> Page:
    """The audit trail of a job's decisions, newest first."""
    get_job(session=session, job_id=job_id)
    stmt = select(Approval).where(Approval.job_id == job_id)
    return keyset_page(session, stmt, key_columns=[Approval.id], limit=limit, cursor=cursor, descending=True)


# -------------------------------------------------------------------------- time clock


def clock_in(*, session: Session, job_id: uuid.UUID, technician: str, actor: str) -> TimeEntry:
    job = _lock_job(session, job_id)
    if job.status != domain.IN_PROGRESS:
        raise domain.NotInProgress("clock in", job.status)
    running = session.scalars(
        select(TimeEntry).where(TimeEntry.technician == technician, TimeEntry.clocked_out_at.is_(None))
    ).first()
    if running is not None:
        raise domain.AlreadyClockedIn(technician, running.job_id)
    entry = TimeEntry(job_id=job.id, technician=technician, clocked_in_at=utcnow(), recorded_by=actor)
    job.time_entries.append(entry)
    _touch(job)
    # The partial unique index settles two simultaneous clock-ins: the loser gets a 409.
    session.flush()
    return entry


def clock_out(*, session: Session, job_id: uuid.UUID, technician: str) -> TimeEntry:
    job = _lock_job(session, job_id)
    entry = next(
        (e for e in job.time_entries if e.technician == technician and e.clocked_out_at is None), None
    )
    if entry is None:
        raise domain.NotClockedIn(technician, job.id)
    entry.clocked_out_at = utcnow()
    _touch(job)
    session.flush()
    return entry


@dataclass(frozen=True)
class TimeSheet:
    entries: list[TimeEntry]
    clocked_seconds: int
    clocked_hours_hundredths: int
    billed_labour_hours_hundredths: int
    clocked_in: list[str]
    per_technician: list[dict[str, Any]]


def time_sheet(*, session: Session, job_id: uuid.UUID) -> TimeSheet:
    """Clocked time beside the labour hours that will be billed."""
    job = get_job(session=session, job_id=job_id)
    per: dict[str, int] = {}
    for entry in job.time_entries:
        per[entry.technician] = per.get(entry.technician, 0) + entry.seconds
    summary = job.time
    return TimeSheet(
        entries=list(job.time_entries),
        per_technician=[
            {
                "technician": technician,
                "clocked_seconds": seconds,
                "clocked_hours_hundredths": domain.to_hours_hundredths(seconds),
            }
            for technician, seconds in sorted(per.items())
        ],
        **summary,
    )
