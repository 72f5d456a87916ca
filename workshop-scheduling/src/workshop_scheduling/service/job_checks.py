"""Job checks: "the job of this appointment may not match it", armed before a job is
changed and disarmed by the transaction that records the change.

A booking writes its check in the transaction of its reservation; a reschedule, cancel
or no-show commits its check on its own. A ``JobCheck`` row that survives (the job was
made but the booking never confirmed: a timeout after the job service acted, a crash, a
failed commit) is put right by ``check_jobs`` once it is due: a reservation left behind
is released, the job is made to match the appointment, and the job of a booking that
never happened is cancelled. A retry of a failed booking with the same
``Idempotency-Key`` reuses its appointment id, so it adopts the job already made
instead of making a second. docs/orphan-jobs.md tells the whole story.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session

from service_kit.clock import utcnow
from service_kit.http_client import DependencyFailed
from service_kit.retry import RetryPolicy
from workshop_scheduling.clients.maintenance_jobs import JobDirectory, JobNotChangeable
from workshop_scheduling.domain.appointments import ACTIVE, CANCELLED, NO_SHOW, RESERVED
from workshop_scheduling.models import Appointment, JobCheck

log = logging.getLogger("workshop_scheduling")

JOB_OPEN = ("scheduled", "on_hold")


# ------------------------------------------------------------------------------- arming


def job_check_row(appointment_id: uuid.UUID, *, request_key: str | None, due: datetime) -> Insert:
    """The statement writing "check this appointment's job" (due again if it exists)."""
    table = cast(Table, JobCheck.__table__)  # a declarative class's table is a Table
    stmt = insert(table).values(
        appointment_id=appointment_id, request_key=request_key, due_at=due, attempts=0, created_at=utcnow()
    )
    due_again = {"due_at": stmt.excluded.due_at}
    return stmt.on_conflict_do_update(index_elements=["appointment_id"], set_=due_again)


def hold_job_check(session: Session, appointment_id: uuid.UUID) -> None:
    """Hold the check's row lock in the request's transaction, so ``check_jobs`` leaves
    it alone while the request runs (it skips locked rows; nobody else waits on them)."""
    session.execute(
        select(JobCheck.appointment_id).where(JobCheck.appointment_id == appointment_id).with_for_update()
    )


def arm_job_check(
    session: Session,
    side_engine: Engine,
    appointment_id: uuid.UUID,
    *,
    request_key: str | None,
    due: datetime,
) -> None:
    """Commit "check this appointment's job" on its own, then hold it (reschedule,
    cancel, no-show; a booking writes its check with its reservation)."""
    with side_engine.begin() as connection:
        connection.execute(job_check_row(appointment_id, request_key=request_key, due=due))
    hold_job_check(session, appointment_id)


def disarm_job_check(session: Session, appointment_id: uuid.UUID) -> None:
    session.execute(delete(JobCheck).where(JobCheck.appointment_id == appointment_id))


def take_over_attempt(session: Session, request_key: str | None) -> uuid.UUID | None:
    """The appointment id of an earlier, failed attempt with this Idempotency-Key whose
    check is still pending: a retry that reuses it adopts that attempt's job. The check
    is locked (a checker putting it right is waited for, then it is gone), and the
    reservation the attempt left behind, if it died before releasing it, is released:
    the retry takes its place."""
    if not request_key:
        return None
    appointment_id = session.scalar(
        select(JobCheck.appointment_id).where(JobCheck.request_key == request_key).with_for_update()
    )
    if appointment_id is not None:
        release_reservation(session, appointment_id)
    return appointment_id


def release_reservation(session: Session, appointment_id: uuid.UUID) -> bool:
    """Free the bay of a booking that will not be confirmed; whether it held one."""
    result = session.execute(
        delete(Appointment).where(Appointment.id == appointment_id, Appointment.status == RESERVED)
    )
    return cast("CursorResult[Any]", result).rowcount > 0


# ------------------------------------------------------------------- putting jobs right


@dataclass
class CheckStats:
    settled: int = 0
    retried: int = 0
    released: int = 0  # reservations of bookings that never finished


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
        if appointment.status in ACTIVE:
            jobs.reschedule_job(
                appointment.job_id, planned_start=appointment.start_at, planned_end=appointment.end_at
            )
            return "the job's planned times match the appointment"
        if appointment.status in (CANCELLED, NO_SHOW):
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
    A reservation the row's booking left behind is released and committed first, so
    its bay is free before the job service is asked anything (and no booking of the
    bay waits on this transaction while it does). A row whose job service does not
    answer is tried again later, with backoff."""
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
        if release_reservation(session, row.appointment_id):
            log.info("released the reservation of %s: its booking never finished", row.appointment_id)
            stats.released += 1
            session.commit()  # the row comes round again, its appointment gone
            continue
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
