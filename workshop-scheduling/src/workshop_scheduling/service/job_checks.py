"""Job checks: "the job of this appointment may not match it", armed before a job is
changed and disarmed by the transaction that records the change.

A booking writes its check in the transaction of its reservation; a reschedule, cancel
or no-show claims the appointment with its check (``claim_change``: which change, the
``intent``), committed before the job is asked, and holds it until it confirms. A
``JobCheck`` row that survives (the job was made or changed but the change never
confirmed: a timeout after the job service acted, a crash, a failed commit) is put
right by ``check_jobs`` once it is due: a reservation left behind is released, the job
is made to match the appointment (or, once cancelled, the appointment the job), and the
job of a booking that never happened is cancelled. A retry of a failed booking with the
same ``Idempotency-Key`` reuses its appointment id, so it adopts the job already made
instead of making a second. docs/orphan-jobs.md tells the whole story.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, or_, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service_kit.clock import utcnow
from service_kit.http_client import DependencyFailed
from service_kit.retry import RetryPolicy
from workshop_scheduling.clients.maintenance_jobs import JobDirectory, JobNotChangeable
from workshop_scheduling.domain.appointments import (
    ACTIVE,
    CANCELLED,
    NO_SHOW,
    RESERVED,
    AppointmentBeingChanged,
)
from workshop_scheduling.models import Appointment, JobCheck

log = logging.getLogger("workshop_scheduling")

JOB_OPEN = ("scheduled", "on_hold")
LOCK_NOT_AVAILABLE = "55P03"
# The changes of an appointment that wait for the job's answer (JobCheck.intent).
RESCHEDULE, CANCEL, NO_SHOW_INTENT = "reschedule", "cancel", "no_show"


# ------------------------------------------------------------------------------- arming


def job_check_row(
    appointment_id: uuid.UUID,
    *,
    request_key: str | None,
    due: datetime,
    intent: str | None = None,
    reason: str | None = None,
) -> Insert:
    """The statement writing "check this appointment's job" (due again, and with the new
    intent, if it exists)."""
    table = cast(Table, JobCheck.__table__)  # a declarative class's table is a Table
    stmt = insert(table).values(
        appointment_id=appointment_id,
        request_key=request_key,
        due_at=due,
        intent=intent,
        reason=reason,
        attempts=0,
        created_at=utcnow(),
    )
    again = {"due_at": stmt.excluded.due_at, "intent": stmt.excluded.intent, "reason": stmt.excluded.reason}
    return stmt.on_conflict_do_update(index_elements=["appointment_id"], set_=again)


def hold_job_check(session: Session, appointment_id: uuid.UUID) -> None:
    """Hold the check's row lock in the request's transaction, so ``check_jobs`` leaves
    it alone while the request runs (it skips locked rows; nobody else waits on them)."""
    session.execute(
        select(JobCheck.appointment_id).where(JobCheck.appointment_id == appointment_id).with_for_update()
    )


def _lock_nowait(session: Session, appointment_id: uuid.UUID) -> bool:
    """Lock the appointment's check if it has one; whether it has. Another request
    holding it (a change waiting for the job service, or check-jobs putting it right)
    is a 409 at once: nobody waits on a row held across a call."""
    try:
        with session.begin_nested():
            found = session.scalar(
                select(JobCheck.appointment_id)
                .where(JobCheck.appointment_id == appointment_id)
                .with_for_update(nowait=True)
            )
    except OperationalError as exc:
        if getattr(exc.orig, "pgcode", None) == LOCK_NOT_AVAILABLE:
            raise AppointmentBeingChanged(appointment_id) from exc
        raise
    return found is not None


def claim_change(
    side: Session, appointment_id: uuid.UUID, *, intent: str, reason: str | None, due: datetime
) -> None:
    """Step 1 of a reschedule, cancel or no-show, in the short transaction that holds the
    appointment's row (``side``, committed before the job is asked): 409 when another
    change of it is under way; what an earlier one left (it died, or its job call timed
    out) is taken over - the reservation of its move released - and the check written
    with this change's intent."""
    if _lock_nowait(side, appointment_id):
        release_move(side, appointment_id)
    side.execute(job_check_row(appointment_id, request_key=None, due=due, intent=intent, reason=reason))


def hold_claimed_change(session: Session, appointment_id: uuid.UUID) -> None:
    """Hold the check ``claim_change`` committed, in the request's transaction, until the
    change commits: a second change of the appointment meanwhile is a 409 (the row is
    locked), check-jobs skips it. A change that finds it taken already (another request
    took the check over between the two) is a 409 before anything is asked."""
    _lock_nowait(session, appointment_id)


def ensure_no_change_under_way(session: Session, appointment_id: uuid.UUID) -> None:
    """For a change made in the request's transaction alone (a reschedule to another bay
    or technician at the same times): 409 while another waits for the job service; what
    a dead one left is released."""
    if _lock_nowait(session, appointment_id):
        release_move(session, appointment_id)


def release_move(session: Session, appointment_id: uuid.UUID) -> bool:
    """Free the new time of a reschedule of the appointment that will not be confirmed."""
    result = session.execute(
        delete(Appointment).where(Appointment.move_of == appointment_id, Appointment.status == RESERVED)
    )
    return cast("CursorResult[Any]", result).rowcount > 0


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
    """Free the bay of a booking that will not be confirmed, or the new time of a
    reschedule of the appointment that will not be; whether it held one."""
    result = session.execute(
        delete(Appointment).where(
            or_(Appointment.id == appointment_id, Appointment.move_of == appointment_id),
            Appointment.status == RESERVED,
        )
    )
    return cast("CursorResult[Any]", result).rowcount > 0


# ------------------------------------------------------------------- putting jobs right


@dataclass
class CheckStats:
    settled: int = 0
    retried: int = 0
    released: int = 0  # reservations of bookings that never finished


def _reconcile(session: Session, jobs: JobDirectory, check: JobCheck, now: datetime) -> str:
    """Make the job match the appointment as committed here, or - when a cancel or
    no-show was under way and the job is cancelled, which cannot be undone - the
    appointment match the job; what was done."""
    from workshop_scheduling.service.appointments import apply_intent  # it uses these checks

    appointment_id = check.appointment_id
    appointment = session.get(Appointment, appointment_id, populate_existing=True)
    try:
        if (
            appointment is not None
            and appointment.job_id
            and appointment.status in ACTIVE
            and check.intent in (CANCEL, NO_SHOW_INTENT)
        ):
            job = jobs.get_job(appointment.job_id)
            if job is None or job.status != "cancelled":
                return f"the {check.intent} did not reach the job; the appointment stays"
            apply_intent(session, appointment, check, at=now)
            return f"the job is cancelled: the appointment's {check.intent} is completed"
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
            outcome = _reconcile(session, jobs, row, now)
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
