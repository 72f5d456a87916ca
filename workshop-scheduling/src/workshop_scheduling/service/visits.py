"""A visit as one state across the two services: what the job's status, reported by
maintenance-job-management through its outbox, does to its appointment.

The report may come twice or late: each carries the job's version, and one at or below
the version already kept changes nothing. A completed job completes the appointment (its
bay is free again); a cancelled job cancels it as staff would, the customer told once.
The appointment's own status changes go the other way in ``appointments.tell_job``.
docs/visits.md tells the whole story."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from workshop_scheduling.domain.appointments import (
    CANCELLED,
    COMPLETED,
    InvalidResource,
    follows_job,
    is_newer,
)
from workshop_scheduling.models import Appointment, JobCheck
from workshop_scheduling.service.appointments import (
    apply_intent,
    close_as_cancelled,
    lock_appointment,
    tell_job,
)
from workshop_scheduling.service.job_checks import CANCEL, NO_SHOW_INTENT


def record_job_status(*, session: Session, appointment_id: uuid.UUID, data: dict[str, Any]) -> Appointment:
    """Apply the job's reported status to its appointment; the appointment as it is now."""
    appointment = lock_appointment(session, appointment_id)
    if data["job_id"] != appointment.job_id:
        raise InvalidResource("job_id", f"is not the job of appointment {appointment.id}")
    if not is_newer(data["job_version"], appointment.job_version):
        return appointment
    appointment.job_status, appointment.job_version = data["job_status"], data["job_version"]
    changed_at = data["changed_at"]
    outcome = follows_job(appointment.status, data["job_status"])
    if outcome == COMPLETED:
        appointment.status = COMPLETED
        appointment.completed_at = changed_at
        tell_job(session, appointment, at=changed_at)
    elif outcome == CANCELLED:
        under_way = session.get(JobCheck, appointment.id)
        if under_way is not None and under_way.intent in (CANCEL, NO_SHOW_INTENT):
            # Staff's cancel or no-show waits for this very cancellation: it is made now
            # (the request finds it done), a no-show staying a no-show.
            apply_intent(session, appointment, under_way, at=changed_at)
        else:
            # The job's reason, like the reason staff give when they cancel the appointment.
            reason = (data.get("reason") or "").strip() or None
            close_as_cancelled(session, appointment, reason=reason, now=changed_at)
    session.flush()
    return appointment
